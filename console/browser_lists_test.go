package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/nodes"
	"github.com/tollgate-mail/tollgate/policy"
)

// TestConsoleBrowserLists drives the operator's pages at scale in headless
// Chromium as an operator would: searches the tenants by name and pages
// through them, reads the fleet's queue by node, searches, sorts and pages
// a tenant's users, picks a tenant by part of its name where two match,
// sets a tenant's suppression_action from the policy page, and searches
// the unblock queue.
func TestConsoleBrowserLists(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 60 {
		_, err := g.Directory.CreateTenant(ctx, directory.By{}, fmt.Sprintf("zz-shop-%02d", i), directory.Trial, 0)
		must(err)
	}
	labs, err := g.Directory.CreateTenant(ctx, directory.By{}, "beta-labs", directory.Trial, 0)
	must(err)
	_, err = g.Directory.AddDomain(ctx, directory.By{}, f.beta.ID, "beta.test")
	must(err)
	must(g.Directory.MarkDomainVerified(ctx, directory.By{}, f.beta.ID, "beta.test"))
	for i := range 55 {
		_, err := g.Directory.CreateUser(ctx, directory.By{}, f.beta.ID, fmt.Sprintf("user-%02d@beta.test", i), "long enough password")
		must(err)
	}
	f.seedProtection(t)
	_, err = g.Blocks.RequestUnblock(ctx, f.alpha.ID, "An attacker phished an admin password.", "Deleted relay-x, reset passwords.", "admin:boss@alpha.test")
	must(err)
	nodeID, err := nodes.NodeID(g.Config.DataDir)
	must(err)

	b := newBrowser(t, baseURL(g))
	step := func(t *testing.T, name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	rows := func(css string) int {
		return run(b, "count "+css, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, css)))
	}

	step(t, "sign in as the operator", func(t *testing.T) {
		b.t = t
		b.signIn(f.operator, false)
	})

	step(t, "search the tenants by name and page through them", func(t *testing.T) {
		b.t = t
		b.open("/console/tenants")
		b.fill(map[string]string{"t-q": "zz-shop"})
		b.submit("search-tenants")
		b.wantText("#tenants caption", "1–50 of 60 tenants matching “zz-shop”")
		if n := rows("#tenants tbody tr"); n != 50 {
			t.Errorf("page 1 shows %d rows, want 50", n)
		}
		b.follow(`nav.sorts a[href*="sort=name"]`)
		b.wantText("#tenants tbody tr:first-child", "zz-shop-00")
		b.shot("tenants-search")
		b.follow("#next-page")
		b.wantText("#tenants caption", "51–60 of 60 tenants matching “zz-shop”")
		b.wantText("#tenants tbody tr:first-child", "zz-shop-50")
		if n := rows("#tenants tbody tr"); n != 10 {
			t.Errorf("page 2 shows %d rows, want 10", n)
		}
		b.follow("#prev-page")
		b.wantText("#tenants caption", "1–50 of 60")
	})

	step(t, "the dashboard shows the queue by node", func(t *testing.T) {
		b.t = t
		b.open("/console/tenants")
		b.wantText("#nodes", "Queue by node", g.Config.Hostname, nodeID, "current")
		b.wantText("#n-queue", "0")
		b.wantText("#n-blocked", "1")
		b.shot("dashboard")
	})

	step(t, "search, sort and page a tenant's users", func(t *testing.T) {
		b.t = t
		b.open(fmt.Sprintf("/console/t/%d/users", f.beta.ID))
		b.wantText("#list-count", "1–50 of 55 users")
		b.fill(map[string]string{"list-q": "user-5"})
		b.submit("search-list")
		b.wantText("#list-count", "1–5 of 5 users matching “user-5”")
		if n := rows("#users tbody tr"); n != 5 {
			t.Errorf("the search shows %d users, want 5", n)
		}
		b.follow("form.filters a") // Clear
		b.wantText("#list-count", "of 55 users")
		b.follow(`#list-sorts a[href*="sort=address"]`)
		b.follow(`#list-sorts a[href*="sort=address"]`) // again: descending
		b.wantText("#users tbody tr:first-child", "user-54@beta.test")
		b.shot("users-sorted")
		b.follow("#next-page")
		b.wantText("#list-count", "51–55 of 55 users")
		b.wantText("#users tbody tr:last-child", "user-00@beta.test")
	})

	step(t, "pick a tenant by part of its name", func(t *testing.T) {
		b.t = t
		b.open("/console/reputation")
		b.fill(map[string]string{"x-tenant": "nobody-named-so", "x-prefix": "203.0.113.0/28", "x-reason": "ticket 4712"})
		b.submit("grant-exception")
		b.wantText("#x-tenant-error", "No tenant's name or domain begins with")
		b.fill(map[string]string{"x-tenant": "bet"})
		b.submit("grant-exception")
		// beta and beta-labs both begin with "bet": a choice, the rest kept.
		b.wantText("#x-tenant-hint", "matches 2 tenants")
		if n := rows("select#x-tenant option"); n != 2 {
			t.Fatalf("the picker offers %d tenants, want 2", n)
		}
		if v := run(b, "prefix kept", chromedp.Evaluate[string](`document.getElementById('x-prefix').value`)); v != "203.0.113.0/28" {
			t.Errorf("the range typed before the choice is %q", v)
		}
		b.shot("tenant-picker")
		b.do("choose beta-labs", chromedp.SetValue(chromedp.ID("x-tenant"), fmt.Sprint(labs.ID)))
		b.submit("grant-exception")
		b.wantText("#flash", fmt.Sprintf("Tenant beta-labs (id %d) may send from 203.0.113.0/28 until", labs.ID))
		b.wantText("#exceptions", "203.0.113.0/28", "ticket 4712")
	})

	step(t, "search the audit log for the grant", func(t *testing.T) {
		b.t = t
		b.open("/console/audit")
		b.fill(map[string]string{"f-q": "EXCEPTION.grant"})
		b.submit("filter")
		b.wantText("#audit tbody", "reputation.exception.grant", "admin:ops@provider.test")
		if n := run(b, "count other rows", chromedp.Evaluate[int](`[...document.querySelectorAll('#audit tbody tr')].filter(r => !r.textContent.includes('reputation.exception.grant')).length`)); n != 0 {
			t.Errorf("the search shows %d other entries", n)
		}
		b.shot("audit-search")
	})

	step(t, "set a tenant's suppression_action", func(t *testing.T) {
		b.t = t
		path := fmt.Sprintf("/console/t/%d/policy", f.beta.ID)
		b.open(path)
		b.do("drop suppressed", chromedp.SetValue(chromedp.ID("p-suppression_action"), policy.SuppressDrop))
		b.submit("save-policy")
		b.wantText("#flash", "Saved the sending limits of beta")
		b.open(path)
		if v := run(b, "suppression_action", chromedp.Evaluate[string](`document.getElementById('p-suppression_action').value`)); v != policy.SuppressDrop {
			t.Fatalf("suppression_action after saving: %q, want %q", v, policy.SuppressDrop)
		}
		var got struct {
			Overrides map[string]any `json:"overrides"`
		}
		if code := apiGet(t, g, g.AdminToken, fmt.Sprintf("/api/v1/tenants/%d/policy", f.beta.ID), &got); code != 200 || got.Overrides["suppression_action"] != policy.SuppressDrop {
			t.Fatalf("the API has %d %v", code, got.Overrides)
		}
	})

	step(t, "search the unblock queue", func(t *testing.T) {
		b.t = t
		b.open("/console/unblock-requests?status=all")
		b.fill(map[string]string{"list-q": "phished"})
		b.submit("search-list")
		b.wantText("#list-count", "1–1 of 1 unblock requests matching “phished”")
		b.wantText("article.card", "alpha", "phished")
		if !strings.Contains(b.path(), "unblock-requests") {
			t.Fatalf("the search left the queue: %s", b.path())
		}
		b.shot("unblock-search")
		b.fill(map[string]string{"list-q": "no such words"})
		b.submit("search-list")
		b.wantText("#no-requests", "matching “no such words”")
	})
}
