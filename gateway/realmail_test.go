package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/trace"
)

// confirmedTenant is a tenant with a verified domain and a connector its
// admin confirmed (out of connector probation), as a working customer has.
func confirmedTenant(t *testing.T, g *gateway.Gateway, name, domain, cidr string) directory.Tenant {
	t.Helper()
	tn := seedTenantWithConnector(t, g, name, domain, cidr)
	cs := mustConnectors(t, g, tn.ID)
	if _, err := g.Directory.ConfirmConnector(context.Background(), directory.By{Actor: "admin@" + domain}, tn.ID, cs[0].ID); err != nil {
		t.Fatal(err)
	}
	return tn
}

// notStopped fails if the tenant is blocked or has a restriction.
func notStopped(t *testing.T, g *gateway.Gateway, tenant int64, what string) {
	t.Helper()
	if b, ok := g.Blocks.ActiveBlock(tenant); ok {
		t.Fatalf("%s: the tenant was blocked: %+v", what, b.Figures)
	}
	rs, err := g.Blocks.Restrictions(context.Background(), tenant, true)
	if err != nil || len(rs) != 0 {
		t.Fatalf("%s: restrictions %v %+v", what, err, rs)
	}
}

// A SaaS tenant relays 300 transactional messages (invoices, receipts,
// shipping notices, password resets, sign-in codes) through its connector,
// mostly to customers it has mailed before: none is refused, nothing is
// restricted or blocked — although today's classifier calls the invoices,
// receipts and shipping notices spam. What protects it is the evidence
// beyond the verdicts: known recipients and a baseline it does not depart
// from.
//
// The history: the tenant was onboarded three days earlier, when an
// operator override (a high tenant_spam_count, no per-credential limit)
// let its first mail through — with today's classifier a brand-new SaaS
// sending these to new customers looks exactly like a brand-new spammer.
func TestSaaSTransactionalNotStopped(t *testing.T) {
	onBothStores(t, func(t *testing.T, store func(*config.Config)) {
		sink := startSink(t, devsink.Hooks{})
		clk := &testClock{t: time.Now().Add(-72 * time.Hour)}
		g := startWith(t, realConfig(t, sink.Addr(), store), false, gateway.Options{Now: clk.now})
		saas := confirmedTenant(t, g, "ledgerly", "ledgerly.test", "127.0.0.6/32")
		policyURL := fmt.Sprintf("/api/v1/tenants/%d/policy", saas.ID)
		if st := apiCall(t, g, g.AdminToken, "PUT", policyURL, map[string]any{"tenant_spam_count": 1000000, "user_spam_per_hour": 0}, nil); st != 200 {
			t.Fatalf("onboarding override: %d", st)
		}
		customer := func(i int) string { return fmt.Sprintf("customer%d@client%d.example", i, i%40) }
		sender := map[string]string{"invoice": "billing", "receipt": "billing", "shipping": "orders", "password-reset": "no-reply", "signin-code": "no-reply"}
		relay := func(kind, to string, n int) error {
			from := sender[kind] + "@ledgerly.test"
			return relayRaw(t, g, "127.0.0.6", from, []string{to}, realMail(t, kind, from, to, "ledgerly.test", n, clk.now()))
		}
		for i := range 220 {
			if err := relay(transactional[i%len(transactional)], customer(i%150), i); err != nil {
				t.Fatalf("onboarding message %d: %v", i, err)
			}
			clk.add(20 * time.Second)
		}
		if st := apiCall(t, g, g.AdminToken, "PUT", policyURL, map[string]any{}, nil); st != 200 {
			t.Fatalf("remove the override: %d", st)
		}
		clk.add(72*time.Hour - 220*20*time.Second)
		// Today: 300 messages, one every 12 s; every tenth is a sign-in
		// code or password reset for a new sign-up.
		for i := range 300 {
			kind, to := transactional[i%3*2%5], customer((i*7)%150) // invoices, sign-in codes, shipping notices in turn
			if i%10 == 9 {
				kind, to = []string{"signin-code", "password-reset"}[i%2], fmt.Sprintf("new%d@signup%d.example", i, i%13)
			}
			if err := relay(kind, to, 1000+i); err != nil {
				t.Fatalf("today's message %d (%s to %s): %v", i, kind, to, err)
			}
			clk.add(12 * time.Second)
		}
		notStopped(t, g, saas.ID, "the SaaS tenant")
		// The trace of an accepted invoice shows the evidence the decision
		// read: few new recipients, a baseline it does not depart from.
		// The trace is written behind the SMTP path, so the newest
		// invoice's events may still be on their way: wait for them.
		var ev map[string]string
		complete := func() bool {
			var tr struct{ Messages []trace.Summary }
			apiCall(t, g, g.AdminToken, "GET", "/api/v1/trace?sender=billing@ledgerly.test", nil, &tr)
			if len(tr.Messages) == 0 {
				return false
			}
			var one struct{ Events []trace.Entry }
			apiCall(t, g, g.AdminToken, "GET", "/api/v1/trace/"+tr.Messages[0].ID, nil, &one)
			for _, e := range one.Events {
				if e.Stage == "data" {
					ev = e.Attrs
				}
			}
			return ev != nil
		}
		waitUntil(t, "the newest invoice's data decision is in the trace", complete)
		if ev["evidence.established"] != "true" || ev["evidence.departs"] != "false" || ev["evidence.novelty"] == "" || ev["evidence.feedback"] == "" {
			t.Fatalf("the trace's data decision lacks the evidence: %v", ev)
		}
	})
}

// A university's list server relays 320 list messages (List-Id,
// List-Unsubscribe; the classifier calls them bulk, some spam) with VERP
// senders to its subscribers, plus a newsletter with one-click unsubscribe:
// list mail is not abuse, so nothing is refused, restricted or blocked.
func TestListServerNotStopped(t *testing.T) {
	onBothStores(t, func(t *testing.T, store func(*config.Config)) {
		sink := startSink(t, devsink.Hooks{})
		clk := &testClock{t: time.Now()}
		g := startWith(t, realConfig(t, sink.Addr(), store), false, gateway.Options{Now: clk.now})
		uni := confirmedTenant(t, g, "uni", "uni.test", "127.0.0.7/32")
		n := 0
		for post := range 8 {
			for s := range 40 {
				kind := "list-post"
				if post == 3 {
					kind = "newsletter"
				}
				to := fmt.Sprintf("member%d@dept%d.example", s, s%9)
				from := fmt.Sprintf("physics-seminar-bounces+%s=%s@uni.test", strings.Split(to, "@")[0], strings.Split(to, "@")[1])
				if err := relayRaw(t, g, "127.0.0.7", from, []string{to}, realMail(t, kind, "h.marsh@uni.test", to, "uni.test", post, clk.now())); err != nil {
					t.Fatalf("list message %d (post %d to %s): %v", n, post, to, err)
				}
				n++
				clk.add(8 * time.Second)
			}
		}
		notStopped(t, g, uni.ID, "the list server")
	})
}

// A compromised tenant relays spam (the shared corpus's) to strangers
// through its connector: it is stopped after at most 20 spam messages
// accepted, and stays stopped.
func TestCompromisedTenantRelayingSpamStopped(t *testing.T) {
	onBothStores(t, func(t *testing.T, store func(*config.Config)) {
		spam := corpusSpam(t, 40)
		sink := startSink(t, devsink.Hooks{})
		clk := &testClock{t: time.Now()}
		g := startWith(t, realConfig(t, sink.Addr(), store), false, gateway.Options{Now: clk.now})
		victim := confirmedTenant(t, g, "victim", "victim.test", "127.0.0.8/32")
		accepted, refused := 0, 0
		var first *smtp.SMTPError
		for i, raw := range spam {
			err := relayRaw(t, g, "127.0.0.8", fmt.Sprintf("promo%d@victim.test", i), []string{fmt.Sprintf("target%d@isp%d.example", i, i%7)}, string(raw))
			clk.add(5 * time.Second)
			if err == nil {
				if refused > 0 {
					t.Fatalf("spam %d accepted after the tenant was stopped", i)
				}
				accepted++
				continue
			}
			se, ok := err.(*smtp.SMTPError)
			if !ok {
				t.Fatalf("spam %d: %v", i, err)
			}
			code := fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
			if code != "5.7.705" && code != "5.7.711" && code != "5.1.8" {
				t.Fatalf("spam %d refused with %d %s %s, want a stop (5.7.705, 5.7.711 or 5.1.8)", i, se.Code, code, se.Message)
			}
			if first == nil {
				first = se
			}
			refused++
		}
		if first == nil || accepted > 20 {
			t.Fatalf("accepted %d spam messages before the stop (%v), want at most 20", accepted, first)
		}
		t.Logf("stopped after %d spam accepted: %d %v %s", accepted, first.Code, first.EnhancedCode, first.Message)
		rs, err := g.Blocks.Restrictions(context.Background(), victim.ID, false)
		_, blocked := g.Blocks.ActiveBlock(victim.ID)
		if err != nil || (len(rs) == 0 && !blocked) {
			t.Fatalf("no restriction or block recorded: %v %+v", err, rs)
		}
		if len(rs) > 0 && rs[0].Kind != blocks.KindConnector {
			t.Logf("restricted %s %s", rs[0].Kind, rs[0].Subject)
		}
	})
}
