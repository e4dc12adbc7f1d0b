package main

import (
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// listSearch is the search flags of the list commands whose API list
// takes ?q=, ?sort=, ?order=, ?limit= and ?offset= (a tenant's lists and
// the operators' global ones). The server checks the values and names a
// bad one; the command only passes them on.
type listSearch struct {
	q, sort, order *string
	limit, offset  *int
}

// addListSearch registers the search flags on fs; sorts lists the keys the
// list takes, for --help.
func addListSearch(fs *flag.FlagSet, sorts ...string) *listSearch {
	return &listSearch{
		q:      fs.String("q", "", "show only rows containing `TEXT` (case-insensitive)"),
		sort:   fs.String("sort", "", "sort by `KEY`: "+strings.Join(sorts, ", ")),
		order:  fs.String("order", "", "asc (default) or desc"),
		limit:  fs.Int("limit", 0, "at most `N` rows, 1..1000 (default: all)"),
		offset: fs.Int("offset", 0, "skip the first `N` matching rows"),
	}
}

// query adds the flags given to v and returns the encoded query ("" when
// none), for a path that has no query yet.
func (l *listSearch) query(v url.Values) string {
	if v == nil {
		v = url.Values{}
	}
	if l != nil {
		set := func(k, s string) {
			if s = strings.TrimSpace(s); s != "" {
				v.Set(k, s)
			}
		}
		set("q", *l.q)
		set("sort", *l.sort)
		set("order", *l.order)
		if *l.limit != 0 {
			v.Set("limit", strconv.Itoa(*l.limit))
		}
		if *l.offset != 0 {
			v.Set("offset", strconv.Itoa(*l.offset))
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// footer says how many rows matched when the list was searched or paged,
// so a page is never mistaken for the whole list.
func (l *listSearch) footer(c *adminClient, shown, total int, noun string) {
	if l == nil || c.json || (*l.q == "" && *l.limit == 0 && *l.offset == 0) {
		return
	}
	fmt.Fprintf(c.out, "%d of %d %s", shown, total, noun)
	if *l.q != "" {
		fmt.Fprintf(c.out, " matching %q", *l.q)
	}
	fmt.Fprintln(c.out)
}
