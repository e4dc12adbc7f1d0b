package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
)

// A connector's client relays a message; it arrives once at the next hop with
// our Received header and a Message-ID, and the 250 names the queue id.
func TestRelayThroughConnector(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := start(t, testConfig(t, sink.Addr()), true)
	c := dial(t, addr(g, "relay"))
	if err := c.Mail("a@demo.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("someone@example.net", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("From: a@demo.test\r\nSubject: hello\r\n\r\nfirst message\r\n"))
	resp, err := w.CloseWithResponse()
	if err != nil {
		t.Fatal(err)
	}
	_, qid, ok := strings.Cut(resp.StatusText, "OK: queued as ")
	if !ok || len(qid) != 20 {
		t.Fatalf("250 text %q does not name the queue id", resp.StatusText)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatalf("message did not arrive; sink has %d", sink.Count())
	}
	m := sink.Messages()[0]
	if m.From != "a@demo.test" || len(m.To) != 1 || m.To[0] != "someone@example.net" {
		t.Fatalf("envelope changed: from %q to %v", m.From, m.To)
	}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(m.Data)))
	if err != nil {
		t.Fatal(err)
	}
	rcv := h.Get("Received")
	if !strings.Contains(rcv, "by gw.test (Tollgate)") || !strings.Contains(rcv, "id "+qid) || !strings.Contains(rcv, "[127.0.0.1]") {
		t.Fatalf("Received header %q lacks our host, the client or the queue id", rcv)
	}
	if h.Get("Message-Id") != "<"+qid+"@gw.test>" {
		t.Fatalf("Message-ID %q, want one made by us", h.Get("Message-Id"))
	}
	if !strings.HasSuffix(string(m.Data), "\r\n\r\nfirst message\r\n") || h.Get("Subject") != "hello" {
		t.Fatalf("message content changed: %q", m.Data)
	}
	// A second message on the same connection keeps its own Message-ID.
	if err := send(c, "a@demo.test", []string{"b@example.org"}, "Message-ID: <own@demo.test>\r\nSubject: two\r\n\r\nx\r\n"); err != nil {
		t.Fatal(err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 2 }) {
		t.Fatal("second message did not arrive")
	}
	if got := sink.Messages()[1]; got.MessageID != "<own@demo.test>" || bytes.Count(got.Data, []byte("Message-ID:")) != 1 {
		t.Fatalf("an existing Message-ID must be kept and not doubled: %q", got.Data)
	}
	if sink.Count() != 2 {
		t.Fatalf("sink has %d messages, want 2", sink.Count())
	}
	// The connector's traffic is counted.
	if err := g.Directory.FlushTraffic(context.Background()); err != nil {
		t.Fatal(err)
	}
	demo, err := g.Directory.TenantByName(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := g.Directory.Connectors(context.Background(), demo.ID)
	if err != nil || len(cs) != 1 || cs[0].Messages != 2 || cs[0].LastTraffic.IsZero() {
		t.Fatalf("connector traffic: %+v %v", cs, err)
	}
}

// Tollgate is never an open relay: without AUTH and without a matching
// connector, every port refuses, and nothing reaches the next hop.
func TestNeverAnOpenRelay(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := start(t, testConfig(t, sink.Addr()), false) // no tenant, no connector

	c := dial(t, addr(g, "relay"))
	if err := c.Mail("a@demo.test", nil); err != nil {
		t.Fatal(err) // MAIL is fine on the relay port; RCPT decides
	}
	wantCode(t, c.Rcpt("victim@example.net", nil), 550, "5.7.64")
	wantCode(t, c.Rcpt("postmaster@example.net", nil), 550, "5.7.64")

	// Even after STARTTLS on the relay port.
	ct := dialStartTLS(t, addr(g, "relay"))
	if err := ct.Mail("a@demo.test", nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, ct.Rcpt("victim@example.net", nil), 550, "5.7.64")

	for _, kind := range []string{"submission", "submissions"} {
		var cl *smtp.Client
		if kind == "submission" {
			cl = dialStartTLS(t, addr(g, kind))
		} else {
			cl = dialTLS(t, addr(g, kind))
		}
		wantCode(t, cl.Mail("a@demo.test", nil), 530, "5.7.57")
		wantCode(t, cl.Rcpt("victim@example.net", nil), 502, "5.5.1") // no MAIL in effect
	}
	// A failed AUTH does not open the gate either.
	cl := dialStartTLS(t, addr(g, "submission"))
	wantCode(t, cl.Auth(sasl.NewPlainClient("", "nobody@demo.test", "guess")), 535, "5.7.8")
	wantCode(t, cl.Mail("a@demo.test", nil), 530, "5.7.57")

	if n := sink.Count(); n != 0 {
		t.Fatalf("an unattributed client relayed %d message(s)", n)
	}
}

// The refusal links to its help page.
func TestRefusalLinksHelpPage(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := start(t, testConfig(t, sink.Addr()), false)
	c := dial(t, addr(g, "relay"))
	c.Mail("a@demo.test", nil)
	err := c.Rcpt("victim@example.net", nil)
	se, ok := err.(*smtp.SMTPError)
	if !ok || !strings.Contains(se.Message, "/ndr/5.7.64") {
		t.Fatalf("refusal %v has no help link", err)
	}
}

// A connector matches by source address: a connector for 127.0.0.2/32 lets
// 127.0.0.2 relay and not 127.0.0.1.
func TestConnectorMatchesSourceAddress(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := start(t, testConfig(t, sink.Addr()), false)
	seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")

	from2 := dialFrom(t, "127.0.0.2", addr(g, "relay"))
	if err := send(from2, "a@acme.test", []string{"x@example.net"}, testMessage("from .2", "ok")); err != nil {
		t.Fatalf("127.0.0.2 is the connector's address and must relay: %v", err)
	}
	from1 := dial(t, addr(g, "relay"))
	from1.Mail("a@acme.test", nil)
	wantCode(t, from1.Rcpt("x@example.net", nil), 550, "5.7.64")
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatal("connector's message did not arrive")
	}
}

func dialFrom(t *testing.T, src, a string) *smtp.Client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", a)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout = 10 * time.Second
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	return c
}

// A new connector relays only its probation quota a day until an admin
// confirms it; then it relays freely.
func TestConnectorProbationQuota(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	cfg.Policy.ConnectorProbationQuota = 2
	g := start(t, cfg, false)
	tn := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	c := dialFrom(t, "127.0.0.2", addr(g, "relay"))
	for i := 0; i < 2; i++ {
		if err := send(c, "a@acme.test", []string{"x@example.net"}, testMessage("probation", "ok")); err != nil {
			t.Fatalf("message %d within the quota: %v", i+1, err)
		}
	}
	err := c.Mail("a@acme.test", nil)
	wantCode(t, err, 451, "4.7.711")
	if se := err.(*smtp.SMTPError); !strings.Contains(se.Message, "/ndr/4.7.711") {
		t.Fatalf("no help link: %q", se.Message)
	}
	cs, err := g.Directory.Connectors(context.Background(), tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Directory.ConfirmConnector(context.Background(), directory.By{Actor: "admin:test"}, tn.ID, cs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := send(c, "a@acme.test", []string{"x@example.net"}, testMessage("confirmed", "ok")); err != nil {
		t.Fatalf("after confirmation: %v", err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 3 }) {
		t.Fatalf("sink has %d", sink.Count())
	}
}
