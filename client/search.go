package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// TenantMatch is one tenant the operators' tenant search found: enough to
// choose it in a picker.
type TenantMatch struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Effective string `json:"effective_license"`
	// Domains are its accepted domains that begin with the query, when
	// that is why it matched (a few at most).
	Domains []string `json:"domains"`
}

// TenantSearch is the answer of GET /api/v1/tenant-search: one page of
// matches, by name, and whether another page follows.
type TenantSearch struct {
	Tenants []TenantMatch `json:"tenants"`
	More    bool          `json:"more"`
}

// SearchTenants finds tenants whose name or accepted domain begins with
// prefix, or whose id it is (operators). limit 0 asks for the default.
func (c *Client) SearchTenants(ctx context.Context, prefix string, limit, offset int) (TenantSearch, error) {
	v := url.Values{"q": {prefix}}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	var r TenantSearch
	err := c.Do(ctx, http.MethodGet, "/api/v1/tenant-search?"+v.Encode(), nil, &r)
	return r, err
}

// ListQuery searches, sorts and pages a tenant's list (users, connectors,
// tokens, admins). The zero value asks for the whole list in its usual
// order.
type ListQuery struct {
	Q      string // case-insensitive substring of the row's names
	Sort   string // one of the list's sort keys; empty for its usual order
	Desc   bool
	Limit  int // 0: every row
	Offset int
}

// Values is the query string of q.
func (q ListQuery) Values() url.Values {
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	if q.Desc {
		v.Set("order", "desc")
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	return v
}
