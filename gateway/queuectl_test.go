package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
)

// The operator's queue controls over the API on a live queue, against a
// real next hop that defers with 451: a held message is not retried and is
// delivered after release and retry now; a bounce sends the sender a DSN; a
// drop removes the message with an audit entry; a move changes the pool;
// another tenant's admin finds nothing (404).
func TestQueueControls(t *testing.T) {
	var accept atomic.Bool
	var mu sync.Mutex
	tries := map[string]int{} // by subject
	sink := startSink(t, devsink.Hooks{Data: func(m *devsink.Message) error {
		mu.Lock()
		tries[m.Subject]++
		mu.Unlock()
		if m.From == "" || accept.Load() {
			return nil
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	}})
	triesOf := func(subject string) int { mu.Lock(); defer mu.Unlock(); return tries[subject] }
	cfg := testConfig(t, sink.Addr())
	// Long enough that retry now, right after a release, beats the schedule.
	cfg.Queue.RetrySchedule = []config.Duration{config.D(500 * time.Millisecond)}
	g := start(t, cfg, true)
	c := dial(t, addr(g, "relay"))
	for _, s := range []string{"held", "bounced", "dropped", "moved"} {
		if err := send(c, "a@demo.test", []string{"x@example.net"}, testMessage(s, "body")); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]client.QueuedMessage{}
	waitUntil(t, "four queued messages deferred once", func() bool {
		var l struct{ Messages []client.QueuedMessage }
		apiCall(t, g, g.AdminToken, "GET", "/api/v1/queue?sender=A@demo.test&domain=example.net", nil, &l)
		for _, s := range []string{"held", "bounced", "dropped", "moved"} {
			if triesOf(s) < 1 {
				return false
			}
		}
		return len(l.Messages) == 4
	})
	msgs, _ := g.Queue.List(context.Background(), 10)
	for _, m := range msgs {
		ids[m.Subject] = client.QueuedMessage{ID: m.ID, TenantID: m.TenantID}
	}
	demo := ids["held"].TenantID
	act := func(token, subject, action string, body any, wantStatus int) {
		t.Helper()
		path := fmt.Sprintf("/api/v1/queue/%s/%s", ids[subject].ID, action)
		if token != g.AdminToken {
			path = fmt.Sprintf("/api/v1/tenants/%d/queue/%s/%s", demo, ids[subject].ID, action)
		}
		var st int
		waitUntil(t, action+" outside an attempt", func() bool {
			st = apiCall(t, g, token, "POST", path, body, nil)
			return st != 409 || wantStatus == 409
		})
		if st != wantStatus {
			t.Fatalf("%s %s: %d, want %d", action, subject, st, wantStatus)
		}
	}

	// Another tenant's admin sees nothing of demo's queue.
	other := seedTenantWithConnector(t, g, "other", "other.test", "")
	otherTok := tenantToken(t, g, other.ID)
	for _, action := range []string{"hold", "drop", "bounce"} {
		if st := apiCall(t, g, otherTok, "POST", fmt.Sprintf("/api/v1/tenants/%d/queue/%s/%s", other.ID, ids["held"].ID, action), nil, nil); st != 404 {
			t.Fatalf("another tenant's %s: %d, want 404", action, st)
		}
		if st := apiCall(t, g, otherTok, "POST", fmt.Sprintf("/api/v1/tenants/%d/queue/%s/%s", demo, ids["held"].ID, action), nil, nil); st != 404 {
			t.Fatalf("another tenant's %s through demo's path: %d, want 404", action, st)
		}
	}
	var l struct{ Messages []client.QueuedMessage }
	if apiCall(t, g, otherTok, "GET", fmt.Sprintf("/api/v1/tenants/%d/queue", other.ID), nil, &l); len(l.Messages) != 0 {
		t.Fatalf("another tenant lists %d of demo's messages", len(l.Messages))
	}
	demoTok := tenantToken(t, g, demo)
	act(demoTok, "moved", "move", nil, 403) // operators only

	// Hold: no retry while the others are retried.
	act(g.AdminToken, "held", "hold", client.QueueAction{Reason: "looks odd"}, 200)
	base := triesOf("held")
	waitUntil(t, "three more retries of another message", func() bool { return triesOf("moved") >= 4 })
	if n := triesOf("held"); n != base {
		t.Fatalf("held message tried %d times after the hold, want %d", n, base)
	}
	act(g.AdminToken, "held", "retry", nil, 409) // held: release first

	// Move to the high-risk pool.
	act(g.AdminToken, "moved", "move", client.QueueAction{Pool: "high-risk"}, 200)
	if apiCall(t, g, g.AdminToken, "GET", "/api/v1/queue?pool=high-risk", nil, &l); len(l.Messages) != 1 || l.Messages[0].ID != ids["moved"].ID {
		t.Fatalf("high-risk pool holds %+v", l.Messages)
	}

	// Drop: gone, no DSN, audited.
	act(demoTok, "dropped", "drop", nil, 200)
	var audit struct {
		Entries []struct{ Target, Actor string }
	}
	apiCall(t, g, g.AdminToken, "GET", "/api/v1/audit?action=queue.drop", nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Target != "queue:"+ids["dropped"].ID {
		t.Fatalf("audit of the drop: %+v", audit.Entries)
	}

	// Bounce: the sender gets a DSN with the reason.
	act(g.AdminToken, "bounced", "bounce", client.QueueAction{Reason: "spam run reported"}, 200)
	if !sink.Wait(waitFor, func(ms []*devsink.Message) bool {
		for _, m := range ms {
			if m.From == "" && len(m.To) == 1 && m.To[0] == "a@demo.test" && strings.Contains(string(m.Data), "spam run reported") {
				return true
			}
		}
		return false
	}) {
		t.Fatal("no DSN with the reason reached the sender")
	}

	// Release and retry now: delivered.
	accept.Store(true)
	act(g.AdminToken, "held", "release", nil, 200)
	act(g.AdminToken, "held", "retry", nil, 200)
	if !sink.Wait(waitFor, func(ms []*devsink.Message) bool {
		for _, m := range ms {
			if m.Subject == "held" {
				return true
			}
		}
		return false
	}) {
		t.Fatal("released message not delivered")
	}
}
