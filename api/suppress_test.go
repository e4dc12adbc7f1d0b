package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/suppress"
)

// Tenant admins list, search, add and remove their own entries; the
// global list is the operators'.
func TestSuppressionsOverAPI(t *testing.T) {
	e := newEnv(t)
	var tn client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "acme"}, &tn)
	tok := e.tenantToken(tn.ID)
	base := fmt.Sprintf("/api/v1/tenants/%d/suppressions", tn.ID)
	var en suppress.Entry
	e.want(201, tok, "POST", base, map[string]any{"address": "Gone@Example.NET", "detail": "asked to stop"}, &en)
	if en.Address != "gone@example.net" || en.Reason != suppress.Manual || !strings.HasPrefix(en.CreatedBy, "token:") {
		t.Fatalf("added %+v", en)
	}
	e.want(200, tok, "POST", base, map[string]any{"address": "gone@example.net"}, nil) // already there
	e.want(201, tok, "POST", base, map[string]any{"address": "other@example.org"}, nil)
	if st, body := e.call(tok, "POST", base, map[string]any{"address": "not an address"}, nil); st != 400 || !strings.Contains(body, "not an address") {
		t.Fatalf("bad address: %d %s", st, body)
	}
	var l struct{ Suppressions []suppress.Entry }
	e.want(200, tok, "GET", base+"?search=example.net", nil, &l)
	var viaQ struct{ Suppressions []suppress.Entry }
	e.want(200, tok, "GET", base+"?q=EXAMPLE.NET", nil, &viaQ)
	if len(viaQ.Suppressions) != len(l.Suppressions) {
		t.Fatalf("q=EXAMPLE.NET found %d, search=example.net %d", len(viaQ.Suppressions), len(l.Suppressions))
	}
	if len(l.Suppressions) != 1 || l.Suppressions[0].Address != "gone@example.net" {
		t.Fatalf("search: %+v", l)
	}
	if st, _ := e.call(tok, "GET", "/api/v1/suppressions", nil, nil); st != 404 && st != 403 {
		t.Fatalf("a tenant read the global list: %d", st)
	}
	e.want(201, "op", "POST", "/api/v1/suppressions", map[string]any{"address": "trap@example.com"}, nil)
	e.want(200, "op", "GET", "/api/v1/suppressions", nil, &l)
	if len(l.Suppressions) != 1 || l.Suppressions[0].TenantID != suppress.Global {
		t.Fatalf("global list: %+v", l)
	}
	e.want(204, tok, "DELETE", base+"/GONE@example.net", nil, nil)
	if st, _ := e.call(tok, "DELETE", base+"/gone@example.net", nil, nil); st != 404 {
		t.Fatalf("removing twice: %d", st)
	}
	var au struct{ Entries []client.AuditEntry }
	e.want(200, "op", "GET", "/api/v1/audit?action=suppression.remove", nil, &au)
	if len(au.Entries) != 1 || au.Entries[0].Target != "recipient:gone@example.net" {
		t.Fatalf("audit: %+v", au.Entries)
	}
}

// Both suppression lists sort, page and count in the store: the total is
// every match, a page never overlaps the next, and bad values are a 400
// naming them; another tenant's admin sees none of it.
func TestSuppressionsSortPageTotal(t *testing.T) {
	e := newEnv(t)
	var a, b client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "acme"}, &a)
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "globex"}, &b)
	tok := e.tenantToken(a.ID)
	base := fmt.Sprintf("/api/v1/tenants/%d/suppressions", a.ID)
	for _, addr := range []string{"c@x.example", "a@x.example", "b@y.example", "d@x.example"} {
		e.want(201, tok, "POST", base, map[string]any{"address": addr}, nil)
		e.want(201, "op", "POST", "/api/v1/suppressions", map[string]any{"address": "g-" + addr}, nil)
	}
	page := func(tok, path string) (string, int) {
		t.Helper()
		var l client.SuppressionList
		e.want(200, tok, "GET", path, nil, &l)
		var as []string
		for _, x := range l.Suppressions {
			as = append(as, x.Address)
		}
		return strings.Join(as, " "), l.Total
	}
	if got, n := page(tok, base); n != 4 || got != "d@x.example b@y.example a@x.example c@x.example" {
		t.Fatalf("newest first: %q %d", got, n)
	}
	if got, n := page(tok, base+"?sort=address&limit=2"); n != 4 || got != "a@x.example b@y.example" {
		t.Fatalf("by address, page 1: %q %d", got, n)
	}
	if got, n := page(tok, base+"?sort=address&limit=2&offset=2"); n != 4 || got != "c@x.example d@x.example" {
		t.Fatalf("by address, page 2: %q %d", got, n)
	}
	if got, n := page(tok, base+"?q=X.EXAMPLE&sort=address&order=desc"); n != 3 || got != "d@x.example c@x.example a@x.example" {
		t.Fatalf("q, by address desc: %q %d", got, n)
	}
	if got, n := page(tok, base+"?sort=created&limit=1"); n != 4 || got != "c@x.example" {
		t.Fatalf("oldest first: %q %d", got, n)
	}
	if got, n := page("op", "/api/v1/suppressions?q=y.example&sort=reason"); n != 1 || got != "g-b@y.example" {
		t.Fatalf("global q: %q %d", got, n)
	}
	if _, n := page("op", "/api/v1/suppressions?limit=1"); n != 4 {
		t.Fatalf("global total with limit=1: %d", n)
	}
	for _, p := range []string{base, "/api/v1/suppressions"} {
		for _, c := range []struct{ query, field, value string }{
			{"sort=detail", "sort", "detail"},
			{"order=sideways", "order", "sideways"},
			{"limit=abc", "limit", "abc"},
			{"limit=5000", "limit", "5000"},
			{"offset=-3", "offset", "-3"},
		} {
			tk := tok
			if p == "/api/v1/suppressions" {
				tk = "op"
			}
			st, body := e.call(tk, "GET", p+"?"+c.query, nil, nil)
			if st != 400 || !strings.Contains(body, c.field) || !strings.Contains(body, `\"`+c.value+`\"`) {
				t.Errorf("GET %s?%s: %d %s; want 400 naming %s and %q", p, c.query, st, body, c.field, c.value)
			}
		}
	}
	other := e.tenantToken(b.ID)
	if st, _ := e.call(other, "GET", base+"?sort=address", nil, nil); st != 404 && st != 403 {
		t.Fatalf("another tenant's admin read the list: %d", st)
	}
	if st, _ := e.call(other, "DELETE", base+"/a@x.example", nil, nil); st != 404 && st != 403 {
		t.Fatalf("another tenant's admin removed an entry: %d", st)
	}
	if got, n := page(other, fmt.Sprintf("/api/v1/tenants/%d/suppressions", b.ID)); n != 0 || got != "" {
		t.Fatalf("the other tenant's own list: %q %d", got, n)
	}
}
