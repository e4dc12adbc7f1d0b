package gateway_test

import (
	"bufio"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/devsink"
)

// SMTP smuggling (CVE-2023-51764 and friends): a message whose data holds
// <LF>.<LF>, <CR>.<CR> or <LF>.<CRLF> followed by a second transaction must
// neither end early nor let the second transaction through. Tollgate refuses
// the whole message with 550 5.5.2, answers exactly once, and stays in step.
func TestSmugglingIsRefused(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := start(t, testConfig(t, sink.Addr()), true)
	variants := map[string]string{
		"LF.LF":   "\n.\n",
		"CR.CR":   "\r.\r",
		"LF.CRLF": "\n.\r\n",
		"CRLF.LF": "\r\n.\n",
		"CR.CRLF": "\r.\r\n",
		"bare LF": "\n",
		"bare CR": "\r",
	}
	for name, seq := range variants {
		t.Run(name, func(t *testing.T) {
			rc := dialRaw(t, addr(g, "relay"))
			rc.write("EHLO client.test\r\n")
			rc.expect("250 ")
			rc.write("MAIL FROM:<a@demo.test>\r\n")
			rc.expect("250")
			rc.write("RCPT TO:<first@example.net>\r\n")
			rc.expect("250")
			rc.write("DATA\r\n")
			rc.expect("354")
			rc.write("Subject: first\r\n\r\nhello" + seq +
				"MAIL FROM:<ceo@demo.test>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n" +
				"Subject: smuggled\r\n\r\nsend money\r\n.\r\n")
			rc.expect("550 5.5.2")
			// In step: the next reply answers our next command, not a
			// smuggled one.
			rc.write("NOOP\r\n")
			rc.expect("250")
			rc.write("MAIL FROM:<a@demo.test>\r\nRCPT TO:<clean@example.net>\r\nDATA\r\n")
			rc.expect("250")
			rc.expect("250")
			rc.expect("354")
			rc.write("Subject: clean " + name + "\r\n\r\nfine\r\n.\r\n")
			rc.expect("250")
			rc.write("QUIT\r\n")
			rc.expect("221")
		})
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == len(variants) }) {
		t.Fatalf("want %d clean messages, sink has %d", len(variants), sink.Count())
	}
	for _, m := range sink.Messages() {
		if m.To[0] != "clean@example.net" || strings.Contains(string(m.Data), "smuggled") || strings.Contains(string(m.Data), "send money") {
			t.Fatalf("smuggled content reached the next hop: to %v %q", m.To, m.Data)
		}
	}
}

// Commands pipelined behind STARTTLS are discarded (CVE-2011-0411): they were
// sent in the clear and could have been injected.
func TestStartTLSInjectionDiscarded(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := start(t, testConfig(t, sink.Addr()), true)
	rc := dialRaw(t, addr(g, "relay"))
	rc.write("EHLO client.test\r\n")
	rc.expect("250 ")
	rc.write("STARTTLS\r\nMAIL FROM:<injected@demo.test>\r\n")
	rc.expect("220")
	tc := tls.Client(rc.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake after STARTTLS: %v", err)
	}
	rc.conn, rc.r = tc, bufio.NewReader(tc)
	rc.write("EHLO client.test\r\n")
	rc.expect("250 ")
	rc.write("RCPT TO:<x@example.net>\r\n")
	// Had the injected MAIL FROM survived, this RCPT would be accepted.
	if l := rc.expect("5"); !strings.Contains(strings.ToLower(l), "mail") {
		t.Fatalf("RCPT without MAIL should be refused for the missing MAIL, got %q", l)
	}
}
