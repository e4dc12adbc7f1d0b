package dsn

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/address"
)

// FuzzCompose feeds untrusted input where it comes from in real life: the
// spooled original message and the remote server's reply (which also stands
// in for the other remote-controlled values: the remote host name, an ORCPT,
// an address). Compose must never panic or fail on them, its output must
// parse back with go-message, and nothing may add a recipient block or a
// header field.
func FuzzCompose(f *testing.F) {
	f.Add([]byte(testOriginal), "550 5.1.1 No such user")
	f.Add([]byte("Subject: x\r\n\r\nbody"), "550 5.1.1 No such user\r\nBcc: x@y")
	f.Add([]byte(""), "")
	f.Add([]byte("garbage\x00\xff\r\r\n\n"), "\r\n\r\nFinal-Recipient: rfc822; x@y")
	f.Add([]byte(" Subject: leading space\r\n"), "smtp; 421 \xff\xfe")
	f.Add([]byte("Subject: "+strings.Repeat("s", 3000)+"\r\n\r\n"+strings.Repeat("b", 3000)), strings.Repeat("d", 3000))
	f.Add([]byte("Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <a@b>\r\n\r\nx\n.\nMAIL FROM:<e@x>"), "é\u2028--=_tollgate_")

	f.Fuzz(func(t *testing.T, original []byte, diag string) {
		for _, full := range []bool{false, true} {
			r := Report{
				ReportingMTA:   "gw.example",
				To:             "alice@example.com",
				QueueID:        diag,
				Original:       bytes.NewReader(original),
				ReturnFull:     full,
				MaxReturnBytes: 4096,
				Recipients: []Recipient{{
					Original:       diag,
					Final:          "x" + diag + "@example.net",
					Action:         "failed",
					Status:         "5.1.1",
					DiagnosticCode: diag,
					RemoteMTA:      diag,
					Extra:          map[string]string{diag: diag, "Rule": diag},
				}},
			}
			var b bytes.Buffer
			if err := Compose(&b, r); err != nil {
				t.Fatalf("full=%v: Compose: %v", full, err)
			}
			p, err := parseDSN(b.Bytes())
			if err != nil {
				t.Fatalf("full=%v: %v\n%q", full, err, b.Bytes())
			}
			if len(p.perRcpt) != 1 {
				t.Fatalf("full=%v: %d recipient blocks, want 1", full, len(p.perRcpt))
			}
			if p.top.Has("Bcc") || p.perMsg.Has("Final-Recipient") {
				t.Fatalf("full=%v: injected field", full)
			}
			if len(p.parts) == 3 && p.parts[2].mediaType == "message/rfc822" {
				if _, err := parseInner(p.parts[2].body); err != nil {
					t.Fatalf("full=%v: returned message does not parse: %v", full, err)
				}
			}
		}
	})
}

// FuzzComposeAddress feeds odd envelope addresses (quoted local parts with
// '>', spaces, parameters, UTF-8, control characters, legacy unquoted forms)
// as the DSN's recipient (the original sender) and as the failed recipient.
// The DSN must compose and parse, keep one recipient block, add no field, and
// write each address as one address: its canonical form where it parses, and
// never with a '>' or a space outside quotes.
func FuzzComposeAddress(f *testing.F) {
	for _, s := range []string{
		"alice@example.com", `"ceo@b.example> AUTH=<ceo@b.example>"@a.example`,
		"ceo@b.example> AUTH=<ceo@b.example>@a.example", `"a\"b\\c"@x.example`, "a..b@docomo.example",
		"<bob@example.net>", "x@[IPv6:::1]", "jürgen@bücher.example", "a\r\nBcc: x@y@z", "\x00@\x00", `"a b"@c d>e`,
	} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, to, final string) {
		r := Report{
			ReportingMTA: "gw.example", To: to, Original: strings.NewReader(testOriginal),
			Recipients: []Recipient{{Final: final, Action: "failed", Status: "5.1.1", DiagnosticCode: "550 5.1.1 no"}},
		}
		var b bytes.Buffer
		err := Compose(&b, r)
		if IsNullSender(to) {
			if err != ErrNullSender {
				t.Fatalf("null sender %q: %v", to, err)
			}
			return
		}
		if wireAddress(final) == "" {
			if err == nil {
				t.Fatalf("final %q: composed without a recipient", final)
			}
			return
		}
		if err != nil {
			t.Fatalf("Compose(to %q, final %q): %v", to, final, err)
		}
		p, err := parseDSN(b.Bytes())
		if err != nil {
			t.Fatalf("%v\n%q", err, b.Bytes())
		}
		if len(p.perRcpt) != 1 || p.top.Has("Bcc") || len(p.top.Values("To")) != 1 || p.perMsg.Has("Final-Recipient") {
			t.Fatalf("to %q, final %q: injected field or block:\n%s", to, final, b.Bytes())
		}
		gotTo := p.top.Get("To")
		if !strings.HasPrefix(gotTo, "<") || !strings.HasSuffix(gotTo, ">") || pathEnd(gotTo[1:len(gotTo)-1]) != len(gotTo)-2 {
			t.Fatalf("To %q: the address does not end where it should", gotTo)
		}
		fr := p.perRcpt[0].Get("Final-Recipient")
		if v, ok := strings.CutPrefix(fr, "rfc822; "); ok && pathEnd(v) != len(v) {
			t.Fatalf("Final-Recipient %q: the address does not end where it should", fr)
		}
		for _, in := range []struct{ raw, got string }{{to, strings.TrimSuffix(strings.TrimPrefix(gotTo, "<"), ">")}, {final, strings.TrimPrefix(fr, "rfc822; ")}} {
			bare := strings.TrimSpace(in.raw)
			if strings.HasPrefix(bare, "<") && strings.HasSuffix(bare, ">") {
				bare = bare[1 : len(bare)-1]
			}
			if a, err := address.Parse(bare); err == nil && a.ASCII() && in.got != a.String() {
				t.Fatalf("%q written as %q, want its canonical form %q", in.raw, in.got, a.String())
			}
		}
	})
}

// pathEnd is where an RFC 5321 parser stops reading a mailbox: at the first
// '>', space, tab, CR, LF or NUL outside a quoted string.
func pathEnd(w string) int {
	quoted := false
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case quoted && c == '\\':
			i++
		case c == '"' && (quoted || i == 0):
			quoted = !quoted
		case !quoted && strings.IndexByte("> \t\r\n\x00", c) >= 0:
			return i
		}
	}
	return len(w)
}
