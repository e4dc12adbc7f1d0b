package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/gateway"
)

// A next hop that answers 4xx twice and then 250 gets the message exactly
// once, on the third attempt.
func TestRetryAfterTemporaryFailure(t *testing.T) {
	var tries atomic.Int32
	sink := startSink(t, devsink.Hooks{Data: func(m *devsink.Message) error {
		if tries.Add(1) <= 2 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	}})
	g := start(t, testConfig(t, sink.Addr()), true)
	c := dial(t, addr(g, "relay"))
	if err := send(c, "a@demo.test", []string{"x@example.net"}, testMessage("retry", "third time lucky")); err != nil {
		t.Fatal(err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatalf("not delivered after retries; %d tries", tries.Load())
	}
	if n := tries.Load(); n != 3 {
		t.Fatalf("want 3 attempts, got %d", n)
	}
	// The spool is empty once delivered.
	waitQueueEmpty(t, g)
	if sink.Count() != 1 {
		t.Fatalf("delivered %d times", sink.Count())
	}
}

// A permanent failure gets an RFC 3464 DSN to the sender, from the null
// sender, through the high-risk pool, with a section for the sender and one
// for the admin; the failed message itself is not delivered.
func TestPermanentFailureBounces(t *testing.T) {
	sink := startSink(t, devsink.Hooks{Rcpt: func(rcpt string) error {
		if strings.HasPrefix(rcpt, "nobody@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
		}
		return nil
	}})
	cfg := testConfig(t, sink.Addr())
	cfg.Delivery.Pools = map[string]config.Pool{"high-risk": {SourceAddresses: config.Addrs{netip.MustParseAddr("127.0.0.2")}}}
	g := start(t, cfg, true)
	c := dial(t, addr(g, "relay"))
	if err := send(c, "a@demo.test", []string{"nobody@example.net", "ok@example.net"},
		"From: a@demo.test\r\nMessage-ID: <orig-1@demo.test>\r\nSubject: quarterly report\r\n\r\nnumbers\r\n"); err != nil {
		t.Fatal(err)
	}
	// Two arrivals: the message for ok@, and the DSN for a@.
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 2 }) {
		t.Fatalf("want the delivered copy and a DSN, sink has %d", sink.Count())
	}
	var dsnMsg *devsink.Message
	for _, m := range sink.Messages() {
		if m.From == "" {
			dsnMsg = m
		} else if len(m.To) != 1 || m.To[0] != "ok@example.net" {
			t.Fatalf("message delivered to %v, want only ok@example.net", m.To)
		}
	}
	if dsnMsg == nil {
		t.Fatal("no DSN with the null sender")
	}
	if len(dsnMsg.To) != 1 || dsnMsg.To[0] != "a@demo.test" {
		t.Fatalf("DSN went to %v, want the sender", dsnMsg.To)
	}
	if !strings.HasPrefix(dsnMsg.Client, "127.0.0.2:") {
		t.Fatalf("DSN came from %s, want the high-risk pool's 127.0.0.2", dsnMsg.Client)
	}
	checkDSN(t, dsnMsg.Data, "nobody@example.net", "5.1.1", "<orig-1@demo.test>")
	waitQueueEmpty(t, g)
}

// checkDSN parses a DSN with go-message and checks the RFC 3464 fields.
func checkDSN(t *testing.T, data []byte, rcpt, status, origID string) {
	t.Helper()
	e, err := message.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("DSN does not parse: %v", err)
	}
	mt, params, _ := e.Header.ContentType()
	if mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("DSN Content-Type %s %v", mt, params)
	}
	if e.Header.Get("Auto-Submitted") != "auto-replied" {
		t.Fatalf("DSN lacks Auto-Submitted: auto-replied")
	}
	mr := e.MultipartReader()
	var human, status3464 string
	var origHeaders []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := p.Header.ContentType()
		b, _ := io.ReadAll(p.Body)
		switch ct {
		case "text/plain":
			human = string(b)
		case "message/delivery-status":
			status3464 = string(b)
		case "text/rfc822-headers", "message/rfc822":
			origHeaders = b
		}
	}
	if !strings.Contains(human, "For the sender") || !strings.Contains(human, "For the email admin") {
		t.Fatalf("DSN human part lacks the two sections:\n%s", human)
	}
	br := bufio.NewReader(strings.NewReader(status3464))
	per, err := textproto.ReadHeader(br)
	if err != nil {
		t.Fatalf("per-message fields: %v\n%s", err, status3464)
	}
	if !strings.HasPrefix(per.Get("Reporting-MTA"), "dns;") || per.Get("Arrival-Date") == "" {
		t.Fatalf("per-message fields incomplete:\n%s", status3464)
	}
	rf, err := textproto.ReadHeader(br)
	if err != nil {
		t.Fatalf("per-recipient fields: %v", err)
	}
	if got := rf.Get("Final-Recipient"); !strings.Contains(got, rcpt) || !strings.HasPrefix(strings.ToLower(got), "rfc822;") {
		t.Fatalf("Final-Recipient %q", got)
	}
	if rf.Get("Action") != "failed" || rf.Get("Status") != status {
		t.Fatalf("Action %q Status %q, want failed %s", rf.Get("Action"), rf.Get("Status"), status)
	}
	if !strings.Contains(string(origHeaders), origID) {
		t.Fatalf("DSN does not return the original headers:\n%s", origHeaders)
	}
}

// waitQueueEmpty waits until the spool holds nothing.
func waitQueueEmpty(t *testing.T, g *gateway.Gateway) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		msgs, err := g.Queue.List(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("spool still holds %d message(s), first %+v", len(msgs), msgs[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// No DSN is ever sent for a message with the null sender (never bounce a
// bounce), and expiry turns a temporary failure into a DSN.
func TestExpiryAndNullSender(t *testing.T) {
	sink := startSink(t, devsink.Hooks{Rcpt: func(rcpt string) error {
		if strings.HasPrefix(rcpt, "slow@") || strings.HasPrefix(rcpt, "gone@") {
			if strings.HasPrefix(rcpt, "gone@") {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "gone"}
			}
			return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "mailbox busy"}
		}
		return nil
	}})
	cfg := testConfig(t, sink.Addr())
	cfg.Queue.MaxAge = config.D(500 * time.Millisecond)
	g := start(t, cfg, true)
	c := dial(t, addr(g, "relay"))
	if err := send(c, "", []string{"gone@example.net"}, testMessage("a bounce", "x")); err != nil {
		t.Fatal(err)
	}
	if err := send(c, "a@demo.test", []string{"slow@example.net"}, testMessage("expires", "x")); err != nil {
		t.Fatal(err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatalf("want one DSN for the expired message, sink has %d", sink.Count())
	}
	m := sink.Messages()[0]
	if m.From != "" || m.To[0] != "a@demo.test" {
		t.Fatalf("want a DSN to a@demo.test, got from %q to %v", m.From, m.To)
	}
	checkDSN(t, m.Data, "slow@example.net", "4.4.7", "Subject: expires")
	waitQueueEmpty(t, g)
	if n := sink.Count(); n != 1 {
		t.Fatalf("sink has %d messages; the null-sender failure must not bounce", n)
	}
}

// Many messages to one destination share connections instead of opening one
// each.
func TestConnectionReuse(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	cfg.Delivery.MaxPerDestination = 2
	g := start(t, cfg, true)
	c := dial(t, addr(g, "relay"))
	for i := 0; i < 20; i++ {
		if err := send(c, "a@demo.test", []string{"x@example.net"}, testMessage(fmt.Sprint(i), "x")); err != nil {
			t.Fatal(err)
		}
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 20 }) {
		t.Fatalf("sink has %d of 20", sink.Count())
	}
	clients := map[string]bool{}
	for _, m := range sink.Messages() {
		clients[m.Client] = true
	}
	if len(clients) > 2 {
		t.Fatalf("20 messages used %d connections, want at most max_per_destination=2", len(clients))
	}
}
