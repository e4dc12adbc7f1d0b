package gateway_test

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/devsink"
)

// The attack of issue 10 item 3 over real SMTP: quoted local parts that hold
// "> AUTH=<...>" and "> NOTIFY=... ORCPT=..." are accepted as the addresses
// they are, and the next hop (a go-smtp server that parses paths and
// parameters) receives them quoted, as one path each, never as an AUTH= or
// NOTIFY= parameter. A DSN about such a recipient goes to such a sender the
// same way, and names both quoted.
func TestQuotedLocalPartsReachNextHopQuoted(t *testing.T) {
	const (
		from    = `"ceo@b.example> AUTH=<ceo@b.example>"@demo.test`
		to      = `"x> NOTIFY=NEVER ORCPT=rfc822;ceo@b.example"@example.net`
		refused = `"y> NOTIFY=NEVER"@example.net`
	)
	sink := startSink(t, devsink.Hooks{Rcpt: func(rcpt string) error {
		if rcpt == refused {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}})
	g := start(t, testConfig(t, sink.Addr()), true)

	rc := dialRaw(t, addr(g, "relay"))
	rc.write("EHLO client.test\r\n")
	rc.expect("250 ")
	rc.write("MAIL FROM:<" + from + ">\r\n")
	rc.expect("250 ")
	rc.write("RCPT TO:<" + to + ">\r\n")
	rc.expect("250 ")
	rc.write("RCPT TO:<" + refused + ">\r\n")
	rc.expect("250 ")
	rc.write("DATA\r\n")
	rc.expect("354 ")
	rc.write(testMessage("quoted", "hello") + ".\r\n")
	rc.expect("250 ")

	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) >= 2 }) {
		t.Fatalf("next hop got %d messages, want the message and the DSN", sink.Count())
	}
	var msg, bounce *devsink.Message
	for _, m := range sink.Messages() {
		if m.From == "" {
			bounce = m
		} else {
			msg = m
		}
	}
	if msg == nil || bounce == nil {
		t.Fatalf("want the message and a DSN, got %+v", sink.Messages())
	}
	if msg.From != from || len(msg.To) != 1 || msg.To[0] != to {
		t.Fatalf("next hop got MAIL FROM %q, RCPT TO %q; want %q, %q", msg.From, msg.To, from, to)
	}
	if msg.MailOptions.Auth != nil {
		t.Fatalf("next hop got AUTH=%q", *msg.MailOptions.Auth)
	}
	if o := msg.RcptOptions[0]; len(o.Notify) != 0 || o.OriginalRecipient != "" {
		t.Fatalf("next hop got NOTIFY=%v ORCPT=%q", o.Notify, o.OriginalRecipient)
	}
	// The DSN goes to the quoted sender and names the quoted recipient.
	if len(bounce.To) != 1 || bounce.To[0] != from {
		t.Fatalf("DSN went to %q, want %q", bounce.To, from)
	}
	if o := bounce.RcptOptions[0]; o.OriginalRecipient != "" {
		t.Fatalf("DSN RCPT got ORCPT=%q", o.OriginalRecipient)
	}
	if !bytes.Contains(bounce.Data, []byte("Final-Recipient: rfc822; "+refused+"\r\n")) {
		t.Fatalf("DSN does not name %s:\n%s", refused, bounce.Data)
	}
	m, err := mail.ReadMessage(bytes.NewReader(bounce.Data))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := mail.ParseAddress(m.Header.Get("To")); err != nil || got.Address != "ceo@b.example> AUTH=<ceo@b.example>@demo.test" {
		t.Fatalf("DSN To %q: %v", m.Header.Get("To"), err)
	}
}

// What no quoted string can carry is refused at the front with the code of
// its place: 553 5.1.7 for the sender, 501 5.1.3 for a recipient; a
// non-ASCII address without SMTPUTF8 gets 553 5.6.7. Nothing reaches the
// next hop.
func TestUnrepresentableAddressesRefused(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := start(t, testConfig(t, sink.Addr()), true)
	rc := dialRaw(t, addr(g, "relay"))
	rc.write("EHLO client.test\r\n")
	rc.expect("250 ")
	for _, bad := range []string{"\"a\x01b\"@demo.test", "\"a\x7f\"@demo.test", `"a\` + "\x02" + `"@demo.test`, "a..b@demo..test", "a@[IPv6:127.0.0.1]"} {
		rc.write("MAIL FROM:<" + bad + ">\r\n")
		if l := rc.expect("553 5.1.7 "); !strings.Contains(l, "Bad sender address syntax") {
			t.Fatalf("MAIL FROM:<%q>: %q", bad, l)
		}
	}
	rc.write("MAIL FROM:<jörg@demo.test>\r\n")
	rc.expect("553 5.6.7 ")
	rc.write("MAIL FROM:<a@demo.test>\r\n")
	rc.expect("250 ")
	for _, bad := range []string{"\"x\x01\"@example.net", "x@exa_mple.net", "x@[999.0.0.1]"} {
		rc.write("RCPT TO:<" + bad + ">\r\n")
		rc.expect("501 5.1.3 ")
	}
	rc.write("RCPT TO:<jörg@example.net>\r\n")
	rc.expect("553 5.6.7 ")
	rc.write("RSET\r\n")
	rc.expect("250 ")
	// With SMTPUTF8 the same addresses are fine.
	rc.write("MAIL FROM:<jörg@demo.test> SMTPUTF8\r\n")
	rc.expect("250 ")
	rc.write("RCPT TO:<\"jö rg\"@example.net>\r\n")
	rc.expect("250 ")
	rc.write("DATA\r\n")
	rc.expect("354 ")
	rc.write(testMessage("utf8", "hello") + ".\r\n")
	rc.expect("250 ")
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatal("the SMTPUTF8 message did not arrive")
	}
	if m := sink.Messages()[0]; m.From != "jörg@demo.test" || m.To[0] != `"jö rg"@example.net` || !m.MailOptions.UTF8 {
		t.Fatalf("next hop got %q -> %q (SMTPUTF8 %v)", m.From, m.To, m.MailOptions.UTF8)
	}
}
