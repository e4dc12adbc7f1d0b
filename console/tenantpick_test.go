package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/nodes"
)

// The operator's tenant fields take a name, a domain or an id: one match
// is used, several become a choice (a <select> the same form submits, no
// script needed), an unknown id or a name nobody has is a clear 400, and a
// grant waits until its tenant is chosen.
func TestConsoleTenantPicker(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ctx := context.Background()
	labs, err := g.Directory.CreateTenant(ctx, directory.By{}, "alpha-labs", directory.Trial, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Directory.AddDomain(ctx, directory.By{}, f.beta.ID, "betamail.test"); err != nil {
		t.Fatal(err)
	}
	ops := newClient(t, baseURL(g))
	ops.signInHTTP(f.operator)
	get := func(path string, status int, want ...string) string {
		t.Helper()
		resp, page := ops.get(path)
		page = html.UnescapeString(page)
		if resp.StatusCode != status {
			t.Fatalf("GET %s: %d, want %d:\n%.2000s", path, resp.StatusCode, status, page)
		}
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("GET %s lacks %q", path, w)
			}
		}
		return page
	}
	option := func(id int64) string { return fmt.Sprintf(`<option value="%d">`, id) }

	// A full name picks that tenant though "alpha-labs" begins with it too.
	page := get("/console/audit?tenant=alpha", 200, fmt.Sprintf("alpha (id %d)", f.alpha.ID))
	if strings.Contains(page, "<select id=\"f-tenant\"") {
		t.Error("a full name still asks to choose")
	}
	// A prefix of two names: choose between them, and only them.
	page = get("/console/audit?tenant=alp", 200, `<select id="f-tenant" name="tenant"`, option(f.alpha.ID), option(labs.ID), "“alp” matches 2 tenants")
	if strings.Contains(page, option(f.beta.ID)) {
		t.Error("the choice offers beta")
	}
	// By domain, and by id.
	get("/console/audit?tenant=BETAMAIL", 200, fmt.Sprintf("beta (id %d)", f.beta.ID))
	get(fmt.Sprintf("/console/audit?tenant=%d", labs.ID), 200, fmt.Sprintf("alpha-labs (id %d)", labs.ID))
	// Unknown: a 400 that says what is wrong.
	get("/console/audit?tenant=99999", 400, "There is no tenant with id 99999.")
	get("/console/audit?tenant=-3", 400, `"-3" is not a tenant id.`)
	get("/console/audit?tenant=zzz", 400, `No tenant's name or domain begins with "zzz".`)
	get("/console/reputation?ip=192.0.2.1&tenant=99999", 400, "There is no tenant with id 99999.")
	get("/console/reputation?ip=192.0.2.1&tenant=alp", 200, `<select id="r-tenant" name="tenant"`)
	get("/console/queue?tenant=zzz", 400, `No tenant's name or domain begins with "zzz".`)
	get("/console/queue?tenant=alp", 200, `<select id="f-tenant" name="tenant"`)

	// The grant form: an ambiguous tenant brings the form back filled in
	// with the choice, and nothing is granted until one is chosen.
	page = get("/console/reputation", 200)
	csrf := csrfOf(t, page)
	grant := func(tenant string) (*http.Response, string) {
		resp, page := ops.post("/console/reputation/exceptions", url.Values{"csrf": {csrf}, "tenant_id": {tenant},
			"prefix": {"198.51.100.0/28"}, "ttl": {"72h"}, "reason": {"moving servers"}}, ops.base)
		return resp, html.UnescapeString(page)
	}
	resp, page := grant("alp")
	for _, w := range []string{`<select id="x-tenant" name="tenant_id"`, option(labs.ID), `value="198.51.100.0/28"`, `value="72h" selected`, `value="moving servers"`} {
		if !strings.Contains(page, w) {
			t.Errorf("the form shown again lacks %q", w)
		}
	}
	if resp.StatusCode != 200 {
		t.Fatalf("ambiguous grant: %d", resp.StatusCode)
	}
	if resp, page = grant("99999"); resp.StatusCode != 400 || !strings.Contains(page, "There is no tenant with id 99999.") {
		t.Fatalf("grant to no tenant: %d", resp.StatusCode)
	}
	if _, page := ops.get("/console/reputation"); strings.Contains(page, "198.51.100.0/28") {
		i := strings.Index(page, "198.51.100.0/28")
		t.Fatalf("an exception was granted before its tenant was chosen:\n%s", page[max(0, i-1500):i+200])
	}
	if resp, _ = grant(fmt.Sprint(labs.ID)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("grant to alpha-labs by id: %d", resp.StatusCode)
	}
	if page := get("/console/reputation", 200, "198.51.100.0/28"); !strings.Contains(page, fmt.Sprintf("Tenant alpha-labs (id %d) may send from 198.51.100.0/28", labs.ID)) {
		t.Errorf("no confirmation naming the tenant:\n%.3000s", page)
	}

	// Tenant admins have no picker: the operator pages are not theirs.
	beta := newClient(t, baseURL(g))
	beta.signInHTTP(f.betaAdmin)
	if resp, page := beta.get("/console/audit?tenant=alp"); resp.StatusCode != http.StatusNotFound || strings.Contains(page, "alpha-labs") {
		t.Fatalf("a tenant admin's GET /console/audit?tenant=alp: %d", resp.StatusCode)
	}
}

// The operator's dashboard lists each node's queue with its last report:
// this node as current, a node that stopped reporting as stale and left
// out of the total, and two nodes of one hostname apart, by id, flagged.
func TestConsoleDashboardNodes(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	host := g.Config.Hostname
	id, err := nodes.NodeID(g.Config.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Nodes.Report(context.Background(), nodes.Node{ID: "oldnode", Hostname: "old.gw.test"}, 40, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A copy of this node's configuration on another machine: same hostname.
	if err := g.Nodes.Report(context.Background(), nodes.Node{ID: "twin", Hostname: host}, 7, time.Now()); err != nil {
		t.Fatal(err)
	}
	ops := newClient(t, baseURL(g))
	ops.signInHTTP(f.operator)
	resp, page := ops.get("/console/tenants")
	page = html.UnescapeString(page)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /console/tenants: %d", resp.StatusCode)
	}
	shared := `</code> <span class="badge warn">⚠ hostname shared with another node</span></td>`
	for _, want := range []string{"Queue by node", `<p class="big" id="n-queue">7</p>`, "messages in the spools of 2 reporting nodes",
		`<tr id="node-` + id + `"><th scope="row">` + host + `</th><td><code>` + id + shared + `<td>0</td>`, "✓ current",
		`<tr id="node-twin"><th scope="row">` + host + `</th><td><code>twin` + shared + `<td>7</td>`,
		`<tr id="node-oldnode" class="gone"><th scope="row">old.gw.test</th><td><code>oldnode</code></td><td>40</td>`, "⚠ stale: not reporting, not counted"} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
}
