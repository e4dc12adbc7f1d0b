package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/protect"
	"github.com/tollgate-mail/tollgate/store/storetest"
	"github.com/tollgate-mail/tollgate/trace"
)

// bouncingSink refuses every recipient whose local part starts with "bad"
// with 550 5.1.1, so the gateway must bounce.
func bouncingSink(t *testing.T) *devsink.Sink {
	return startSink(t, devsink.Hooks{Rcpt: func(rcpt string) error {
		if strings.HasPrefix(rcpt, "bad") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}})
}

// sendRet sends one message with MAIL FROM's RET= set.
func sendRet(t *testing.T, c *smtp.Client, from, to, msg string, ret smtp.DSNReturn) {
	t.Helper()
	if err := c.Mail(from, &smtp.MailOptions{Return: ret}); err != nil {
		t.Fatalf("MAIL FROM:<%s>: %v", from, err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		t.Fatalf("RCPT TO:<%s>: %v", to, err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("DATA: %v", err)
	}
}

// dsnsTo are the DSNs the sink holds for rcpt.
func dsnsTo(msgs []*devsink.Message, rcpt string) []*devsink.Message {
	var out []*devsink.Message
	for _, m := range msgs {
		if m.From == "" && len(m.To) == 1 && m.To[0] == rcpt {
			out = append(out, m)
		}
	}
	return out
}

// dsnEvents are the "dsn" trace events of the messages sent to rcpt.
func dsnEvents(t *testing.T, g *gateway.Gateway, rcpt string) []trace.Entry {
	t.Helper()
	ctx := context.Background()
	if err := g.Trace.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sums, err := g.Trace.Search(ctx, trace.Query{Recipient: rcpt, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []trace.Entry
	for _, s := range sums {
		_, events, err := g.Trace.Message(ctx, s.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Stage == "dsn" {
				out = append(out, e)
			}
		}
	}
	return out
}

const secretBody = "CONFIDENTIAL-BODY-LINE: the quarterly numbers"

// A DSN to a sender outside the tenant's verified domains returns only the
// original's header (text/rfc822-headers), even with RET=FULL; a sender of
// the tenant's own domain gets the whole message back as it asked.
func TestBackscatterHeadersOnly(t *testing.T) {
	sink := bouncingSink(t)
	g := start(t, testConfig(t, sink.Addr()), false)
	seedTenantWithConnector(t, g, "demo", "demo.test", "127.0.0.0/8")
	c := dial(t, addr(g, "relay"))
	msg := "From: someone@demo.test\r\nMessage-ID: <bs@demo.test>\r\nSubject: numbers\r\n\r\n" + secretBody + "\r\n"
	sendRet(t, c, "victim@foreign.example", "bad1@example.net", msg, smtp.DSNReturnFull)
	sendRet(t, c, "a@demo.test", "bad2@example.net", msg, smtp.DSNReturnFull)
	if !sink.Wait(waitFor, func(ms []*devsink.Message) bool {
		return len(dsnsTo(ms, "victim@foreign.example")) == 1 && len(dsnsTo(ms, "a@demo.test")) == 1
	}) {
		t.Fatalf("want one DSN to each sender; sink has %d messages", sink.Count())
	}
	foreign := string(dsnsTo(sink.Messages(), "victim@foreign.example")[0].Data)
	if !strings.Contains(foreign, "Content-Type: text/rfc822-headers") || strings.Contains(foreign, "message/rfc822") ||
		strings.Contains(foreign, "CONFIDENTIAL-BODY-LINE") || !strings.Contains(foreign, "<bs@demo.test>") {
		t.Fatalf("the DSN to a foreign sender must carry the header only:\n%s", foreign)
	}
	checkDSN(t, []byte(foreign), "bad1@example.net", "5.1.1", "<bs@demo.test>")
	own := string(dsnsTo(sink.Messages(), "a@demo.test")[0].Data)
	if !strings.Contains(own, "Content-Type: message/rfc822") || !strings.Contains(own, "CONFIDENTIAL-BODY-LINE") {
		t.Fatalf("the DSN to the tenant's own sender must return the message (RET=FULL):\n%s", own)
	}
	ev := dsnEvents(t, g, "bad1@example.net")
	if len(ev) != 1 || ev[0].Outcome != "ok" || ev[0].Rule != "dsn-headers-only" || !strings.Contains(ev[0].Detail, "header only") {
		t.Fatalf("trace of the foreign sender's DSN: %+v", ev)
	}
}

// A tenant's DSNs are counted in the shared counters: beyond
// policy.dsn_per_day they are dropped, each with a trace event, and a
// limit alert goes out. On SQLite with the embedded counters, and on
// PostgreSQL with Redis.
func TestBackscatterDSNLimit(t *testing.T) {
	for _, fleet := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite+memory", true: "postgres+redis"}[fleet], func(t *testing.T) {
			sink := bouncingSink(t)
			cfg := testConfig(t, sink.Addr())
			cfg.Policy.DSNPerDay = 2
			if fleet {
				cfg.Store.PostgresDSN = storetest.PostgresDSN(t)
				needRedis(t)
				cfg.Counters.RedisURL = "redis://" + redisAddr + "/0"
				cfg.Counters.Prefix = fmt.Sprintf("tollgate-test:%d:", time.Now().UnixNano())
			}
			alerts := make(chan string, 16)
			g := startWith(t, cfg, false, gateway.Options{Alert: func(a protect.Alert) { alerts <- a.Subject }})
			seedTenantWithConnector(t, g, "demo", "demo.test", "127.0.0.0/8")
			c := dial(t, addr(g, "relay"))
			for i := range 4 {
				sendRet(t, c, "a@demo.test", fmt.Sprintf("bad%d@example.net", i), testMessage("limit", "x"), "")
			}
			var dropped []trace.Entry
			waitUntil(t, "two DSNs sent and two dropped", func() bool {
				dropped = dropped[:0]
				sent := 0
				for i := range 4 {
					for _, e := range dsnEvents(t, g, fmt.Sprintf("bad%d@example.net", i)) {
						if e.Outcome == "reject" {
							dropped = append(dropped, e)
						} else {
							sent++
						}
					}
				}
				return sent == 2 && len(dropped) == 2
			})
			for _, e := range dropped {
				if e.Rule != "dsn-limit" || !strings.Contains(e.Detail, "dsn_per_day") || !strings.Contains(e.Attrs["figures"], "dsn_per_day=2") {
					t.Fatalf("dropped DSN's trace event: %+v", e)
				}
			}
			waitQueueEmpty(t, g)
			if n := len(dsnsTo(sink.Messages(), "a@demo.test")); n != 2 {
				t.Fatalf("sink got %d DSNs, want the 2 under the limit", n)
			}
			select {
			case s := <-alerts:
				if s != "DSN limit" {
					t.Fatalf("alert %q", s)
				}
			case <-time.After(waitFor):
				t.Fatal("no alert for the DSN limit")
			}
		})
	}
}

// Mail from a domain the tenant has not verified, relayed through a
// certificate connector (exempt from the unregistered-domain allowance) by
// a tenant whose allowance is 0, is never bounced: the DSN is dropped with
// a trace event. The tenant's own domain still bounces.
func TestBackscatterUnverifiedSenderNoAllowance(t *testing.T) {
	sink := bouncingSink(t)
	ca := newCA(t)
	cfg := testConfig(t, sink.Addr())
	cfg.TLS.ClientCAFile = ca.file(t)
	cfg.Policy.UnregisteredPerDay = 0
	g := start(t, cfg, false)
	tn := seedTenantWithConnector(t, g, "acme", "acme.test", "")
	if _, err := g.Directory.CreateCertConnector(context.Background(), directory.By{Actor: "test"}, tn.ID, "mx", "*.acme.test"); err != nil {
		t.Fatal(err)
	}
	cert := clientCert(t, ca, "mx1.acme.test")
	c := dialWithCert(t, addr(g, "relay"), &cert)
	sendRet(t, c, "victim@foreign.example", "bad-forged@example.net", testMessage("forged", "x"), "")
	sendRet(t, c, "a@acme.test", "bad-own@example.net", testMessage("own", "x"), "")
	if !sink.Wait(waitFor, func(ms []*devsink.Message) bool { return len(dsnsTo(ms, "a@acme.test")) == 1 }) {
		t.Fatal("the tenant's own sender got no DSN")
	}
	var ev []trace.Entry
	waitUntil(t, "the forged sender's DSN is dropped", func() bool {
		ev = dsnEvents(t, g, "bad-forged@example.net")
		return len(ev) > 0
	})
	if len(ev) != 1 || ev[0].Outcome != "reject" || ev[0].Rule != "dsn-unverified-sender" || !strings.Contains(ev[0].Detail, "foreign.example") {
		t.Fatalf("trace: %+v", ev)
	}
	waitQueueEmpty(t, g)
	if n := len(dsnsTo(sink.Messages(), "victim@foreign.example")); n != 0 {
		t.Fatalf("the forged sender got %d DSNs", n)
	}
}
