package gateway_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/gateway"
)

func flushEvidence(t *testing.T, gs ...*gateway.Gateway) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for _, g := range gs {
		if err := g.Protect.FlushEvidence(ctx); err != nil {
			t.Fatalf("block evidence still being pushed: %v", err)
		}
	}
}

func countNamed(cs []blocks.Count, name string) int64 {
	for _, c := range cs {
		if c.Name == name {
			return c.Count
		}
	}
	return 0
}

// A tenant's spam spread over two gateways on one Redis and PostgreSQL:
// the block, decided on node A, shows node B's sender and samples beside
// node A's, and node B's API serves the same evidence.
func TestFleetBlockEvidence(t *testing.T) {
	a, b, acme := startFleet(t, func(c *config.Config) { c.Policy.UserSpamPerHour = 0 })
	waitUntil(t, "node B attributes 127.0.0.2", func() bool {
		return relayFrom(t, b, "127.0.0.2", "warmup@acme.test", "hello") == nil
	})
	for i, g := range []*gateway.Gateway{a, b, b, b} {
		from := map[bool]string{true: "alice@acme.test", false: "bob@acme.test"}[g == a]
		if err := relayFrom(t, g, "127.0.0.2", from, fmt.Sprintf("[spam] offer %d", i)); err != nil {
			t.Fatalf("spam %d: %v", i, err)
		}
	}
	flushEvidence(t, a, b)
	wantCode(t, relayFrom(t, a, "127.0.0.2", "alice@acme.test", "[spam] offer 4"), 550, "5.7.705")
	blk, ok := a.Blocks.ActiveBlock(acme.ID)
	if !ok {
		t.Fatal("not blocked")
	}
	ev := blk.Evidence
	if countNamed(ev.TopSenders, "alice@acme.test") != 2 || countNamed(ev.TopSenders, "bob@acme.test") != 3 {
		t.Fatalf("top senders %+v, want alice 2 (node A) and bob 3 (node B)", ev.TopSenders)
	}
	bySender := map[string]int{}
	for _, s := range ev.Samples {
		bySender[s.Sender]++
	}
	if bySender["alice@acme.test"] != 2 || bySender["bob@acme.test"] != 3 {
		t.Fatalf("samples by sender %v, want node A's 2 and node B's 3", bySender)
	}
	if len(ev.TopConnectors) != 1 || ev.TopConnectors[0].Count != 5 {
		t.Fatalf("top connectors %+v, want the one connector with all 5", ev.TopConnectors)
	}
	var got struct {
		Blocks []struct {
			ID       int64 `json:"id"`
			Evidence struct {
				TopSenders []blocks.Count    `json:"top_senders"`
				Extra      map[string]string `json:"extra"`
			} `json:"evidence"`
		} `json:"blocks"`
	}
	if code := apiCall(t, b, b.AdminToken, "GET", fmt.Sprintf("/api/v1/tenants/%d/blocks", acme.ID), nil, &got); code != 200 || len(got.Blocks) != 1 {
		t.Fatalf("node B: list the blocks: %d %+v", code, got)
	}
	if e := got.Blocks[0].Evidence; countNamed(e.TopSenders, "bob@acme.test") != 3 || len(e.Extra) != 0 {
		t.Fatalf("node B's API: %+v", e)
	}
}

// Two gateways on one Redis and PostgreSQL with one webhook: a tenant
// blocked while both nodes cross the threshold at once raises exactly one
// block alert, and a second block after an approved unblock exactly one
// more. The notifiers are closed (drained) before counting, so an extra
// alert still in flight would be counted too.
func TestFleetBlockAlertOnce(t *testing.T) {
	hooks := startWebhook(t)
	a, b, acme := startFleet(t, func(c *config.Config) {
		c.Policy.UserSpamPerHour = 0
		c.Alerts.WebhookURL, c.Alerts.WebhookSecret = hooks.url, "a webhook secret of some length"
	})
	waitUntil(t, "node B attributes 127.0.0.2", func() bool {
		return relayFrom(t, b, "127.0.0.2", "warmup@acme.test", "hello") == nil
	})
	round := 0
	block := func() {
		t.Helper()
		round++
		for i, g := range []*gateway.Gateway{a, b, a, b} {
			if err := relayFrom(t, g, "127.0.0.2", "mallory@acme.test", fmt.Sprintf("[spam] round %d, %d", round, i)); err != nil {
				t.Fatalf("round %d, spam %d: %v", round, i, err)
			}
		}
		// The fifth and sixth at once, one on each node: both cross
		// the threshold and both may record the block.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, g := range []*gateway.Gateway{a, b} {
			wg.Go(func() { errs[i] = relayFrom(t, g, "127.0.0.2", "mallory@acme.test", "[spam] together") })
		}
		wg.Wait()
		refused := 0
		for _, err := range errs {
			if err != nil {
				wantCode(t, err, 550, "5.7.705")
				refused++
			}
		}
		if refused == 0 {
			t.Fatalf("round %d: neither node refused the sixth spam", round)
		}
		if _, ok := a.Blocks.ActiveBlock(acme.ID); !ok {
			t.Fatalf("round %d: no live block", round)
		}
	}
	block()
	waitUntil(t, "the first block's alert", func() bool { return hooks.count(alert.TenantBlocked, acme.ID) >= 1 })

	tok := tenantToken(t, a, acme.ID)
	var req struct{ ID int64 }
	if code := apiCall(t, a, tok, "POST", fmt.Sprintf("/api/v1/tenants/%d/unblock-requests", acme.ID),
		map[string]any{"cause": "a phished password", "fix": "reset, MFA on"}, &req); code != 201 {
		t.Fatalf("unblock request: %d", code)
	}
	if code := apiCall(t, a, a.AdminToken, "POST", fmt.Sprintf("/api/v1/unblock-requests/%d/approve", req.ID), map[string]any{"note": "ok"}, nil); code != 200 {
		t.Fatalf("approve: %d", code)
	}
	waitUntil(t, "node B sees the release", func() bool {
		_, live := b.Blocks.ActiveBlock(acme.ID)
		return !live
	})
	block()

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for _, g := range []*gateway.Gateway{a, b} {
		if err := g.Alerts.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	refs := map[string]int{}
	for _, h := range hooks.alerts {
		if h.Kind == alert.TenantBlocked && h.TenantID == acme.ID {
			refs[h.Ref]++
		}
	}
	bs, err := a.Blocks.Blocks(ctx, acme.ID)
	if err != nil || len(bs) != 2 {
		t.Fatalf("blocks: %v %+v", err, bs)
	}
	for _, bl := range bs {
		if ref := fmt.Sprintf("block:%d", bl.ID); refs[ref] != 1 {
			t.Errorf("block %d raised %d webhook alerts, want 1 (all: %v)", bl.ID, refs[ref], refs)
		}
	}
	if len(refs) != 2 {
		t.Errorf("block alerts by ref %v, want one for each of the 2 blocks", refs)
	}
}
