package api

import (
	"cmp"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A tenant's lists (users, connectors, tokens, admins) take ?q=, ?sort=,
// ?order=, ?limit= and ?offset=. They are applied to the list the
// directory gave for the tenant in the path, after the tenant check, so a
// search can only narrow what the caller may already see.

const (
	maxListLimit  = 1000
	maxListOffset = 1_000_000
	maxListQuery  = 200
)

// listSpec says how one list is searched and sorted, on its wire form.
type listSpec[J any] struct {
	text  func(J) []string            // the strings ?q= looks in
	sorts map[string]func(a, b J) int // ?sort= keys, ascending
}

type listParams struct {
	q, sort       string
	desc          bool
	limit, offset int // limit 0: every row
}

// listParamsOf reads and validates the query; a bad value is a 400 naming
// the parameter and the values it takes.
func listParamsOf(r *http.Request, keys []string) (listParams, error) {
	v := r.URL.Query()
	p := listParams{q: strings.ToLower(strings.TrimSpace(v.Get("q"))), sort: v.Get("sort")}
	if len(p.q) > maxListQuery {
		return p, badField("q", "is %d bytes; at most %d", len(p.q), maxListQuery)
	}
	if p.sort != "" && !slices.Contains(keys, p.sort) {
		return p, badField("sort", "%q is not one of %s", p.sort, strings.Join(keys, ", "))
	}
	switch o := v.Get("order"); o {
	case "", "asc":
	case "desc":
		p.desc = true
	default:
		return p, badField("order", "%q is not asc or desc", o)
	}
	num := func(name string, lo, hi int) (int, error) {
		s := v.Get(name)
		if s == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return 0, badField(name, "%q is not a number in %d..%d", s, lo, hi)
		}
		return n, nil
	}
	var err error
	if p.limit, err = num("limit", 1, maxListLimit); err != nil {
		return p, err
	}
	if p.offset, err = num("offset", 0, maxListOffset); err != nil {
		return p, err
	}
	return p, nil
}

// pageList answers {"<key>": [one page of the matching rows], "total":
// how many match}, or err if the list could not be had.
func pageList[T, J any](s *Server, w http.ResponseWriter, r *http.Request, key string, items []T, err error,
	conv func(T) J, spec listSpec[J]) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	keys := make([]string, 0, len(spec.sorts))
	for k := range spec.sorts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	p, err := listParamsOf(r, keys)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]J, 0, len(items))
	for _, it := range items {
		j := conv(it)
		if p.q == "" || matchesAny(spec.text(j), p.q) {
			rows = append(rows, j)
		}
	}
	if by := spec.sorts[p.sort]; by != nil {
		slices.SortStableFunc(rows, by)
	}
	if p.desc {
		slices.Reverse(rows)
	}
	total := len(rows)
	rows = rows[min(p.offset, total):]
	if p.limit > 0 && len(rows) > p.limit {
		rows = rows[:p.limit]
	}
	writeJSON(w, http.StatusOK, map[string]any{key: rows, "total": total})
}

func matchesAny(texts []string, needle string) bool {
	for _, t := range texts {
		if strings.Contains(strings.ToLower(t), needle) {
			return true
		}
	}
	return false
}

// byTime orders times with the zero (never) first.
func byTime(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(*b)
}

func byBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func byFold(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) }
