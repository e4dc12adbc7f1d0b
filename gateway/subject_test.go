package gateway_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/trace"
)

// TestSubjectsDecoded checks that subjects written as RFC 2047 encoded
// words (UTF-8 base64, ISO-8859-1 quoted-printable) reach the trace, and so
// the console and `tollgate admin trace`, as a person reads them, and that an
// encoded CR LF cannot forge a second line there.
func TestSubjectsDecoded(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := start(t, testConfig(t, sink.Addr()), true)
	cases := []struct{ id, encoded, want string }{
		{"<b64@demo.test>", "=?utf-8?b?R3LDvMOfZSBhdXMgS8O2bG4=?=", "Grüße aus Köln"},
		{"<qp@demo.test>", "=?iso-8859-1?q?Caf=E9_cr=E8me?= ordered", "Café crème ordered"},
		{"<crlf@demo.test>", "=?utf-8?q?line_one=0D=0AX-Forged:_yes?=", "line one  X-Forged: yes"},
	}
	c := dial(t, addr(g, "relay"))
	for _, tc := range cases {
		msg := "From: a@demo.test\r\nTo: someone@example.net\r\nMessage-ID: " + tc.id + "\r\nSubject: " + tc.encoded + "\r\n\r\nhello\r\n"
		if err := send(c, "a@demo.test", []string{"someone@example.net"}, msg); err != nil {
			t.Fatalf("%s: %v", tc.id, err)
		}
	}
	ctx := context.Background()
	deadline := time.Now().Add(waitFor)
	for _, tc := range cases {
		var got []trace.Summary
		for {
			if err := g.Trace.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			var err error
			if got, err = g.Trace.Search(ctx, trace.Query{MessageID: tc.id}); err != nil {
				t.Fatal(err)
			}
			if len(got) > 0 && got[0].Subject != "" || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(got) == 0 || got[0].Subject != tc.want {
			t.Errorf("%s: trace subject %q, want %q", tc.id, subjects(got), tc.want)
		}
	}
	if !sink.Wait(waitFor, func(ms []*devsink.Message) bool { return len(ms) == len(cases) }) {
		t.Fatalf("sink got %d messages, want %d", sink.Count(), len(cases))
	}
	for _, m := range sink.Messages() {
		if strings.Contains(m.Subject, "=?") {
			t.Errorf("sink subject not decoded: %q", m.Subject)
		}
	}
}

func subjects(ss []trace.Summary) string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Subject)
	}
	return strings.Join(out, " | ")
}
