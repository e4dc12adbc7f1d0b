package console

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// A tenant's lists in the console (users, connectors, tokens, admins) are
// searched, sorted and paged by the API (?q=&sort=&order=&limit=&offset=),
// so a tenant of 10,000 users renders one page; the console only carries
// the choices in the page's own query string (?q=&sort=&order=&page=), in
// plain links and a GET form.

// listPerPage is the rows of one console list page.
const listPerPage = 50

// listView is what the "list-controls" and "list-pager" templates draw.
type listView struct {
	Path                 string // the page's own path
	Q, Sort, Order       string
	Sorts                []navItem // Section is the key, Href the link
	Page, Pages          int
	Total, First, Last   int
	Prev, Next, ClearURL string
	Noun                 string     // "users"
	Keep                 url.Values // the page's other filters (status=), kept in every link
}

// listSort is a sort the page offers: the API's key and a label.
type listSort struct{ Key, Label string }

// listPage fetches one page of the list key at the API path (under the
// current tenant) as the request's query asks, into rows.
func listPage[T any](q *req, apiPath, key, noun string, sorts []listSort, defaultSort string, keep url.Values) ([]T, listView, error) {
	in := q.r.URL.Query()
	v := listView{Path: q.r.URL.Path, Q: strings.TrimSpace(in.Get("q")), Sort: in.Get("sort"), Order: in.Get("order"), Noun: noun, Keep: keep}
	if v.Sort == "" {
		v.Sort = defaultSort
	}
	v.Page, _ = strconv.Atoi(in.Get("page"))
	v.Page = max(v.Page, 1)
	p := url.Values{"limit": {strconv.Itoa(listPerPage)}, "offset": {strconv.Itoa((v.Page - 1) * listPerPage)}}
	if v.Q != "" {
		p.Set("q", v.Q)
	}
	if v.Sort != "" {
		p.Set("sort", v.Sort) // the API refuses an unknown key with a 400 naming it
	}
	if v.Order != "" {
		p.Set("order", v.Order)
	}
	sep := "?"
	if strings.Contains(apiPath, "?") {
		sep = "&"
	}
	var raw map[string]json.RawMessage
	if err := q.api("GET", apiPath+sep+p.Encode(), nil, &raw); err != nil {
		return nil, v, err
	}
	var rows []T
	if err := json.Unmarshal(raw[key], &rows); err != nil {
		return nil, v, fmt.Errorf("list %s: %w", key, err)
	}
	if err := json.Unmarshal(raw["total"], &v.Total); err != nil {
		return nil, v, fmt.Errorf("list %s: total: %w", key, err)
	}
	v.Pages = max(1, (v.Total+listPerPage-1)/listPerPage)
	v.First, v.Last = min((v.Page-1)*listPerPage+1, v.Total), min((v.Page-1)*listPerPage+len(rows), v.Total)
	if len(rows) == 0 {
		v.First, v.Last = 0, 0
	}
	if v.Page > 1 {
		v.Prev = v.link(v.Sort, v.Order, min(v.Page-1, v.Pages))
	}
	if v.Page < v.Pages {
		v.Next = v.link(v.Sort, v.Order, v.Page+1)
	}
	for _, s := range sorts {
		order := ""
		if s.Key == v.Sort && v.Order != "desc" {
			order = "desc" // the current sort's link reverses it
		}
		v.Sorts = append(v.Sorts, navItem{Section: s.Key, Label: s.Label, Href: v.link(s.Key, order, 1)})
	}
	cleared := v
	cleared.Q = ""
	v.ClearURL = cleared.link("", "", 1) // the other filters stay
	return rows, v, nil
}

// link is this list's page with the search kept and sort, order, page set.
func (v listView) link(sort, order string, page int) string {
	u := url.Values{}
	for k, vs := range v.Keep {
		u[k] = vs
	}
	if v.Q != "" {
		u.Set("q", v.Q)
	}
	if sort != "" {
		u.Set("sort", sort)
	}
	if order != "" {
		u.Set("order", order)
	}
	if page > 1 {
		u.Set("page", strconv.Itoa(page))
	}
	if len(u) == 0 {
		return v.Path
	}
	return v.Path + "?" + u.Encode()
}
