package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/client"
)

// The operator's global lists (tenants, operators, operator tokens) take
// q, sort, order, limit and offset as a tenant's lists do, and answer the
// total; bad values are a 400 naming the parameter; a tenant admin's
// tenant list stays its own tenant whatever it searches.
func TestGlobalListSearchSortPage(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"delta", "Alpha", "alphabet", "charlie"} {
		e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": n}, nil)
	}
	tenants := func(tok, query string) (string, int) {
		t.Helper()
		var l struct {
			Tenants []client.Tenant
			Total   int
		}
		e.want(200, tok, "GET", "/api/v1/tenants?"+query, nil, &l)
		var names []string
		for _, x := range l.Tenants {
			names = append(names, x.Name)
		}
		return strings.Join(names, " "), l.Total
	}
	if got, n := tenants("op", "q=ALPHA&sort=name"); n != 2 || got != "Alpha alphabet" {
		t.Fatalf("search alpha: %q %d", got, n)
	}
	if got, n := tenants("op", "q=a&sort=name&order=desc&limit=2&offset=1"); n != 4 || got != "charlie alphabet" {
		t.Fatalf("sorted page: %q %d", got, n)
	}
	var all struct{ Tenants []client.Tenant }
	e.want(200, "op", "GET", "/api/v1/tenants", nil, &all)
	if got, n := tenants("op", fmt.Sprintf("q=%d", all.Tenants[0].ID)); n < 1 || !strings.Contains(got, all.Tenants[0].Name) {
		t.Fatalf("search by id %d: %q %d", all.Tenants[0].ID, got, n)
	}
	own := all.Tenants[0]
	tok := e.tenantToken(own.ID)
	if got, n := tenants(tok, "q=a"); n > 1 || (n == 1 && got != own.Name) {
		t.Fatalf("a tenant admin's search reached other tenants: %q %d", got, n)
	}
	for _, c := range []struct{ path, field string }{
		{"/api/v1/tenants?sort=seats", "sort"},
		{"/api/v1/tenants?limit=0", "limit"},
		{"/api/v1/operators?order=up", "order"},
		{"/api/v1/tokens?offset=-1", "offset"},
		{"/api/v1/unblock-requests?q=" + strings.Repeat("x", 201), "q"},
	} {
		e.wantInvalid("op", c.path, c.field)
	}
	var ops struct {
		Operators []client.Admin
		Total     int
	}
	e.want(200, "op", "GET", "/api/v1/operators?q=nobody-has-this", nil, &ops)
	if ops.Total != 0 || len(ops.Operators) != 0 {
		t.Fatalf("operators matching nothing: %+v", ops)
	}
	// The audit log's q: a part of the actor, action, target or address.
	var au struct{ Entries []client.AuditEntry }
	e.want(200, "op", "GET", "/api/v1/audit?q=TENANT.CREATE", nil, &au)
	if len(au.Entries) != 4 {
		t.Fatalf("audit q=TENANT.CREATE: %d entries, want the 4 tenants created", len(au.Entries))
	}
	for _, x := range au.Entries {
		if x.Action != "tenant.create" {
			t.Errorf("audit q=TENANT.CREATE gave %s", x.Action)
		}
	}
	e.wantInvalid("op", "/api/v1/audit?q="+strings.Repeat("x", 201), "q")
	// The global suppression list: q, as the other lists (search still works).
	e.want(200, "op", "GET", "/api/v1/suppressions?q=nobody", nil, nil)
	e.wantInvalid("op", "/api/v1/suppressions?q="+strings.Repeat("x", 201), "q")
	var reqs struct {
		UnblockRequests []client.UnblockRequest `json:"unblock_requests"`
		Total           int
	}
	e.want(200, "op", "GET", "/api/v1/unblock-requests?status=all&q=nothing&sort=tenant", nil, &reqs)
	if reqs.Total != 0 || reqs.UnblockRequests == nil {
		t.Fatalf("unblock requests matching nothing: %+v (want an empty list, not null)", reqs)
	}
}
