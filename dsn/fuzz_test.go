package dsn

import (
	"bytes"
	"strings"
	"testing"
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
