package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/directory"
)

// The tenant's lists in the console search, sort and page through the API:
// 55 connectors make two pages; a search finds the tenant's rows only; a
// bad sort is a 400 naming it; another tenant's admin gets a 404 whatever
// the query.
func TestConsoleListSearchSortPage(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ctx := context.Background()
	for i := range 55 {
		if _, err := g.Directory.CreateConnector(ctx, directory.By{Actor: "test"}, f.alpha.ID, fmt.Sprintf("relay-%02d", i),
			[]netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("192.0.2.%d/32", i+1))}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tn := range []struct {
		id     int64
		domain string
		users  []string
	}{{f.alpha.ID, "alpha.test", []string{"amy@alpha.test", "zed@alpha.test", "sales-amy@alpha.test"}}, {f.beta.ID, "beta.test", []string{"amy@beta.test"}}} {
		if _, err := g.Directory.AddDomain(ctx, directory.By{}, tn.id, tn.domain); err != nil {
			t.Fatal(err)
		}
		if err := g.Directory.MarkDomainVerified(ctx, directory.By{}, tn.id, tn.domain); err != nil {
			t.Fatal(err)
		}
		for _, u := range tn.users {
			if _, err := g.Directory.CreateUser(ctx, directory.By{}, tn.id, u, testPassword); err != nil {
				t.Fatal(err)
			}
		}
	}
	alpha := newClient(t, baseURL(g))
	alpha.signInHTTP(f.alphaAdmin)
	get := func(c *client, path string, status int, want ...string) string {
		t.Helper()
		resp, page := c.get(path)
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
	conns := fmt.Sprintf("/console/t/%d/connectors", f.alpha.ID)
	page := get(alpha, conns+"?sort=name", 200, "1–50 of 55 connectors", "relay-00", "relay-49", `id="next-page"`, "Page 1 of 2")
	if strings.Contains(page, "relay-50") {
		t.Error("page 1 holds row 51")
	}
	page = get(alpha, conns+"?sort=name&page=2", 200, "51–55 of 55 connectors", "relay-50", "relay-54", `id="prev-page"`)
	if strings.Contains(page, "relay-49") {
		t.Error("page 2 holds row 50")
	}
	page = get(alpha, conns+"?sort=name&order=desc", 200, "relay-54")
	if i, j := strings.Index(page, "relay-54"), strings.Index(page, "relay-53"); i < 0 || j < i {
		t.Error("descending order is not descending")
	}
	get(alpha, conns+"?q=relay-1", 200, "1–10 of 10 connectors matching “relay-1”")
	get(alpha, conns+"?q=192.0.2.7/", 200, "1–1 of 1 connectors", "relay-06")

	users := fmt.Sprintf("/console/t/%d/users", f.alpha.ID)
	page = get(alpha, users+"?q=amy", 200, "amy@alpha.test", "sales-amy@alpha.test", "of 2 users matching “amy”")
	if strings.Contains(page, "zed@alpha.test") || strings.Contains(page, "amy@beta.test") {
		t.Error("the search shows rows it should not")
	}
	get(alpha, users+"?q=beta", 200, "0 users matching “beta”", "No users match “beta”.")
	get(alpha, users+"?sort=colour", 400, `sort: "colour" is not one of address, created, disabled`)
	get(alpha, fmt.Sprintf("/console/t/%d/tokens?order=sideways", f.alpha.ID), 400, `order: "sideways" is not asc or desc`)
	get(alpha, fmt.Sprintf("/console/t/%d/admins?q=boss", f.alpha.ID), 200, "boss@alpha.test", "1–1 of 1 admins")

	beta := newClient(t, baseURL(g))
	beta.signInHTTP(f.betaAdmin)
	for _, p := range []string{users + "?q=amy", conns + "?q=relay", fmt.Sprintf("/console/t/%d/admins?q=boss", f.alpha.ID)} {
		if resp, page := beta.get(p); resp.StatusCode != http.StatusNotFound || strings.Contains(page, "alpha.test") || strings.Contains(page, "relay-0") {
			t.Errorf("beta's admin GET %s: %d", p, resp.StatusCode)
		}
	}
}
