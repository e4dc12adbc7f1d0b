package gateway_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/postfix"
	"github.com/tollgate-mail/tollgate/trace"
)

// policyClient speaks the policy-delegation protocol as Postfix's smtpd
// does: one connection, many requests.
type policyClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialPolicy(t *testing.T, g *gateway.Gateway) *policyClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", g.Addrs[string(postfix.PolicyListener)].String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &policyClient{t: t, conn: c, br: bufio.NewReader(c)}
}

// ask sends one request (the attributes given, in order, after the
// standard ones) and returns the action.
func (p *policyClient) ask(attrs ...string) string {
	p.t.Helper()
	var b strings.Builder
	b.WriteString("request=smtpd_access_policy\n")
	for i := 0; i+1 < len(attrs); i += 2 {
		fmt.Fprintf(&b, "%s=%s\n", attrs[i], attrs[i+1])
	}
	b.WriteString("\n")
	p.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := p.conn.Write([]byte(b.String())); err != nil {
		p.t.Fatal(err)
	}
	line, err := p.br.ReadString('\n')
	if err != nil {
		p.t.Fatalf("reading the reply: %v", err)
	}
	if end, err := p.br.ReadString('\n'); err != nil || end != "\n" {
		p.t.Fatalf("reply not ended by an empty line: %q %v", end, err)
	}
	return strings.TrimSuffix(strings.TrimPrefix(line, "action="), "\n")
}

// rcpt asks about one recipient of transaction inst.
func (p *policyClient) rcpt(inst, client, sender, rcpt string, extra ...string) string {
	p.t.Helper()
	return p.ask(append([]string{"protocol_state", "RCPT", "protocol_name", "ESMTP", "client_address", client,
		"client_name", "unknown", "helo_name", "client.test", "sender", sender, "recipient", rcpt,
		"instance", inst, "queue_id", "", "size", "0"}, extra...)...)
}

func wantAction(t *testing.T, got, code string, helpURL string) {
	t.Helper()
	if code == "DUNNO" {
		if got != "DUNNO" {
			t.Fatalf("action %q, want DUNNO", got)
		}
		return
	}
	if !strings.HasPrefix(got, code+" ") {
		t.Fatalf("action %q, want %s", got, code)
	}
	enh := strings.Fields(code)[1]
	if link := helpURL + "/ndr/" + enh; !strings.HasSuffix(got, "; see "+link) {
		t.Fatalf("action %q does not end with the help link %s", got, link)
	}
}

func postfixConfig(t *testing.T, sink string) *config.Config {
	c := protectConfig(t, sink)
	c.Postfix = config.Postfix{PolicyListen: "127.0.0.1:0", MilterListen: "127.0.0.1:0"}
	return c
}

// The policy service attributes as the SMTP port does — a SASL login to
// the tenant's user, a verified certificate's CN to a certificate
// connector, the client address to an IP connector — and answers with
// the same codes and help links, DUNNO otherwise, on one reused
// connection.
func TestPostfixPolicyAttribution(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := startWith(t, postfixConfig(t, sink.Addr()), false, gateway.Options{Classifier: subjectClassifier})
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	ctx := context.Background()
	// Licensed: a trial tenant's mail from 192.0.2.9 would be 5.7.708.
	if _, _, err := g.Directory.SetLicense(ctx, directory.By{}, acme.ID, "licensed", 5, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Directory.CreateUser(ctx, directory.By{}, acme.ID, "ann@acme.test", "ann's password 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Directory.CreateCertConnector(ctx, directory.By{Actor: "test"}, acme.ID, "mx", "mx.acme.test"); err != nil {
		t.Fatal(err)
	}
	help := g.Config.Admin.PublicURL
	p := dialPolicy(t, g)
	wantAction(t, p.rcpt("i1", "127.0.0.2", "a@acme.test", stranger()), "DUNNO", help)
	wantAction(t, p.rcpt("i2", "192.0.2.9", "a@acme.test", stranger()), "550 5.7.64", help)
	wantAction(t, p.rcpt("i3", "192.0.2.9", "ann@acme.test", stranger(), "sasl_method", "PLAIN", "sasl_username", "ann@acme.test"), "DUNNO", help)
	wantAction(t, p.rcpt("i4", "192.0.2.9", "x@acme.test", stranger(), "sasl_username", "nobody@acme.test"), "550 5.7.64", help)
	wantAction(t, p.rcpt("i5", "192.0.2.9", "a@acme.test", stranger(), "ccert_subject", "mx.acme.test", "ccert_fingerprint", "AB:CD"), "DUNNO", help)
	wantAction(t, p.rcpt("i6", "192.0.2.9", "a@acme.test", stranger(), "ccert_subject", "mx.other.test"), "550 5.7.64", help)
	// The other stages have nothing to add.
	for _, st := range []string{"CONNECT", "EHLO", "DATA", "END-OF-MESSAGE", "VRFY"} {
		wantAction(t, p.ask("protocol_state", st, "client_address", "192.0.2.9", "instance", "i7"), "DUNNO", help)
	}

	// Blocked: 5.7.705 for the connector and the login alike.
	if _, _, err := g.Blocks.BlockTenant(ctx, blocks.Block{TenantID: acme.ID, Reason: blocks.ReasonThreshold, Rule: "tenant-threshold",
		Figures: []policy.Figure{{Name: "spam_bulk", Value: "20"}}}, "test"); err != nil {
		t.Fatal(err)
	}
	wantAction(t, p.rcpt("i8", "127.0.0.2", "blocked@acme.test", stranger()), "550 5.7.705", help)
	wantAction(t, p.ask("protocol_state", "MAIL", "client_address", "192.0.2.9", "sender", "ann@acme.test",
		"sasl_username", "ann@acme.test", "instance", "i9"), "550 5.7.705", help)

	// Traced like any other decision: the refusal, its rule, figures and
	// attribution, found by sender.
	if err := g.Trace.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sums, err := g.Trace.Search(ctx, trace.Query{Sender: "blocked@acme.test"})
	if err != nil || len(sums) != 1 {
		t.Fatalf("trace search for the blocked sender: %v %v", sums, err)
	}
	if s := sums[0]; s.Status != "refused" || s.Code != "550 5.7.705" || s.TenantID != acme.ID || s.Rule != "tenant-threshold" {
		t.Errorf("trace summary %+v", s)
	}
	_, events, err := g.Trace.Message(ctx, sums[0].ID, acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range events {
		if e.Outcome == "reject" && e.Rule == "tenant-threshold" && e.Attrs["spam_bulk"] == "20" &&
			e.Attrs["listener"] == string(postfix.PolicyListener) && e.Attrs["attribution"] == "connector-ip" {
			found = true
		}
	}
	if !found {
		t.Errorf("no traced 5.7.705 refusal with its rule, figures and attribution in %+v", events)
	}
}

// The checks and counters are the SMTP port's: the MAIL stage runs once
// per transaction (Postfix's instance), recipients count per transaction,
// and 5.7.750, 5.1.8, 5.7.708 and the limits answer with their codes.
func TestPostfixPolicyChecks(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	cfg := postfixConfig(t, sink.Addr())
	cfg.Policy.RecipientsPerMessage = 2
	cfg.Policy.UnregisteredPerDay = 0
	cfg.Policy.UserMessagesPerMinute = 3
	cfg.Reputation.TrustedRanges = config.Prefixes{netip.MustParsePrefix("127.0.0.1/32")}
	g := startWith(t, cfg, false, gateway.Options{Classifier: subjectClassifier})
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	if _, _, err := g.Directory.SetLicense(context.Background(), directory.By{}, acme.ID, "licensed", 5, time.Time{}); err != nil {
		t.Fatal(err)
	}
	seedTenantWithConnector(t, g, "trial", "trial.test", "127.0.0.9/32")
	help := g.Config.Admin.PublicURL
	p := dialPolicy(t, g)

	// Recipients per message: the third of one transaction is deferred.
	wantAction(t, p.rcpt("t1", "127.0.0.2", "a@acme.test", stranger()), "DUNNO", help)
	wantAction(t, p.rcpt("t1", "127.0.0.2", "a@acme.test", stranger()), "DUNNO", help)
	wantAction(t, p.rcpt("t1", "127.0.0.2", "a@acme.test", stranger()), "452 4.5.3", help)
	// Messages a minute per sender: counted once per transaction (t1 was
	// the first), so the fourth transaction is deferred.
	wantAction(t, p.rcpt("t2", "127.0.0.2", "a@acme.test", stranger()), "DUNNO", help)
	wantAction(t, p.rcpt("t3", "127.0.0.2", "a@acme.test", stranger()), "DUNNO", help)
	wantAction(t, p.rcpt("t4", "127.0.0.2", "a@acme.test", stranger()), "451 4.7.500", help)
	// Unregistered sender domain, no allowance: 5.7.750.
	wantAction(t, p.rcpt("t5", "127.0.0.2", "news@foreign.test", stranger()), "550 5.7.750", help)
	// A trial tenant on a new IP: 5.7.708.
	wantAction(t, p.rcpt("t6", "127.0.0.9", "a@trial.test", stranger()), "550 5.7.708", help)
	// A restricted sender: 5.1.8.
	if _, _, err := g.Blocks.Restrict(context.Background(), blocks.Restriction{TenantID: acme.ID, Kind: blocks.KindSender,
		Subject: "bad@acme.test", Reason: "test", Rule: "outbound-spam-policy"}, "test"); err != nil {
		t.Fatal(err)
	}
	wantAction(t, p.rcpt("t7", "127.0.0.2", "bad@acme.test", stranger()), "550 5.1.8", help)
}

// Bad input on the policy port gets one temporary refusal and a closed
// connection, never a hang or a crash; the service keeps serving.
func TestPostfixPolicyBadInput(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := startWith(t, postfixConfig(t, sink.Addr()), false, gateway.Options{})
	for name, in := range map[string]string{
		"long line": "request=smtpd_access_policy\nsender=" + strings.Repeat("a", 5000) + "\n\n",
		"garbage":   "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"huge":      strings.Repeat("a=b\n", 300) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("tcp", g.Addrs[string(postfix.PolicyListener)].String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			go c.Write([]byte(in))
			br := bufio.NewReader(c)
			line, err := br.ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "action=451 4.3.5 ") {
				t.Fatalf("reply %q %v, want action=451 4.3.5", line, err)
			}
			br.ReadString('\n')
			if _, err := br.ReadByte(); err == nil {
				t.Fatal("connection still open after a bad request")
			}
		})
	}
	p := dialPolicy(t, g)
	if got := p.ask("request", "other"); !strings.HasPrefix(got, "451 4.3.5 ") {
		t.Errorf("unknown request type: %q", got)
	}
	wantAction(t, p.rcpt("x", "192.0.2.1", "a@b.test", "c@d.test"), "550 5.7.64", g.Config.Admin.PublicURL)
}

// BenchmarkPostfixPolicy: one transaction (MAIL and RCPT checks, the
// counters on this node) per request, on one reused connection, as a
// Postfix smtpd process sends them.
func BenchmarkPostfixPolicy(b *testing.B) {
	sink, err := devsink.Start("127.0.0.1:0", "", nil, devsink.Hooks{})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	cfg := config.Default()
	cfg.DataDir = b.TempDir()
	cfg.Hostname = "gw.test"
	cfg.Listen = config.Listen{Relay: "127.0.0.1:0", Admin: "127.0.0.1:0"}
	cfg.Postfix.PolicyListen = "127.0.0.1:0"
	cfg.Delivery.Smarthost = sink.Addr()
	cfg.Classify.Engine = "off"
	cfg.Reputation.TrustedRanges = config.Prefixes{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.Policy.UserMessagesPerMinute = 1 << 40
	cfg.Policy.UserRecipientsPerDay = 1 << 40
	cfg.Policy.UserExternalPerHour = 0
	cfg.Policy.TenantExternalPerDay = 1 << 40
	if err := cfg.Finish(); err != nil {
		b.Fatal(err)
	}
	g, err := gateway.Start(context.Background(), cfg, testLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	ctx := context.Background()
	tn, _ := g.Directory.CreateTenant(ctx, directory.By{}, "acme", "licensed", 5)
	g.Directory.AddDomain(ctx, directory.By{}, tn.ID, "acme.test")
	g.Directory.MarkDomainVerified(ctx, directory.By{}, tn.ID, "acme.test")
	if _, err := g.Directory.CreateConnector(ctx, directory.By{Actor: "test"}, tn.ID, "main", []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}); err != nil {
		b.Fatal(err)
	}
	c, err := net.Dial("tcp", g.Addrs[string(postfix.PolicyListener)].String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	b.ResetTimer()
	for i := range b.N {
		fmt.Fprintf(c, "request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=127.0.0.2\nsender=a@acme.test\nrecipient=r%d@example.net\ninstance=b%d\n\n", i, i)
		line, err := br.ReadString('\n')
		if err != nil || line != "action=DUNNO\n" {
			b.Fatalf("reply %q %v", line, err)
		}
		br.ReadString('\n')
	}
}
