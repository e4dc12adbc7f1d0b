package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/reputation"
	"github.com/tollgate-mail/tollgate/trace"
)

// subjectClassifier is the test's classifier, fed through the same seam as
// the built-in engine: a message whose Subject starts with "[spam]" is spam,
// "[bulk]" bulk, anything else clean. What is under test here is what the
// gateway does with verdicts, not how they are reached (classify/ tests
// that).
func subjectClassifier(_ context.Context, raw []byte, _ int, _ string) (policy.Verdict, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return policy.Verdict{}, err
	}
	subj := m.Header.Get("Subject")
	switch {
	case strings.HasPrefix(subj, "[spam]"):
		return policy.Verdict{Class: "spam", Score: 9, Engine: "test"}, nil
	case strings.HasPrefix(subj, "[bulk]"):
		return policy.Verdict{Class: "clean", Score: -2, Bulk: 7, IsBulk: true, Engine: "test"}, nil
	}
	return policy.Verdict{Class: "clean", Engine: "test"}, nil
}

func protectConfig(t *testing.T, sink string) *config.Config {
	c := testConfig(t, sink)
	c.Policy.TenantSpamCount = 5
	c.Policy.TenantSpamRatio = 0.5
	return c
}

// startProtected is a gateway without the dev seed on protectConfig,
// changed by tune (nil: none), with the subject classifier.
func startProtected(t *testing.T, tune func(cfg *config.Config)) (*gateway.Gateway, *devsink.Sink) {
	t.Helper()
	sink := startSink(t, devsink.Hooks{})
	cfg := protectConfig(t, sink.Addr())
	if tune != nil {
		tune(cfg)
	}
	return startWith(t, cfg, false, gateway.Options{Classifier: subjectClassifier}), sink
}

func msgFrom(from, subject string) string {
	return "From: " + from + "\r\nTo: someone@example.net\r\nSubject: " + subject + "\r\n\r\nHello.\r\n"
}

// relayFrom sends one message from source IP src to the relay port and
// returns the final reply's error (nil for 250).
func relayFrom(t *testing.T, g *gateway.Gateway, src, from, subject string) error {
	t.Helper()
	c := dialStartTLSFrom(t, src, addr(g, "relay"))
	defer c.Close()
	return send(c, from, []string{stranger()}, msgFrom(from, subject))
}

var strangers atomic.Int64

// stranger is a recipient no tenant has mailed before: the tests' spam
// goes to strangers, as a compromised account's does (mail to recipients a
// tenant knows is not taken for abuse).
func stranger() string { return fmt.Sprintf("someone.%d@example.net", strangers.Add(1)) }

func apiCall(t *testing.T, g *gateway.Gateway, token, method, path string, body, out any) int {
	t.Helper()
	status, b := apiRequest(t, g, token, method, path, body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return status
}

// tenantToken is an API token scoped to one tenant, as its admin would hold.
func tenantToken(t *testing.T, g *gateway.Gateway, tenantID int64) string {
	var tok struct{ Token string }
	if st := apiCall(t, g, g.AdminToken, "POST", "/api/v1/tokens", map[string]any{"name": fmt.Sprintf("t%d", tenantID), "tenant_id": tenantID}, &tok); st != 201 {
		t.Fatalf("create tenant token: %d", st)
	}
	return tok.Token
}

// Scenario 1: a compromised tenant spraying spam is blocked with 5.7.705
// on every port, its neighbour keeps sending, the block's evidence is
// recorded, and the unblock workflow releases it on probation.
func TestCompromisedTenantBlocked(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := startWith(t, protectConfig(t, sink.Addr()), false, gateway.Options{Classifier: subjectClassifier})
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	neighbour := seedTenantWithConnector(t, g, "neighbour", "neighbour.test", "127.0.0.3/32")
	ctx := context.Background()
	if _, err := g.Directory.CreateUser(ctx, directory.By{}, acme.ID, "ann@acme.test", "ann's password 1"); err != nil {
		t.Fatal(err)
	}

	// Four spams: under the count threshold, accepted (through the
	// high-risk pool).
	for i := range 4 {
		if err := relayFrom(t, g, "127.0.0.2", "mallory@acme.test", fmt.Sprintf("[spam] win big %d", i)); err != nil {
			t.Fatalf("spam %d under the threshold: %v", i, err)
		}
	}
	if _, ok := g.Blocks.ActiveBlock(acme.ID); ok {
		t.Fatal("blocked after 4 spams; the count threshold is 5")
	}
	// The fifth crosses count (5) and ratio (5/5 ≥ 0.5): refused, blocked.
	err := relayFrom(t, g, "127.0.0.2", "mallory@acme.test", "[spam] win big 4")
	wantCode(t, err, 550, "5.7.705")
	link := "http://" + addr(g, "admin") + "/ndr/5.7.705"
	if !strings.Contains(err.Error(), link) {
		t.Errorf("the refusal does not link %s: %v", link, err)
	}
	if resp, err := http.Get(link); err != nil || resp.StatusCode != 200 {
		t.Errorf("the help link does not answer: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// Sticky: clean mail from the tenant is refused at MAIL too, on the
	// relay port and on submission.
	c := dialStartTLSFrom(t, "127.0.0.2", addr(g, "relay"))
	wantCode(t, c.Mail("ok@acme.test", nil), 550, "5.7.705")
	sub := dialStartTLS(t, addr(g, "submission"))
	if err := sub.Auth(sasl.NewPlainClient("", "ann@acme.test", "ann's password 1")); err != nil {
		t.Fatal(err)
	}
	wantCode(t, sub.Mail("ann@acme.test", nil), 550, "5.7.705")
	// The neighbour is untouched.
	if err := relayFrom(t, g, "127.0.0.3", "bob@neighbour.test", "quarterly report"); err != nil {
		t.Fatalf("neighbour refused: %v", err)
	}

	// The evidence: figures, top sender, samples with subjects.
	var st struct {
		State string
		Block *blocks.Block
	}
	if code := apiCall(t, g, g.AdminToken, "GET", fmt.Sprintf("/api/v1/tenants/%d/status", acme.ID), nil, &st); code != 200 || st.State != "blocked" || st.Block == nil {
		t.Fatalf("status: %d %+v", code, st)
	}
	ev := st.Block.Evidence
	if ev.SpamBulk != 5 || ev.Messages != 5 || len(ev.TopSenders) == 0 || ev.TopSenders[0].Name != "mallory@acme.test" ||
		len(ev.Samples) != 5 || !strings.HasPrefix(ev.Samples[0].Subject, "[spam] win big") || len(ev.RecentConnectors) == 0 {
		t.Fatalf("evidence: %+v", ev)
	}

	// The trace shows each message: verdicts, pools, and the refusal with
	// its rule and code; the tenant admin sees it too, the neighbour not.
	var tr struct{ Messages []trace.Summary }
	tokNeighbour := tenantToken(t, g, neighbour.ID)
	apiCall(t, g, tokNeighbour, "GET", "/api/v1/trace?sender=mallory@acme.test", nil, &tr)
	if len(tr.Messages) != 0 {
		t.Fatalf("the neighbour's admin sees acme's trace: %+v", tr.Messages)
	}
	apiCall(t, g, tenantToken(t, g, acme.ID), "GET", "/api/v1/trace?sender=mallory@acme.test", nil, &tr)
	if len(tr.Messages) != 5 {
		t.Fatalf("trace: %d messages, want 5: %+v", len(tr.Messages), tr.Messages)
	}
	refused := tr.Messages[0] // newest first
	if refused.Status != "refused" || refused.Rule != "tenant-threshold" || refused.Code != "550 5.7.705" || refused.Verdict != "spam" {
		t.Fatalf("the refused message's trace: %+v", refused)
	}
	for _, m := range tr.Messages[1:] {
		if m.QueueID == "" || m.Pool != "high-risk" || m.Verdict != "spam" {
			t.Fatalf("an accepted spam's trace: %+v", m)
		}
	}
	var one struct {
		Events []trace.Entry
	}
	if code := apiCall(t, g, g.AdminToken, "GET", "/api/v1/trace/"+tr.Messages[1].ID, nil, &one); code != 200 || len(one.Events) < 4 {
		t.Fatalf("trace of %s: %d %+v", tr.Messages[1].ID, code, one)
	}

	// The tenant admin asks to be unblocked; the operator sees the
	// checklist and approves; the tenant sends again, on probation.
	tok := tenantToken(t, g, acme.ID)
	var req struct {
		ID        int64
		Checklist []blocks.CheckItem
	}
	if code := apiCall(t, g, tok, "POST", fmt.Sprintf("/api/v1/tenants/%d/unblock-requests", acme.ID),
		map[string]any{"cause": "a leaked connector", "fix": "deleted it, rotated passwords"}, &req); code != 201 || len(req.Checklist) != 4 {
		t.Fatalf("unblock request: %d %+v", code, req)
	}
	if code := apiCall(t, g, tok, "POST", fmt.Sprintf("/api/v1/unblock-requests/%d/approve", req.ID), nil, nil); code != 403 && code != 404 {
		t.Fatalf("a tenant admin approved their own request: %d", code)
	}
	if code := apiCall(t, g, g.AdminToken, "POST", fmt.Sprintf("/api/v1/unblock-requests/%d/approve", req.ID), map[string]any{"note": "ok"}, nil); code != 200 {
		t.Fatalf("approve: %d", code)
	}
	if err := relayFrom(t, g, "127.0.0.2", "ok@acme.test", "back in business"); err != nil {
		t.Fatalf("after approval: %v", err)
	}
	if code := apiCall(t, g, tok, "GET", fmt.Sprintf("/api/v1/tenants/%d/status", acme.ID), nil, &st); code != 200 || st.State != "probation" {
		t.Fatalf("status after approval: %d %+v", code, st)
	}
	// Everything was audited.
	entries, err := g.Audit.Query(ctx, auditFilter(acme.ID))
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"tenant.block", "unblock.request", "unblock.approve", "tenant.unblock"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}
}

// The tenant threshold needs both the count and the ratio: a tenant with
// plenty of clean mail is not blocked by the same spam count. Bulk does not
// count, unless the tenant's policy says it does (bulk_counts).
func TestTenantThresholdNeedsRatio(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := startWith(t, protectConfig(t, sink.Addr()), false, gateway.Options{Classifier: subjectClassifier})
	big := seedTenantWithConnector(t, g, "big", "big.test", "127.0.0.4/32")
	small := seedTenantWithConnector(t, g, "small", "small.test", "127.0.0.5/32")
	for i := range 6 {
		if err := relayFrom(t, g, "127.0.0.4", fmt.Sprintf("u%d@big.test", i), "newsletter"); err != nil {
			t.Fatal(err)
		}
	}
	// 5 spam+bulk of 11 (0.45 < 0.5): not blocked.
	for i := range 5 {
		subj := "[spam] x"
		if i%2 == 0 {
			subj = "[bulk] sale"
		}
		if err := relayFrom(t, g, "127.0.0.4", fmt.Sprintf("s%d@big.test", i), subj); err != nil {
			t.Fatalf("big tenant refused at ratio %d/%d: %v", i+1, 6+i+1, err)
		}
	}
	if _, ok := g.Blocks.ActiveBlock(big.ID); ok {
		t.Fatal("a tenant under the ratio threshold was blocked")
	}
	// The small tenant's bulk does not count by default...
	for i := range 3 {
		if err := relayFrom(t, g, "127.0.0.5", "x@small.test", "[bulk] sale"); err != nil {
			t.Fatalf("bulk %d without bulk_counts: %v", i, err)
		}
	}
	if _, ok := g.Blocks.ActiveBlock(small.ID); ok {
		t.Fatal("bulk blocked a tenant without bulk_counts")
	}
	// ...with bulk_counts = true its five bulk messages cross both (5 of 8).
	if st := apiCall(t, g, g.AdminToken, "PUT", fmt.Sprintf("/api/v1/tenants/%d/policy", small.ID), map[string]any{"bulk_counts": true}, nil); st != 200 {
		t.Fatalf("set bulk_counts: %d", st)
	}
	for i := range 4 {
		if err := relayFrom(t, g, "127.0.0.5", "x@small.test", "[bulk] sale"); err != nil {
			t.Fatalf("bulk %d: %v", i, err)
		}
	}
	wantCode(t, relayFrom(t, g, "127.0.0.5", "x@small.test", "[bulk] sale"), 550, "5.7.705")
	if _, ok := g.Blocks.ActiveBlock(small.ID); !ok {
		t.Fatal("the small tenant was not blocked")
	}
}

// An expired subscription gives 5.7.705 with its own reason; a renewal
// lifts it at once.
func TestExpiredSubscription(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := startWith(t, protectConfig(t, sink.Addr()), false, gateway.Options{Classifier: subjectClassifier})
	tn := seedTenantWithConnector(t, g, "lapsed", "lapsed.test", "127.0.0.6/32")
	ctx := context.Background()
	if _, _, err := g.Directory.SetLicense(ctx, directory.By{}, tn.ID, directory.Licensed, 10, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	err := relayFrom(t, g, "127.0.0.6", "a@lapsed.test", "hello")
	wantCode(t, err, 550, "5.7.705")
	if !strings.Contains(err.Error(), "subscription expired") {
		t.Errorf("the refusal does not say why: %v", err)
	}
	if _, _, err := g.Directory.SetLicense(ctx, directory.By{}, tn.ID, directory.Licensed, 10, time.Now().Add(365*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := relayFrom(t, g, "127.0.0.6", "a@lapsed.test", "hello again"); err != nil {
		t.Fatalf("after renewal: %v", err)
	}
}

// Scenario 2: a trial tenant on a new IP gets 5.7.708 until an operator
// grants an exception; a licensed tenant on a new IP is not refused.
func TestTrialTenantNewIP(t *testing.T) {
	g, _ := startProtected(t, func(cfg *config.Config) {
		cfg.Reputation.TrustedRanges = config.Prefixes{netip.MustParsePrefix("127.0.0.1/32")}
	})
	trial := seedTenantWithConnector(t, g, "trial", "trial.test", "127.0.0.9/32")
	paid := seedTenantWithConnector(t, g, "paid", "paid.test", "127.0.0.10/32")
	ctx := context.Background()
	if _, _, err := g.Directory.SetLicense(ctx, directory.By{}, paid.ID, directory.Licensed, 5, time.Time{}); err != nil {
		t.Fatal(err)
	}
	err := relayFrom(t, g, "127.0.0.9", "a@trial.test", "hello")
	wantCode(t, err, 550, "5.7.708")
	if err := relayFrom(t, g, "127.0.0.10", "a@paid.test", "hello"); err != nil {
		t.Fatalf("licensed tenant refused on a new IP: %v", err)
	}
	// The operator sees why, then grants an exception over the API.
	var a struct {
		Level string
		Low   bool
	}
	if code := apiCall(t, g, g.AdminToken, "GET", fmt.Sprintf("/api/v1/reputation/ips/127.0.0.9?tenant=%d", trial.ID), nil, &a); code != 200 || a.Level != "unknown" || !a.Low {
		t.Fatalf("assessment: %d %+v", code, a)
	}
	if code := apiCall(t, g, g.AdminToken, "POST", "/api/v1/reputation/exceptions",
		map[string]any{"tenant_id": trial.ID, "prefix": "127.0.0.9/33", "ttl": "1h"}, nil); code != 400 {
		t.Fatalf("a bad prefix was accepted: %d", code)
	}
	if code := apiCall(t, g, g.AdminToken, "POST", "/api/v1/reputation/exceptions",
		map[string]any{"tenant_id": trial.ID, "prefix": "127.0.0.9", "expires_at": time.Now().Add(-time.Minute)}, nil); code != 400 {
		t.Fatalf("an exception that already expired was accepted: %d", code)
	}
	var ex reputation.Exception
	if code := apiCall(t, g, g.AdminToken, "POST", "/api/v1/reputation/exceptions",
		map[string]any{"tenant_id": trial.ID, "prefix": "127.0.0.9/32", "ttl": "1h", "reason": "their new MX"}, &ex); code != 201 {
		t.Fatalf("grant: %d", code)
	}
	if err := relayFrom(t, g, "127.0.0.9", "a@trial.test", "hello"); err != nil {
		t.Fatalf("refused despite the exception: %v", err)
	}
	// Revoked, it stops applying at once.
	if code := apiCall(t, g, g.AdminToken, "DELETE", fmt.Sprintf("/api/v1/reputation/exceptions/%d", ex.ID), nil, nil); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	wantCode(t, relayFrom(t, g, "127.0.0.9", "a@trial.test", "hello"), 550, "5.7.708")
}

// Scenario 3: mail from domains that are not the tenant's counts against
// its daily allowance; beyond it, 5.7.750. Its own domains still flow.
func TestUnregisteredDomainAllowance(t *testing.T) {
	g, _ := startProtected(t, func(cfg *config.Config) {
		cfg.Policy.UnregisteredPerDay = 3
	})
	seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	for i := range 3 {
		// Envelope sender foreign, or only the header From: each counts once.
		from := "news@foreign.test"
		if i == 2 {
			if err := func() error {
				c := dialStartTLSFrom(t, "127.0.0.2", addr(g, "relay"))
				defer c.Close()
				return send(c, "bounce@acme.test", []string{"x@example.net"}, msgFrom("ceo@elsewhere.test", "hi"))
			}(); err != nil {
				t.Fatalf("message %d within the allowance: %v", i, err)
			}
			continue
		}
		if err := relayFrom(t, g, "127.0.0.2", from, "hi"); err != nil {
			t.Fatalf("message %d within the allowance: %v", i, err)
		}
	}
	wantCode(t, relayFrom(t, g, "127.0.0.2", "news@foreign.test", "hi"), 550, "5.7.750")
	// Header From foreign behind an own envelope sender: refused at DATA.
	c := dialStartTLSFrom(t, "127.0.0.2", addr(g, "relay"))
	wantCode(t, send(c, "bounce@acme.test", []string{"x@example.net"}, msgFrom("ceo@elsewhere.test", "hi")), 550, "5.7.750")
	if err := relayFrom(t, g, "127.0.0.2", "ok@acme.test", "own domain"); err != nil {
		t.Fatalf("own domain refused: %v", err)
	}
}

// Scenario 4: a user sending spam is restricted (5.1.8) while colleagues
// keep sending; spam through one app password restricts only that app
// password; an admin's release lifts a restriction at once.
func TestSpammingUserRestricted(t *testing.T) {
	g, _ := startProtected(t, func(cfg *config.Config) {
		cfg.Policy.TenantSpamCount = 1000
		cfg.Policy.UserSpamPerHour = 3
	})
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "")
	ctx := context.Background()
	alice, err := g.Directory.CreateUser(ctx, directory.By{}, acme.ID, "alice@acme.test", "alice password 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Directory.CreateUser(ctx, directory.By{}, acme.ID, "bob@acme.test", "bob password 12"); err != nil {
		t.Fatal(err)
	}
	_, appPw, err := g.Directory.CreateAppPassword(ctx, directory.By{}, alice.ID, "phone")
	if err != nil {
		t.Fatal(err)
	}
	submit := func(user, pw, subject string) error {
		c := dialStartTLS(t, addr(g, "submission"))
		defer c.Close()
		if err := c.Auth(sasl.NewPlainClient("", user, pw)); err != nil {
			t.Fatalf("auth %s: %v", user, err)
		}
		return send(c, user, []string{stranger()}, msgFrom(user, subject))
	}
	// Spam through alice's app password: the third restricts the app
	// password alone.
	for i := range 2 {
		if err := submit("alice@acme.test", appPw, "[spam] pills"); err != nil {
			t.Fatalf("spam %d under the limit: %v", i, err)
		}
	}
	wantCode(t, submit("alice@acme.test", appPw, "[spam] pills"), 550, "5.1.8")
	wantCode(t, submit("alice@acme.test", appPw, "clean now"), 550, "5.1.8")
	if err := submit("alice@acme.test", "alice password 1", "from my laptop"); err != nil {
		t.Fatalf("alice's own password was restricted with the app password: %v", err)
	}
	// Spam with bob's own login restricts bob; alice keeps sending.
	for range 2 {
		if err := submit("bob@acme.test", "bob password 12", "[spam] pills"); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, submit("bob@acme.test", "bob password 12", "[spam] pills"), 550, "5.1.8")
	wantCode(t, submit("bob@acme.test", "bob password 12", "clean"), 550, "5.1.8")
	if err := submit("alice@acme.test", "alice password 1", "still fine"); err != nil {
		t.Fatalf("a colleague was stopped: %v", err)
	}
	// The tenant admin sees bob's restriction with its reason and releases it.
	tok := tenantToken(t, g, acme.ID)
	var rs struct{ Restrictions []blocks.Restriction }
	apiCall(t, g, tok, "GET", fmt.Sprintf("/api/v1/tenants/%d/restrictions", acme.ID), nil, &rs)
	var bobs *blocks.Restriction
	for i, r := range rs.Restrictions {
		if r.Kind == blocks.KindSender && r.Subject == "bob@acme.test" {
			bobs = &rs.Restrictions[i]
		}
	}
	if len(rs.Restrictions) != 2 || bobs == nil || bobs.Until.IsZero() {
		t.Fatalf("restrictions: %+v", rs.Restrictions)
	}
	if code := apiCall(t, g, tok, "DELETE", fmt.Sprintf("/api/v1/tenants/%d/restrictions/%d", acme.ID, bobs.ID), nil, nil); code != 200 {
		t.Fatalf("release: %d", code)
	}
	if err := submit("bob@acme.test", "bob password 12", "clean"); err != nil {
		t.Fatalf("bob after release: %v", err)
	}
}

// Sending limits: 30 messages a minute per sender by default (4.7.500, a
// retryable throttle), recipients per message (4.5.3).
func TestSendingLimits(t *testing.T) {
	g, _ := startProtected(t, func(cfg *config.Config) {
		cfg.Policy.UserMessagesPerMinute = 3
		cfg.Policy.RecipientsPerMessage = 2
	})
	seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	for i := range 3 {
		if err := relayFrom(t, g, "127.0.0.2", "fast@acme.test", "hi"); err != nil {
			t.Fatalf("message %d within the rate: %v", i, err)
		}
	}
	wantCode(t, relayFrom(t, g, "127.0.0.2", "fast@acme.test", "hi"), 451, "4.7.500")
	if err := relayFrom(t, g, "127.0.0.2", "other@acme.test", "hi"); err != nil {
		t.Fatalf("another sender throttled: %v", err)
	}
	c := dialStartTLSFrom(t, "127.0.0.2", addr(g, "relay"))
	if err := c.Mail("many@acme.test", nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"a@example.net", "b@example.net"} {
		if err := c.Rcpt(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, c.Rcpt("c@example.net", nil), 452, "4.5.3")
}

func auditFilter(tenantID int64) audit.Filter {
	return audit.Filter{TenantID: &tenantID, Limit: 100}
}

// Mail accepted before a block and still queued when it lands is not
// delivered: the sender gets an RFC 3464 DSN with both explanations and
// the rule and figures in machine-readable fields.
func TestQueuedThenBlockedBounces(t *testing.T) {
	// The first attempt is deferred; the test waits for it, so the
	// message is surely queued (not in flight) when the block lands.
	var accept atomic.Bool
	var deferred atomic.Int32
	sink := startSink(t, devsink.Hooks{Rcpt: func(rcpt string) error {
		if !accept.Load() && strings.HasPrefix(rcpt, "someone") {
			deferred.Add(1)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	}})
	g := startWith(t, protectConfig(t, sink.Addr()), false, gateway.Options{Classifier: subjectClassifier})
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	if err := relayFrom(t, g, "127.0.0.2", "victim@acme.test", "queued before the block"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the first delivery attempt deferred", func() bool { return deferred.Load() > 0 })
	if _, _, err := g.Blocks.BlockTenant(context.Background(), blocks.Block{TenantID: acme.ID, Reason: blocks.ReasonThreshold,
		Rule: "tenant-threshold", Figures: []policy.Figure{{Name: "spam_bulk", Value: "20"}}}, "system"); err != nil {
		t.Fatal(err)
	}
	accept.Store(true)
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatalf("no DSN; sink has %d", sink.Count())
	}
	d := sink.Messages()[0]
	if d.From != "" || len(d.To) != 1 || d.To[0] != "victim@acme.test" {
		t.Fatalf("the held message went out instead of a DSN: from %q to %v", d.From, d.To)
	}
	body := string(d.Data)
	for _, want := range []string{"multipart/report", "Status: 5.7.705", "X-Tollgate-Rule: tenant-threshold",
		"X-Tollgate-Figures: spam_bulk=20", "For the sender", "For the email admin", "unblock request"} {
		if !strings.Contains(body, want) {
			t.Errorf("DSN lacks %q", want)
		}
	}
	waitQueueEmpty(t, g)
}

// With engine "fallback" and rspamd unreachable, messages are still
// classified (by the built-in model) and the trace says which engine
// answered: a dead rspamd never turns the thresholds off.
func TestClassifierFallback(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	cfg := protectConfig(t, sink.Addr())
	cfg.Classify.Engine = "fallback"
	cfg.Classify.RspamdURL = "http://127.0.0.1:1" // nothing listens there
	cfg.Classify.RspamdTimeout = config.D(time.Second)
	g := startWith(t, cfg, false, gateway.Options{})
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	if err := relayFrom(t, g, "127.0.0.2", "ann@acme.test", "Minutes of Tuesday's meeting"); err != nil {
		t.Fatal(err)
	}
	var tr struct{ Messages []trace.Summary }
	apiCall(t, g, tenantToken(t, g, acme.ID), "GET", "/api/v1/trace?sender=ann@acme.test", nil, &tr)
	if len(tr.Messages) != 1 || tr.Messages[0].Verdict == "" {
		t.Fatalf("not classified with rspamd down: %+v", tr.Messages)
	}
	var one struct{ Events []trace.Entry }
	apiCall(t, g, g.AdminToken, "GET", "/api/v1/trace/"+tr.Messages[0].ID, nil, &one)
	found := false
	for _, e := range one.Events {
		if e.Stage == "classify" && strings.Contains(e.Attrs["reasons"], "ENGINE_FALLBACK") {
			found = true
		}
	}
	if !found {
		t.Fatalf("the trace does not say the fallback answered: %+v", one.Events)
	}
}

// Mail queued through a connector that is restricted before delivery is
// bounced with 5.7.711, not delivered.
func TestQueuedThenConnectorRestrictedBounces(t *testing.T) {
	// The first attempt is deferred; the test waits for it, so the
	// message is surely queued (not in flight) when the block lands.
	var accept atomic.Bool
	var deferred atomic.Int32
	sink := startSink(t, devsink.Hooks{Rcpt: func(rcpt string) error {
		if !accept.Load() && strings.HasPrefix(rcpt, "someone") {
			deferred.Add(1)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	}})
	g := startWith(t, protectConfig(t, sink.Addr()), false, gateway.Options{Classifier: subjectClassifier})
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	if err := relayFrom(t, g, "127.0.0.2", "app@acme.test", "queued before the restriction"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the first delivery attempt deferred", func() bool { return deferred.Load() > 0 })
	cs, err := g.Directory.Connectors(context.Background(), acme.ID)
	if err != nil || len(cs) != 1 {
		t.Fatal(cs, err)
	}
	if _, _, err := g.Blocks.Restrict(context.Background(), blocks.Restriction{TenantID: acme.ID, Kind: blocks.KindConnector,
		Subject: fmt.Sprint(cs[0].ID), Reason: "spam through this connector", Rule: "outbound-spam-policy"}, "system"); err != nil {
		t.Fatal(err)
	}
	accept.Store(true)
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatalf("no DSN; sink has %d", sink.Count())
	}
	d := sink.Messages()[0]
	if d.From != "" || !strings.Contains(string(d.Data), "Status: 5.7.711") {
		t.Fatalf("the held message went out instead of a 5.7.711 DSN: from %q", d.From)
	}
}
