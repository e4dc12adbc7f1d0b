package gateway_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/gateway"
)

// An approved unblock resets the windows that blocked the tenant: the next
// messages are judged afresh (a few spam verdicts do not re-block it), and
// a second block raises a second alert even within the dedupe window.
func TestUnblockResetsWindowsAndReblockAlerts(t *testing.T) {
	onBothStores(t, func(t *testing.T, store func(*config.Config)) {
		hooks := startWebhook(t)
		sink := startSink(t, devsink.Hooks{})
		cfg := protectConfig(t, sink.Addr())
		cfg.Alerts.WebhookURL, cfg.Alerts.WebhookSecret = hooks.url, "a webhook secret of some length"
		store(cfg)
		g := startWith(t, cfg, false, gateway.Options{Classifier: subjectClassifier})
		acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
		spray := func(n int) {
			t.Helper()
			for i := range n {
				if err := relayFrom(t, g, "127.0.0.2", "mallory@acme.test", fmt.Sprintf("[spam] win big %d", i)); err != nil {
					t.Fatalf("spam %d of %d: %v", i+1, n, err)
				}
			}
		}
		spray(4)
		wantCode(t, relayFrom(t, g, "127.0.0.2", "mallory@acme.test", "[spam] win big"), 550, "5.7.705")
		waitUntil(t, "the first block's alert", func() bool { return hooks.count(alert.TenantBlocked, acme.ID) == 1 })

		tok := tenantToken(t, g, acme.ID)
		var req struct{ ID int64 }
		if code := apiCall(t, g, tok, "POST", fmt.Sprintf("/api/v1/tenants/%d/unblock-requests", acme.ID),
			map[string]any{"cause": "a phished password", "fix": "reset, MFA on"}, &req); code != 201 {
			t.Fatalf("unblock request: %d", code)
		}
		if code := apiCall(t, g, g.AdminToken, "POST", fmt.Sprintf("/api/v1/unblock-requests/%d/approve", req.ID), map[string]any{"note": "ok"}, nil); code != 200 {
			t.Fatalf("approve: %d", code)
		}
		// The window that blocked it held 5 spam: had it not been reset,
		// the first spam-looking message would block again at once.
		if err := relayFrom(t, g, "127.0.0.2", "ann@acme.test", "[spam] a legitimate message the classifier dislikes"); err != nil {
			t.Fatalf("the first message after approval: %v", err)
		}
		if err := relayFrom(t, g, "127.0.0.2", "ann@acme.test", "minutes of the meeting"); err != nil {
			t.Fatalf("a clean message after approval: %v", err)
		}
		spray(3) // 4 counted of 5 in the fresh window: under the count
		wantCode(t, relayFrom(t, g, "127.0.0.2", "mallory@acme.test", "[spam] again"), 550, "5.7.705")
		bs, err := g.Blocks.Blocks(t.Context(), acme.ID)
		if err != nil || len(bs) != 2 || !bs[0].Live() || bs[1].Live() {
			t.Fatalf("blocks: %v %+v", err, bs)
		}
		waitUntil(t, "the second block's own alert", func() bool { return hooks.count(alert.TenantBlocked, acme.ID) == 2 })
	})
}

// An operator lifts a manual block directly: no request, no probation,
// audited with the note; a note is required.
func TestOperatorUnblocksManualBlock(t *testing.T) {
	onBothStores(t, func(t *testing.T, store func(*config.Config)) {
		sink := startSink(t, devsink.Hooks{})
		cfg := protectConfig(t, sink.Addr())
		store(cfg)
		g := startWith(t, cfg, false, gateway.Options{Classifier: subjectClassifier})
		acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
		if code := apiCall(t, g, g.AdminToken, "POST", fmt.Sprintf("/api/v1/tenants/%d/blocks", acme.ID), map[string]any{"reason": "abuse report 991"}, nil); code != 201 {
			t.Fatalf("manual block: %d", code)
		}
		wantCode(t, relayFrom(t, g, "127.0.0.2", "ann@acme.test", "hello"), 550, "5.7.705")
		var e struct{ Error struct{ Message string } }
		if code := apiCall(t, g, g.AdminToken, "POST", fmt.Sprintf("/api/v1/tenants/%d/unblock", acme.ID), map[string]any{}, &e); code != 400 || !strings.Contains(e.Error.Message, "note") {
			t.Fatalf("unblock without a note: %d %+v", code, e)
		}
		if code := apiCall(t, g, tenantToken(t, g, acme.ID), "POST", fmt.Sprintf("/api/v1/tenants/%d/unblock", acme.ID), map[string]any{"note": "me"}, nil); code != 403 && code != 404 {
			t.Fatalf("a tenant admin lifted their own block: %d", code)
		}
		var b blocks.Block
		if code := apiCall(t, g, g.AdminToken, "POST", fmt.Sprintf("/api/v1/tenants/%d/unblock", acme.ID), map[string]any{"note": "report was a mistake"}, &b); code != 200 || b.Live() || b.ProbationDays != 0 {
			t.Fatalf("unblock: %d %+v", code, b)
		}
		if err := relayFrom(t, g, "127.0.0.2", "ann@acme.test", "hello again"); err != nil {
			t.Fatalf("after the unblock: %v", err)
		}
		if _, on := g.Blocks.Probation(acme.ID, b.ReleasedAt.Add(1)); on {
			t.Fatal("a lifted manual block put the tenant on probation")
		}
		entries, err := g.Audit.Query(t.Context(), auditFilter(acme.ID))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, en := range entries {
			if en.Action == "tenant.unblock" && strings.Contains(string(en.After), "report was a mistake") {
				found = true
			}
		}
		if !found {
			t.Fatalf("no audited tenant.unblock with the note: %+v", entries)
		}
	})
}
