package gateway_test

import (
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/devsink"
)

// TestPlainReplies checks that clients see conventional reply texts with
// the RFC 3463 codes a mature MTA gives (2.1.0 for a sender, 2.1.5 for a
// recipient), not the SMTP library's playful defaults.
func TestPlainReplies(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := start(t, testConfig(t, sink.Addr()), true)
	rc := dialRaw(t, addr(g, "relay"))
	rc.write("EHLO client.test\r\n")
	rc.expect("250 ")
	steps := []struct{ cmd, want string }{
		{"NOOP\r\n", "250 2.0.0 OK"},
		{"MAIL FROM:<a@demo.test>\r\n", "250 2.1.0 Sender <a@demo.test> OK"},
		{"RCPT TO:<someone@example.net>\r\n", "250 2.1.5 Recipient <someone@example.net> OK"},
		{"DATA\r\n", "354 End data with <CR><LF>.<CR><LF>"},
	}
	for _, s := range steps {
		rc.write(s.cmd)
		if got := rc.expect(s.want[:3]); got != s.want {
			t.Errorf("%s: got %q, want %q", strings.TrimSpace(s.cmd), got, s.want)
		}
	}
	rc.write("Subject: plain\r\nFrom: a@demo.test\r\n\r\nhello\r\n.\r\n")
	rc.expect("250 2.0.0")
	rc.write("QUIT\r\n")
	rc.expect("221 2.0.0")
}
