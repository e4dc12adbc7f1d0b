package dryrun_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/dryrun"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/policy"
)

// subjectClassifier calls a message spam when its Subject says "SPAM": the
// test chooses each verdict, and the trace records it as it would the
// classifier's.
func subjectClassifier(_ context.Context, raw []byte, _ int, _ string) (policy.Verdict, error) {
	if strings.Contains(string(raw), "Subject: SPAM") {
		return policy.Verdict{Class: "spam", Score: 9, Engine: "test"}, nil
	}
	return policy.Verdict{Class: "clean", Score: -2, Engine: "test"}, nil
}

// startGateway runs a real node with the test's classifier, the
// per-credential spam limit off (so only the tenant threshold stops a
// tenant) and a sink as the next hop.
func startGateway(t *testing.T) *gateway.Gateway {
	t.Helper()
	sink, err := devsink.Start("127.0.0.1:0", "", nil, devsink.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	c := config.Default()
	c.DataDir = t.TempDir()
	c.Hostname = "gw.test"
	c.Listen = config.Listen{Relay: "127.0.0.1:0", Admin: "127.0.0.1:0"}
	c.Delivery.Smarthost = sink.Addr()
	c.Policy.UserSpamPerHour = 0
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	g, err := gateway.StartWith(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)),
		gateway.Options{Classifier: subjectClassifier})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// seedTenant creates a licensed tenant with a verified domain and a
// confirmed connector for one loopback address.
func seedTenant(t *testing.T, g *gateway.Gateway, name, ip string) directory.Tenant {
	t.Helper()
	ctx := context.Background()
	d := g.Directory
	tn, err := d.CreateTenant(ctx, directory.By{}, name, directory.Licensed, 10)
	if err != nil {
		t.Fatal(err)
	}
	dom := name + ".test"
	if _, err := d.AddDomain(ctx, directory.By{}, tn.ID, dom); err != nil {
		t.Fatal(err)
	}
	if err := d.MarkDomainVerified(ctx, directory.By{}, tn.ID, dom); err != nil {
		t.Fatal(err)
	}
	c, err := d.CreateConnector(ctx, directory.By{Actor: "test"}, tn.ID, "mail", []netip.Prefix{netip.MustParsePrefix(ip + "/32")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ConfirmConnector(ctx, directory.By{Actor: "test"}, tn.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	return tn
}

// relay sends n messages over one SMTP connection from ip, every spamEvery-th
// (0: none) with a spam subject, each to a stranger; it returns the replies'
// errors by message number (1-based).
func relay(t *testing.T, g *gateway.Gateway, ip, domain string, n, spamEvery int) map[int]error {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", g.Addrs["relay"].String())
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello("mail." + domain); err != nil {
		t.Fatal(err)
	}
	refused := map[int]error{}
	for i := 1; i <= n; i++ {
		from := fmt.Sprintf("staff%d@%s", i%5, domain)
		to := fmt.Sprintf("stranger%d@example%d.net", i, i)
		subject := "Minutes of the meeting"
		if spamEvery > 0 && i%spamEvery == 0 {
			subject = "SPAM cheap watches"
		}
		msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <m%d@%s>\r\n\r\nHello.\r\n", from, to, subject, i, domain)
		if err := c.SendMail(from, []string{to}, strings.NewReader(msg)); err != nil {
			refused[i] = err
			if c.Reset() != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
	}
	c.Quit()
	return refused
}

// Traffic recorded through a real gateway over SMTP, replayed with a
// stricter tenant_spam_ratio: the tenant whose spam share (25 %) stayed
// under the threshold in force (30 %) would have been blocked at 20 %, at
// the message that brought its twentieth spam, with the evidence; the
// tenant that sent clean mail is unchanged; and the dry run without a
// change agrees with what happened.
func TestDryRunStricterRatio(t *testing.T) {
	g := startGateway(t)
	ctx := context.Background()
	since := time.Now().Add(-time.Minute)
	shop := seedTenant(t, g, "shop", "127.0.0.2")
	seedTenant(t, g, "quiet", "127.0.0.3")
	if refused := relay(t, g, "127.0.0.2", "shop.test", 100, 4); len(refused) > 0 {
		t.Fatalf("the gateway refused shop's mail under the threshold in force: %v", refused)
	}
	if refused := relay(t, g, "127.0.0.3", "quiet.test", 30, 0); len(refused) > 0 {
		t.Fatalf("quiet's mail refused: %v", refused)
	}
	if _, blocked := g.Blocks.ActiveBlock(shop.ID); blocked {
		t.Fatal("shop was blocked for real; the test needs it not to be")
	}
	if err := g.Trace.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	opts := dryrun.Options{Defaults: g.Protect.Defaults, Overrides: g.Blocks.Overrides, Tenants: g.Directory, Trace: g.Trace, TempDir: t.TempDir()}
	run := func(change string) map[string]*dryrun.TenantReport {
		t.Helper()
		rep, err := dryrun.Run(ctx, opts, dryrun.Request{Since: since, Until: time.Now().Add(time.Minute), Change: json.RawMessage(change)})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]*dryrun.TenantReport{}
		for _, tr := range rep.Tenants {
			out[tr.Tenant] = tr
		}
		if len(out) != 2 || rep.Transactions != 130 {
			var b strings.Builder
			rep.Print(&b)
			t.Fatalf("replayed %d transactions of %d tenants, want 130 of 2:\n%s", rep.Transactions, len(out), b.String())
		}
		return out
	}

	same := run(`{}`)
	for name, tr := range same {
		if tr.Outcome != "unchanged" || tr.DryRun.Stopped != nil || tr.DryRun.Accepted != tr.Transactions || tr.Actual.Accepted != tr.Transactions {
			t.Errorf("without a change, %s: %+v", name, tr)
		}
	}

	got := run(`{"tenant_spam_ratio": 0.2}`)
	if testing.Verbose() {
		rep, _ := dryrun.Run(ctx, opts, dryrun.Request{Since: since, Change: json.RawMessage(`{"tenant_spam_ratio": 0.2}`)})
		var b strings.Builder
		rep.Print(&b)
		t.Log("\n" + b.String())
	}
	s := got["shop"]
	stop := s.DryRun.Stopped
	if s.Outcome != "would be stopped" || s.Actual.Stopped != nil || stop == nil {
		t.Fatalf("shop: %+v", s)
	}
	if stop.Message != 80 || stop.MessageID != "<m80@shop.test>" || stop.Code != "5.7.705" || stop.Stage != "data" || stop.Rule != "tenant-threshold" {
		t.Fatalf("shop would be stopped at %+v, want message 80 (<m80@shop.test>) with 5.7.705 at data", stop)
	}
	if s.DryRun.Accepted != 79 || s.DryRun.Refused != 21 || s.DryRun.Refusals["5.7.705"] != 21 {
		t.Fatalf("shop's dry run: %+v, want 79 accepted and the last 21 refused with 5.7.705", s.DryRun)
	}
	met := map[string]bool{}
	for _, sg := range stop.Signals {
		met[sg.Name] = sg.Met
	}
	if !met["verdicts"] || !met["recipient-novelty"] {
		t.Fatalf("the stop's evidence: %+v", stop.Signals)
	}
	if q := got["quiet"]; q.Outcome != "unchanged" || q.DryRun.Stopped != nil || q.DryRun.Refused != 0 {
		t.Fatalf("quiet: %+v", q)
	}
	// The live state is untouched.
	if _, blocked := g.Blocks.ActiveBlock(shop.ID); blocked {
		t.Fatal("the dry run blocked shop for real")
	}
}

// A change that is not a setting, or out of range, is refused naming it.
func TestDryRunBadSettings(t *testing.T) {
	opts := dryrun.Options{Defaults: policy.DefaultSettings()}
	for change, want := range map[string]string{
		`{"tenant_spam_ration": 0.2}`: "tenant_spam_ration",
		`{"tenant_spam_ratio": 7}`:    "tenant_spam_ratio",
		`[1]`:                         "settings",
	} {
		_, err := dryrun.Run(context.Background(), opts, dryrun.Request{Since: time.Now().Add(-time.Hour), Change: json.RawMessage(change)})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %q", change, err, want)
		}
	}
	_, err := dryrun.Run(context.Background(), opts, dryrun.Request{Since: time.Now(), Until: time.Now().Add(-time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "before until") {
		t.Errorf("reversed span: %v", err)
	}
}
