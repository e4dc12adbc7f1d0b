package console_test

import (
	"context"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/directory"
)

// The tenant's overview shows its delivery feedback beside its sending
// state: the complaints matched to it, and only its own.
func TestConsoleShowsComplaints(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ctx := context.Background()
	for range 3 {
		if err := g.Feedback.AddComplaint(ctx, f.alpha.ID); err != nil {
			t.Fatal(err)
		}
	}
	overview := func(a account, id int64) string {
		c := newClient(t, baseURL(g))
		c.signInHTTP(a)
		_, page := c.get("/console/t/" + strconv.FormatInt(id, 10) + "/")
		return page
	}
	page := overview(f.alphaAdmin, f.alpha.ID)
	if !strings.Contains(page, `id="feedback"`) || !strings.Contains(page, "<strong>3</strong> complaints") {
		t.Fatalf("alpha's overview does not show its 3 complaints:\n%.3000s", page)
	}
	if page := overview(f.betaAdmin, f.beta.ID); !strings.Contains(page, "<strong>0</strong> complaints") {
		t.Fatalf("beta's overview does not show its own 0 complaints:\n%.3000s", page)
	}
}

// The operator's dry-run page: the form, and for a change the report's
// table from POST /api/v1/simulate/policy; a bad setting is said above the
// form; a tenant admin cannot open it.
func TestConsoleDryRunPage(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ops := newClient(t, baseURL(g))
	ops.signInHTTP(f.operator)
	resp, page := ops.get("/console/simulate")
	if resp.StatusCode != 200 || !strings.Contains(page, `id="dry-run-form"`) || !strings.Contains(page, "Policy dry run") {
		t.Fatalf("the dry-run page: %d\n%.2000s", resp.StatusCode, page)
	}
	resp, page = ops.get("/console/simulate?settings=tenant_spam_ratio%3D0.2&since=24h")
	if resp.StatusCode != 200 || !strings.Contains(page, `id="dry-run-report"`) || !strings.Contains(page, `&#34;tenant_spam_ratio&#34;: 0.2`) {
		t.Fatalf("the dry run's report: %d\n%.3000s", resp.StatusCode, page)
	}
	// alpha's server sends while an operator has alpha blocked: the dry
	// run (which replays no operator action) would not have stopped it.
	ctx := context.Background()
	if _, err := g.Directory.CreateConnector(ctx, directory.By{Actor: "admin:boss@alpha.test"}, f.alpha.ID, "lab", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := g.Blocks.BlockTenant(ctx, blocks.Block{TenantID: f.alpha.ID, Reason: blocks.ReasonOperator, Rule: "operator"}, "test"); err != nil {
		t.Fatal(err)
	}
	if err := sendMail(g.Addrs["relay"].String(), "invoice@alpha.test", "someone@example.net", "Quarterly figures"); err == nil || !strings.Contains(err.Error(), "5.7.705") {
		t.Fatalf("mail from blocked alpha: want 550 5.7.705, got %v", err)
	}
	if err := g.Trace.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_, page = ops.get("/console/simulate?settings=tenant_spam_ratio%3D0.2&since=24h")
	row := regexp.MustCompile(`(?s)<tr class="dry-tenant[^"]*" id="dry-tenant-` + strconv.FormatInt(f.alpha.ID, 10) + `">.*?</tr>`).FindString(page)
	for _, want := range []string{"alpha", "✕ 5.7.705", "at message 1", "✓ not stopped", "would not be stopped"} {
		if !strings.Contains(row, want) {
			t.Fatalf("alpha's row lacks %q:\n%s\n%.4000s", want, row, page)
		}
	}
	resp, page = ops.get("/console/simulate?settings=tenant_spam_ratio%3D9&since=24h")
	if resp.StatusCode != 400 || !strings.Contains(page, `id="error"`) || !strings.Contains(page, "tenant_spam_ratio") {
		t.Fatalf("a bad setting: %d\n%.3000s", resp.StatusCode, page)
	}
	admin := newClient(t, baseURL(g))
	admin.signInHTTP(f.alphaAdmin)
	if resp, _ := admin.get("/console/simulate"); resp.StatusCode == 200 {
		t.Fatal("a tenant admin opened the dry-run page")
	}
}
