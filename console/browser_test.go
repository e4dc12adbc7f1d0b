package console_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/dnstest"
	"github.com/tollgate-mail/tollgate/gateway"
)

// TestConsoleBrowser drives the admin center in headless Chromium against
// a real gateway: a tenant admin signs in with a password and TOTP
// (enrolling on the way), adds and verifies a domain against DNS served by
// the test, deletes a connector an attacker made and finds that in the
// audit log, confirms a connector with a TOTP step-up, and cannot reach
// another tenant's pages; then an operator sees every tenant.
func TestConsoleBrowser(t *testing.T) {
	dns := dnstest.Start(t)
	g := startGatewayWith(t, dns.Addr, gateway.Options{}, withEventWebhooks(t))
	f := newFixture(t, g)
	ctx := context.Background()
	var err error
	f.legit, err = g.Directory.CreateConnector(ctx, directory.By{Actor: "admin:boss@alpha.test"}, f.alpha.ID, "onprem", []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	f.rogue, err = g.Directory.CreateConnector(ctx, directory.By{Actor: "admin:intruder@alpha.test"}, f.alpha.ID, "relay-x", []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	f.seedProtection(t)
	b := newBrowser(t, baseURL(g))
	// Each step builds on the one before: stop at the first that fails.
	step := func(t *testing.T, name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	step(t, "a wrong password, typed with the keyboard alone, is refused and said so", func(t *testing.T) {
		b.t = t
		b.open("/console/signin")
		if id := run(b, "focus", chromedp.Evaluate[string](`document.activeElement.id`)); id != "email" {
			t.Fatalf("the sign-in page should start in the email field, focus is on %q", id)
		}
		b.do("type", chromedp.KeyEvent(f.alphaAdmin.email), chromedp.KeyEvent("\t"), chromedp.KeyEvent("not the password"))
		ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
		defer cancel()
		resp, err := chromedp.RunResponse(ctx, chromedp.KeyEvent("\r"))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 401 {
			t.Fatalf("wrong password: want 401, got %d", resp.Status)
		}
		b.wantText("#error", "Wrong email or password")
	})

	step(t, "sign in with TOTP enrolment", func(t *testing.T) {
		b.t = t
		b.signIn(f.alphaAdmin, true)
		if p := b.path(); p != fmt.Sprintf("/console/t/%d/", f.alpha.ID) {
			t.Fatalf("a tenant admin lands on their overview, not %s", p)
		}
		b.wantText("#licence", "licensed", "25 seats")
		// Blocked: the state, the rule, the figures and the evidence, and
		// today's volume and spam share with the chart of the last days.
		b.wantText("#prot-h", "blocked")
		b.wantText("#evidence", "tenant_spam_ratio", "threshold", "0.3", "relay-x", "created", "admin:intruder@alpha.test", "invoice@alpha.test", "Your invoice is overdue")
		b.wantText("#today", "530 messages", "471 spam", "88.9 %")
		if n := run(b, "count chart bars", chromedp.Evaluate[int](`document.querySelectorAll('#chart rect.bar').length`)); n != 14 {
			t.Errorf("the chart has %d day bars, want 14", n)
		}
		b.shot("overview")
	})

	step(t, "add and verify a domain", func(t *testing.T) {
		b.t = t
		b.open(fmt.Sprintf("/console/t/%d/domains", f.alpha.ID))
		// The first Tab reaches the skip link, which leads to the content.
		b.do("tab", chromedp.KeyEvent("\t"))
		if cls := run(b, "focus", chromedp.Evaluate[string](`document.activeElement.className`)); cls != "skip" {
			t.Errorf("the first Tab should reach the skip link, reached class %q", cls)
		}
		b.do("skip", chromedp.KeyEvent("\r"))
		run(b, "skip to main", chromedp.Poll[bool](`document.activeElement.id === 'main'`))
		b.fill(map[string]string{"domain-name": "alpha.test"})
		b.submit("add-domain")
		b.wantText("#flash", "Added alpha.test")
		ds, err := g.Directory.Domains(ctx, f.alpha.ID)
		if err != nil || len(ds) != 1 {
			t.Fatalf("alpha's domains after adding one: %v %v", ds, err)
		}
		row, verify := fmt.Sprintf("#domain-%d", ds[0].ID), fmt.Sprintf("verify-%d", ds[0].ID)
		b.wantText(row+" .status", "pending")
		record := b.text(row + " code")
		token, ok := strings.CutPrefix(record, `alpha.test. IN TXT "`)
		if !ok {
			t.Fatalf("unexpected TXT record shown: %q", record)
		}
		token = strings.TrimSuffix(token, `"`)

		// The copy button works under the CSP (the script is a file).
		b.do("copy", chromedp.Click(chromedp.CSS(row+" button.copy")))
		run(b, "copy feedback", chromedp.Poll[bool](`/Copied|Selected/.test(document.getElementById('live').textContent)`))

		// Not published yet: the page says what DNS answered.
		dns.Set(t, "alpha.test", `alpha.test. 60 IN TXT "v=spf1 -all"`)
		b.submit(verify)
		b.wantText("#flash", "not verified yet", "v=spf1 -all")
		b.wantText(row+" .status", "pending")

		dns.Set(t, "alpha.test", `alpha.test. 60 IN TXT "v=spf1 -all"`, `alpha.test. 60 IN TXT "`+token+`"`)
		b.submit(verify)
		b.wantText("#flash", "alpha.test is verified")
		b.wantText(row+" .status", "verified")
		b.shot("domains")
	})

	step(t, "delete a connector and find it in the audit log", func(t *testing.T) {
		b.t = t
		b.open(fmt.Sprintf("/console/t/%d/connectors", f.alpha.ID))
		rogue := fmt.Sprintf("#connector-%d", f.rogue.ID)
		b.wantText(rogue, "relay-x", "new", "198.51.100.0/24", "admin:intruder@alpha.test", "probation")
		b.shot("connectors")

		b.submit(fmt.Sprintf("delete-%d", f.rogue.ID))
		b.wantText("#del-h", "Delete connector relay-x?")
		b.shot("connector-delete")
		b.submit("confirm-delete")
		b.wantText("#flash", "Deleted connector relay-x")
		b.wantText(rogue, "deleted")

		b.open(fmt.Sprintf("/console/t/%d/audit", f.alpha.ID))
		b.do("filter connector events", chromedp.SetValue(chromedp.ID("f-category"), "connector"))
		b.submit("filter")
		b.wantText("#audit tbody tr.connector-event", "connector.delete", fmt.Sprintf("connector:%d", f.rogue.ID), "admin:boss@alpha.test")
		if n := run(b, "count non-connector rows", chromedp.Evaluate[int](`document.querySelectorAll('#audit tbody tr:not(.connector-event)').length`)); n != 0 {
			t.Errorf("the connector filter shows %d other entries", n)
		}
		b.shot("audit")
	})

	step(t, "confirm a connector with a TOTP step-up", func(t *testing.T) {
		b.t = t
		b.open(fmt.Sprintf("/console/t/%d/connectors/%d/confirm", f.alpha.ID, f.legit.ID))
		b.fill(map[string]string{"stepup-code": "000000"})
		b.submit("confirm-connector")
		b.wantText("#flash", "not accepted")
		b.fill(map[string]string{"stepup-code": b.code(f.alphaAdmin.email)})
		b.submit("confirm-connector")
		b.wantText("#flash", "Confirmed connector onprem")
		b.wantText(fmt.Sprintf("#connector-%d", f.legit.ID), "confirmed", "admin:boss@alpha.test")
	})

	step(t, "release a restricted sender", func(t *testing.T) {
		b.t = t
		b.open(fmt.Sprintf("/console/t/%d/users", f.alpha.ID))
		b.wantText("#restricted", "ann@alpha.test", "user_spam_per_hour", "spam_last_hour: 11")
		rs, err := g.Blocks.Restrictions(ctx, f.alpha.ID, false)
		if err != nil || len(rs) != 1 {
			t.Fatalf("restrictions: %v %v", rs, err)
		}
		b.shot("users")
		b.submit(fmt.Sprintf("release-%d", rs[0].ID))
		b.wantText("#flash", "Released sender ann@alpha.test")
		if rs, _ := g.Blocks.Restrictions(ctx, f.alpha.ID, false); len(rs) != 0 {
			t.Errorf("still restricted after the release: %v", rs)
		}
	})

	step(t, "ask for an unblock", func(t *testing.T) {
		b.t = t
		b.open(fmt.Sprintf("/console/t/%d/", f.alpha.ID))
		b.submit("ask-unblock")
		b.wantText("#evidence", "relay-x")
		b.fill(map[string]string{
			"cause": "An attacker phished an admin password and added connector relay-x.",
			"fix":   "Deleted relay-x, reset the password, TOTP is on for every admin."})
		b.submit("send-unblock")
		b.wantText("#flash", "unblock request is sent")
		b.wantText("#unblock-requests", "phished", "pending")
		b.shot("unblock-request")
	})

	step(t, "trace a refused message to its rule", func(t *testing.T) {
		b.t = t
		// alpha's lab server on loopback sends while alpha is blocked.
		if _, err := g.Directory.CreateConnector(ctx, directory.By{Actor: "admin:boss@alpha.test"}, f.alpha.ID, "lab", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}); err != nil {
			t.Fatal(err)
		}
		err := sendMail(g.Addrs["relay"].String(), "invoice@alpha.test", "someone@example.net", "Quarterly figures")
		if err == nil || !strings.Contains(err.Error(), "5.7.705") {
			t.Fatalf("mail from blocked alpha: want 550 5.7.705, got %v", err)
		}
		b.open(fmt.Sprintf("/console/t/%d/trace", f.alpha.ID))
		b.fill(map[string]string{"t-sender": "invoice@alpha.test"})
		b.submit("search-trace")
		b.wantText("#trace tbody", "invoice@alpha.test", "refused", "5.7.705")
		b.shot("trace")
		if st := b.follow("#trace tbody a"); st != 200 {
			t.Fatalf("the message's trace page: status %d", st)
		}
		b.wantText("#message", "refused", "5.7.705", "invoice@alpha.test")
		b.wantText("#events", "reject")
		b.shot("trace-message")
	})

	step(t, "the delivery-events webhook is set and its secret rotated, each secret shown once", func(t *testing.T) {
		b.t = t
		page := fmt.Sprintf("/console/t/%d/event-webhook", f.alpha.ID)
		if st := b.open(page); st != 200 {
			t.Fatalf("%s: status %d", page, st)
		}
		b.wantText("#webhook-none", "No webhook")
		b.wantText("#failed-events", "No failed events")
		b.shot("event-webhook-empty")
		b.fill(map[string]string{"webhook-url-input": "https://127.0.0.1:9/hook"})
		if st := b.submit("set-webhook"); st != 200 {
			t.Fatalf("set webhook: status %d", st)
		}
		first := b.text("#new-secret")
		if len(first) != 64 {
			t.Fatalf("set webhook: secret %q, want 64 hex digits", first)
		}
		b.open(page)
		b.wantText("#webhook-url", "https://127.0.0.1:9/hook")
		if strings.Contains(b.text("#webhook-h + dl"), first) {
			t.Fatal("the page shows the secret again")
		}
		if st := b.submit("rotate-secret"); st != 200 {
			t.Fatalf("rotate: status %d", st)
		}
		b.wantText("#secret-note", "old secret no longer verifies")
		if got := b.text("#new-secret"); got == first || len(got) != 64 {
			t.Fatalf("rotated secret %q (first %q)", got, first)
		}
		b.shot("event-webhook-rotated")
	})

	step(t, "another tenant's pages are out of reach", func(t *testing.T) {
		b.t = t
		for _, p := range []string{"", "domains", "connectors", "users", "audit", "restrictions", "unblock", "policy", "trace", "event-webhook"} {
			path := fmt.Sprintf("/console/t/%d/%s", f.beta.ID, p)
			if st := b.open(path); st != 404 {
				t.Errorf("%s as alpha's admin: want 404, got %d", path, st)
			}
			b.wantText("#error", "not found")
		}
		for _, p := range []string{"/console/tenants", "/console/audit", "/console/unblock-requests", "/console/reputation"} {
			if st := b.open(p); st != 404 {
				t.Errorf("operator page %s as a tenant admin: want 404, got %d", p, st)
			}
		}
		// Even a well-formed post, with this session's CSRF token, cannot
		// add a domain to beta.
		b.open(fmt.Sprintf("/console/t/%d/domains", f.alpha.ID))
		status := run(b, "post to beta", chromedp.Evaluate[int](fmt.Sprintf(`(async () => {
			const body = new URLSearchParams({csrf: document.querySelector('input[name=csrf]').value, name: 'grab.test'});
			const r = await fetch('/console/t/%d/domains', {method: 'POST', body});
			return r.status;
		})()`, f.beta.ID), chromedp.EvalAwaitPromise))
		if status != 404 {
			t.Errorf("POST to beta's domains from alpha's session: want 404, got %d", status)
		}
		ds, err := g.Directory.Domains(ctx, f.beta.ID)
		if err != nil || len(ds) != 0 {
			t.Errorf("beta's domains after the attempt: %v %v", ds, err)
		}
	})

	step(t, "sign out ends the session", func(t *testing.T) {
		b.t = t
		b.submit("signout")
		b.wantText("#flash", "signed out")
		b.open(fmt.Sprintf("/console/t/%d/", f.alpha.ID))
		if p := b.path(); p != "/console/signin" {
			t.Fatalf("after signing out a tenant page sends to sign-in, not %s", p)
		}
	})

	step(t, "an operator sees every tenant", func(t *testing.T) {
		b.t = t
		b.signIn(f.operator, false)
		if p := b.path(); p != "/console/tenants" {
			t.Fatalf("an operator lands on all tenants, not %s", p)
		}
		b.wantText("#tenants", "alpha", "beta")
		b.shot("tenants")
		if st := b.open(fmt.Sprintf("/console/t/%d/connectors", f.beta.ID)); st != 200 {
			t.Fatalf("operator on beta's connectors: status %d", st)
		}
		b.open(fmt.Sprintf("/console/t/%d/", f.beta.ID))
		b.do("open the block form", chromedp.Click(chromedp.CSS("#block-form summary")))
		b.fill(map[string]string{"block-reason": "abuse report 991 from a mailbox provider"})
		b.submit("block-tenant")
		b.wantText("#flash", "Blocked beta")
		b.wantText("#prot-h", "blocked")
		b.wantText("#evidence", "abuse report 991")
		b.open("/console/audit")
		b.wantText("#audit", "connector.delete", "auth.signin")
	})

	step(t, "an operator approves the unblock request beside the evidence", func(t *testing.T) {
		b.t = t
		b.open("/console/tenants")
		b.wantText("#tenants tbody tr:first-child", "alpha", "blocked")
		reqs, err := g.Blocks.UnblockRequests(ctx, f.alpha.ID, "pending")
		if err != nil || len(reqs) != 1 {
			t.Fatalf("pending requests: %v %v", reqs, err)
		}
		id := reqs[0].ID
		b.open("/console/unblock-requests")
		card := fmt.Sprintf("#request-%d", id)
		b.wantText(card, "alpha", "phished", "Deleted relay-x", "tenant_spam_ratio", "relay-x", "Checklist")
		b.shot("unblock-queue")
		b.fill(map[string]string{fmt.Sprintf("note-%d", id): "Thanks: released on probation."})
		b.submit(fmt.Sprintf("approve-%d", id))
		b.wantText("#flash", "Approved the request of alpha")
		b.open(fmt.Sprintf("/console/t/%d/", f.alpha.ID))
		b.wantText("#prot-h", "probation")
		b.open(fmt.Sprintf("/console/t/%d/policy", f.alpha.ID))
		b.fill(map[string]string{"p-user_messages_per_minute": "12"})
		b.submit("save-policy")
		b.wantText("#flash", "Saved the sending limits of alpha")
		b.shot("policy")
	})

	step(t, "an operator grants an IP exception and revokes it", func(t *testing.T) {
		b.t = t
		b.open("/console/reputation")
		b.fill(map[string]string{"x-tenant": fmt.Sprint(f.beta.ID), "x-prefix": "203.0.113.0/28", "x-reason": "new office line, ticket 4711"})
		b.do("ttl", chromedp.SetValue(chromedp.ID("x-ttl"), "72h"))
		b.submit("grant-exception")
		b.wantText("#flash", fmt.Sprintf("Tenant %s (id %d) may send from 203.0.113.0/28 until", f.beta.Name, f.beta.ID))
		b.wantText("#exceptions", "203.0.113.0/28", "ticket 4711", "admin:ops@provider.test")
		b.fill(map[string]string{"r-ip": "203.0.113.5", "r-tenant": fmt.Sprint(f.beta.ID)})
		b.submit("lookup")
		b.wantText("#assessment", "203.0.113.5", "excepted", "ticket 4711")
		b.shot("reputation")
		id := run(b, "exception id", chromedp.Evaluate[int64](`Number(document.querySelector('#exceptions button[id^=revoke-]').id.slice(7))`))
		b.submit(fmt.Sprintf("revoke-%d", id))
		b.wantText("#flash", "Revoked the exception")
		b.fill(map[string]string{"r-ip": "203.0.113.5", "r-tenant": fmt.Sprint(f.beta.ID)})
		b.submit("lookup")
		if got := b.text("#assessment"); strings.Contains(got, "excepted") {
			t.Errorf("still excepted after the revocation: %s", got)
		}
	})
}
