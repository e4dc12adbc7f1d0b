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
