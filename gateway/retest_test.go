package gateway_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/devsink"
)

// The re-test of issue 10 from outside (docs/security-retest.md): header
// fields and spellings that named another tenant's verified domain and
// were delivered. Resent-From and Resent-Sender (RFC 5322 §3.6.6) are
// judged like From and Sender, and a field Go's parser refuses but a mail
// reader would read (CFWS around '@' and inside the domain, the whole
// address in an encoded word) is judged by the domains a reader would
// see: 5.7.751 on every path. Own-domain resends still go through.
func TestRetestOriginatorFieldsRefused(t *testing.T) {
	w := newSpoofWorld(t)
	fields := []string{
		"From: alice@a.example\r\nResent-From: ceo@b.example\r\n",
		"From: alice@a.example\r\nResent-Sender: Boss <boss@mail.b.example>\r\n",
		"From: alice@a.example\r\nResent-From: alice@a.example\r\nResent-From: ceo@B.example\r\n",
		"From: ceo @ b.example\r\n",
		"From: ceo@(comment)b.example\r\n",
		"From: <ceo@(x)b.example>\r\n",
		"From: ceo@b .example\r\n",
		"From: alice@a.example\r\nSender: ceo@b(c).example\r\n",
		"From: =?utf-8?b?Y2VvQGIuZXhhbXBsZQ==?=\r\n", // ceo@b.example as one encoded word
	}
	delivered := 0
	for _, p := range w.paths() {
		t.Run(p.name, func(t *testing.T) {
			for i, f := range fields {
				// One envelope sender per field: the refusals count
				// toward the per-sender rate (30 a minute).
				c := p.dial(t)
				err := send(c, fmt.Sprintf("s%d@a.example", i), []string{"someone@example.net"}, headerMsg(f, "spoof"))
				c.Close()
				if !strings.Contains(errText(err), "5.7.751") {
					t.Fatalf("%q: want 550 5.7.751, got %v", f, err)
				}
				wantCode(t, err, 550, "5.7.751")
			}
			c := p.dial(t)
			if err := send(c, "alice@a.example", []string{"someone@example.net"},
				headerMsg("From: bob@elsewhere.test\r\nResent-From: alice@a.example\r\nResent-Sender: alice@a.example\r\n", "own resend "+p.name)); err != nil {
				t.Fatalf("own resend: %v", err)
			}
			c.Close()
			delivered++
		})
	}
	if !w.sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == delivered }) {
		t.Fatalf("sink has %d messages, want %d", w.sink.Count(), delivered)
	}
	for _, m := range w.sink.Messages() {
		if strings.Contains(strings.ToLower(string(m.Data)), "b.example") || strings.Contains(string(m.Data), "Y2VvQGIuZXhhbXBsZQ") {
			t.Fatalf("a spoofed message was delivered: %.300q", m.Data)
		}
	}
}

// headerMsg is a message with the given originator fields.
func headerMsg(fields, subject string) string {
	return fields + "To: someone@example.net\r\nSubject: " + subject + "\r\n\r\nHello.\r\n"
}

func errText(err error) string {
	if err == nil {
		return "<accepted>"
	}
	return err.Error()
}
