package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/client"
)

// The operators' blocks across tenants: live by default, each row with its
// tenant's name; searched, sorted and paged like the other global lists,
// with the total; a tenant admin cannot read it, and its own blocks list
// takes q without reaching another tenant's.
func TestAllBlocksList(t *testing.T) {
	e := newEnv(t)
	ids := map[string]int64{}
	for _, n := range []string{"acme", "Acme-labs", "globex", "initech"} {
		var tn client.Tenant
		e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": n}, &tn)
		ids[n] = tn.ID
	}
	for _, n := range []string{"acme", "Acme-labs", "globex"} {
		e.want(201, "op", "POST", fmt.Sprintf("/api/v1/tenants/%d/blocks", ids[n]), map[string]any{"reason": "abuse report about " + n}, nil)
	}
	e.want(200, "op", "POST", fmt.Sprintf("/api/v1/tenants/%d/unblock", ids["globex"]), map[string]any{"note": "fixed"}, nil)
	type list struct {
		Blocks []client.Block
		Total  int
	}
	get := func(tok, query string) (string, int) {
		t.Helper()
		var l list
		e.want(200, tok, "GET", "/api/v1/blocks?"+query, nil, &l)
		var names []string
		for _, b := range l.Blocks {
			if b.Tenant == "" || b.TenantID == 0 {
				t.Fatalf("a block without its tenant: %+v", b)
			}
			names = append(names, b.Tenant)
		}
		return strings.Join(names, " "), l.Total
	}
	if got, n := get("op", "sort=tenant"); n != 2 || got != "acme Acme-labs" {
		t.Fatalf("live blocks: %q %d", got, n)
	}
	if got, n := get("op", "state=released"); n != 1 || got != "globex" {
		t.Fatalf("released blocks: %q %d", got, n)
	}
	if got, n := get("op", "state=all&sort=tenant&order=desc&limit=2&offset=1"); n != 3 || got != "Acme-labs acme" {
		t.Fatalf("all blocks, a sorted page: %q %d", got, n)
	}
	if got, n := get("op", "state=all&q=LABS"); n != 1 || got != "Acme-labs" {
		t.Fatalf("q=LABS: %q %d", got, n)
	}
	// q finds the operator's note (a figure), and the tenant's id.
	if got, n := get("op", "state=all&q=about+globex"); n != 1 || got != "globex" {
		t.Fatalf("q on the note: %q %d", got, n)
	}
	if got, n := get("op", fmt.Sprintf("q=%d", ids["acme"])); n < 1 || !strings.Contains(got, "acme") {
		t.Fatalf("q by id: %q %d", got, n)
	}
	if got, n := get("op", "q=initech"); n != 0 || got != "" {
		t.Fatalf("a tenant never blocked: %q %d", got, n)
	}
	for _, c := range []struct{ query, field, value string }{
		{"state=stuck", "state", "stuck"},
		{"sort=seats", "sort", "seats"},
		{"order=up", "order", "up"},
		{"limit=0", "limit", "0"},
		{"limit=1001", "limit", "1001"},
		{"offset=-1", "offset", "-1"},
	} {
		st, body := e.call("op", "GET", "/api/v1/blocks?"+c.query, nil, nil)
		if st != 400 || !strings.Contains(body, c.field) || !strings.Contains(body, `\"`+c.value+`\"`) {
			t.Errorf("GET /api/v1/blocks?%s: %d %s; want 400 naming %s and %q", c.query, st, body, c.field, c.value)
		}
	}

	tok := e.tenantToken(ids["acme"])
	if st, _ := e.call(tok, "GET", "/api/v1/blocks", nil, nil); st != 404 && st != 403 {
		t.Fatalf("a tenant admin read every tenant's blocks: %d", st)
	}
	var own list
	e.want(200, tok, "GET", fmt.Sprintf("/api/v1/tenants/%d/blocks?q=ABUSE", ids["acme"]), nil, &own)
	if own.Total != 1 || len(own.Blocks) != 1 || own.Blocks[0].TenantID != ids["acme"] || own.Blocks[0].Tenant != "acme" {
		t.Fatalf("own blocks q=ABUSE: %+v", own)
	}
	e.want(200, tok, "GET", fmt.Sprintf("/api/v1/tenants/%d/blocks?q=nothing", ids["acme"]), nil, &own)
	if own.Total != 0 || own.Blocks == nil {
		t.Fatalf("own blocks matching nothing: %+v (want an empty list, not null)", own)
	}
	if st, _ := e.call(tok, "GET", fmt.Sprintf("/api/v1/tenants/%d/blocks?q=abuse", ids["Acme-labs"]), nil, nil); st != 404 && st != 403 {
		t.Fatalf("a tenant admin read another tenant's blocks: %d", st)
	}
	e.wantInvalid(tok, fmt.Sprintf("/api/v1/tenants/%d/blocks?sort=evidence", ids["acme"]), "sort")
}
