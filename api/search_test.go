package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/directory"
)

// verifiedTenant creates a tenant with a verified domain, as an operator.
func (e *env) verifiedTenant(name, domain string) client.Tenant {
	e.t.Helper()
	var tn client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": name}, &tn)
	ctx := e.t.Context()
	if _, err := e.dir.AddDomain(ctx, directory.By{}, tn.ID, domain); err != nil {
		e.t.Fatal(err)
	}
	if err := e.dir.MarkDomainVerified(ctx, directory.By{}, tn.ID, domain); err != nil {
		e.t.Fatal(err)
	}
	return tn
}

// wantInvalid checks a 400 whose error names field.
func (e *env) wantInvalid(token, path, field string) {
	e.t.Helper()
	status, body := e.call(token, "GET", path, nil, nil)
	var got struct{ Error apiError }
	if status != 400 || json.Unmarshal([]byte(body), &got) != nil || got.Error.Field != field || !strings.Contains(got.Error.Message, field) {
		e.t.Errorf("GET %s: %d %s; want 400 naming %q", path, status, body, field)
	}
}

// The operators' tenant search: by name or domain prefix or id, paged and
// bounded; tenant admins cannot use it (404, as for every operator route).
func TestTenantSearch(t *testing.T) {
	e := newEnv(t)
	acme := e.verifiedTenant("Acme", "acme.test")
	e.verifiedTenant("acme-labs", "labs.test")
	globex := e.verifiedTenant("Globex", "acmemail.test")
	for i := range 25 {
		e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": fmt.Sprintf("zeta-%02d", i)}, nil)
	}
	var res client.TenantSearch
	e.want(200, "op", "GET", "/api/v1/tenant-search?q=acme", nil, &res)
	if len(res.Tenants) != 3 || res.More || res.Tenants[0].ID != acme.ID || res.Tenants[2].ID != globex.ID ||
		fmt.Sprint(res.Tenants[2].Domains) != "[acmemail.test]" || res.Tenants[0].Effective != "trial" {
		t.Fatalf("search acme: %+v", res)
	}
	e.want(200, "op", "GET", fmt.Sprintf("/api/v1/tenant-search?q=%d", globex.ID), nil, &res)
	if len(res.Tenants) != 1 || res.Tenants[0].ID != globex.ID {
		t.Fatalf("search by id: %+v", res)
	}
	// The default page is 20; the next page starts at offset 20.
	e.want(200, "op", "GET", "/api/v1/tenant-search?q=zeta", nil, &res)
	if len(res.Tenants) != 20 || !res.More || res.Tenants[0].Name != "zeta-00" {
		t.Fatalf("first page: %d more=%v", len(res.Tenants), res.More)
	}
	e.want(200, "op", "GET", "/api/v1/tenant-search?q=zeta&offset=20&limit=100", nil, &res)
	if len(res.Tenants) != 5 || res.More || res.Tenants[0].Name != "zeta-20" {
		t.Fatalf("second page: %+v", res)
	}
	e.want(200, "op", "GET", "/api/v1/tenant-search?q="+url.QueryEscape("%"), nil, &res)
	if len(res.Tenants) != 0 {
		t.Fatalf("%% is a wildcard: %+v", res)
	}
	e.wantInvalid("op", "/api/v1/tenant-search?q=a&limit=101", "limit")
	e.wantInvalid("op", "/api/v1/tenant-search?q=a&limit=0", "limit")
	e.wantInvalid("op", "/api/v1/tenant-search?q=a&offset=-1", "offset")
	e.wantInvalid("op", "/api/v1/tenant-search?q="+strings.Repeat("a", 201), "q")
	// A tenant admin does not learn other tenants' names this way.
	e.want(404, e.tenantToken(acme.ID), "GET", "/api/v1/tenant-search?q=glob", nil, nil)
}

// A tenant's lists search, sort and page; bad values are 400s naming the
// parameter; a tenant admin's search never reaches another tenant's rows.
func TestTenantListSearchSortPage(t *testing.T) {
	e := newEnv(t)
	a := e.verifiedTenant("alpha", "alpha.test")
	b := e.verifiedTenant("bravo", "bravo.test")
	ctx := t.Context()
	for _, addr := range []string{"zoe@alpha.test", "amy@alpha.test", "max@alpha.test", "sales-amy@alpha.test"} {
		if _, err := e.dir.CreateUser(ctx, directory.By{}, a.ID, addr, "long enough password"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.dir.CreateUser(ctx, directory.By{}, b.ID, "amy@bravo.test", "long enough password"); err != nil {
		t.Fatal(err)
	}
	aTok := e.tenantToken(a.ID)
	users := func(tok string, tenant int64, query string) ([]string, int) {
		t.Helper()
		var l struct {
			Users []client.User
			Total int
		}
		e.want(200, tok, "GET", fmt.Sprintf("/api/v1/tenants/%d/users?%s", tenant, query), nil, &l)
		var out []string
		for _, u := range l.Users {
			out = append(out, u.Address)
		}
		return out, l.Total
	}
	if got, n := users(aTok, a.ID, ""); n != 4 || strings.Join(got, " ") != "amy@alpha.test max@alpha.test sales-amy@alpha.test zoe@alpha.test" {
		t.Fatalf("usual order: %v %d", got, n)
	}
	if got, n := users(aTok, a.ID, "q=AMY"); n != 2 || strings.Join(got, " ") != "amy@alpha.test sales-amy@alpha.test" {
		t.Fatalf("search amy: %v %d", got, n)
	}
	if got, n := users(aTok, a.ID, "sort=address&order=desc&limit=2&offset=1"); n != 4 || strings.Join(got, " ") != "sales-amy@alpha.test max@alpha.test" {
		t.Fatalf("sorted page: %v %d", got, n)
	}
	if got, n := users(aTok, a.ID, "offset=100"); n != 4 || len(got) != 0 {
		t.Fatalf("past the end: %v %d", got, n)
	}
	// Tenant isolation: alpha's search for bravo's address finds nothing,
	// and alpha's token on bravo's list is a 404 whatever the query.
	if got, n := users(aTok, a.ID, "q=bravo"); n != 0 || len(got) != 0 {
		t.Fatalf("alpha found bravo's rows: %v", got)
	}
	e.want(404, aTok, "GET", fmt.Sprintf("/api/v1/tenants/%d/users?q=amy", b.ID), nil, nil)
	e.want(404, aTok, "GET", fmt.Sprintf("/api/v1/tenants/%d/admins?q=a", b.ID), nil, nil)
	e.want(404, aTok, "GET", fmt.Sprintf("/api/v1/tenants/%d/tokens?q=a", b.ID), nil, nil)
	e.want(404, aTok, "GET", fmt.Sprintf("/api/v1/tenants/%d/connectors?q=a", b.ID), nil, nil)

	base := fmt.Sprintf("/api/v1/tenants/%d", a.ID)
	for _, list := range []string{"users", "connectors", "tokens", "admins"} {
		e.wantInvalid(aTok, base+"/"+list+"?sort=colour", "sort")
		e.wantInvalid(aTok, base+"/"+list+"?order=sideways", "order")
		e.wantInvalid(aTok, base+"/"+list+"?limit=0", "limit")
		e.wantInvalid(aTok, base+"/"+list+"?limit=1001", "limit")
		e.wantInvalid(aTok, base+"/"+list+"?offset=x", "offset")
		e.wantInvalid(aTok, base+"/"+list+"?q="+strings.Repeat("x", 201), "q")
	}
	// The bad sort's message lists the keys there are.
	_, body := e.call(aTok, "GET", base+"/users?sort=colour", nil, nil)
	if !strings.Contains(body, "address, created, disabled") {
		t.Fatalf("bad sort's message: %s", body)
	}

	// Connectors by name and by creator; tokens by name; admins by email.
	for _, name := range []string{"relay-b", "relay-a", "backup"} {
		e.want(201, aTok, "POST", base+"/connectors", map[string]any{"name": name, "ip_ranges": []string{fmt.Sprintf("192.0.2.%d/32", len(name))}}, nil)
	}
	var cs struct {
		Connectors []client.Connector
		Total      int
	}
	e.want(200, aTok, "GET", base+"/connectors?q=relay&sort=name", nil, &cs)
	if cs.Total != 2 || cs.Connectors[0].Name != "relay-a" || cs.Connectors[1].Name != "relay-b" {
		t.Fatalf("connectors: %+v", cs)
	}
	e.want(201, aTok, "POST", "/api/v1/tokens", map[string]any{"name": "deploy-bot"}, nil)
	var ts struct {
		Tokens []client.Token
		Total  int
	}
	e.want(200, aTok, "GET", base+"/tokens?q=deploy", nil, &ts)
	if ts.Total != 1 || ts.Tokens[0].Name != "deploy-bot" {
		t.Fatalf("tokens: %+v", ts)
	}
	e.want(200, aTok, "GET", base+"/tokens?sort=name&order=desc", nil, &ts)
	if ts.Total != 2 || ts.Tokens[0].Name != fmt.Sprintf("tenant-%d", a.ID) {
		t.Fatalf("tokens by name desc: %+v", ts)
	}
	e.signInAdmin(a.ID, "boss@alpha.test")
	e.signInAdmin(a.ID, "aide@alpha.test")
	var as struct {
		Admins []client.Admin
		Total  int
	}
	e.want(200, aTok, "GET", base+"/admins?q=boss", nil, &as)
	if as.Total != 1 || as.Admins[0].Email != "boss@alpha.test" {
		t.Fatalf("admins: %+v", as)
	}
	e.want(200, aTok, "GET", base+"/admins?sort=email", nil, &as)
	if as.Total != 2 || as.Admins[0].Email != "aide@alpha.test" {
		t.Fatalf("admins by email: %+v", as)
	}
}
