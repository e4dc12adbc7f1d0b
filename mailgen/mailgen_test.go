package mailgen

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"
)

var allKinds = append([]Kind{Conversation, ListPost, Newsletter, Invoice, Receipt, Reset, SignInCode, Shipping, AccountAlert, Invitation}, Spam...)

// TestMessagesParse checks every kind is a well-formed message a MIME parser
// reads whole: the headers a real sender writes, CRLF line ends only, and
// every part readable.
func TestMessagesParse(t *testing.T) {
	g := New(1)
	for _, k := range allKinds {
		m := g.Write(k, Spec{From: "billing@shop.example", To: "anna@customer.example", List: "staff@lists.uni.example"})
		if bytes.Contains(bytes.ReplaceAll(m.Raw, []byte("\r\n"), nil), []byte("\n")) || bytes.Contains(bytes.ReplaceAll(m.Raw, []byte("\r\n"), nil), []byte("\r")) {
			t.Errorf("%s: bare CR or LF", k)
		}
		r, err := mail.CreateReader(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		for _, f := range []string{"From", "To", "Date", "Message-Id", "Subject"} {
			if r.Header.Get(f) == "" {
				t.Errorf("%s: no %s", k, f)
			}
		}
		parts := 0
		for {
			p, err := r.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: part: %v", k, err)
			}
			b, err := io.ReadAll(p.Body)
			if err != nil || len(b) == 0 {
				t.Errorf("%s: part %d unreadable or empty: %v", k, parts, err)
			}
			parts++
		}
		if parts == 0 {
			t.Errorf("%s: no body", k)
		}
	}
}

// TestDeterministic checks the same seed writes the same bytes, and another
// seed other bytes.
func TestDeterministic(t *testing.T) {
	write := func(seed uint64) string {
		g := New(seed)
		var b strings.Builder
		for _, k := range allKinds {
			b.Write(g.Write(k, Spec{From: "a@b.example", To: "c@d.example"}).Raw)
		}
		return b.String()
	}
	if first, again := write(7), write(7); first != again {
		t.Fatal("same seed, different messages")
	}
	if write(7) == write(8) {
		t.Fatal("different seeds, same messages")
	}
}

// TestNewsletterOneClick checks newsletters carry RFC 8058 one-click
// unsubscribe and list posts a List-Id: what bulk senders must send.
func TestNewsletterOneClick(t *testing.T) {
	g := New(3)
	nl := string(g.Write(Newsletter, Spec{From: "news@shop.example", To: "x@y.example"}).Raw)
	if !strings.Contains(nl, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n") || !strings.Contains(nl, "List-Unsubscribe: <https://") {
		t.Errorf("newsletter lacks one-click unsubscribe:\n%s", nl)
	}
	lp := string(g.Write(ListPost, Spec{From: "a@uni.example", To: "x@y.example", List: "staff@lists.uni.example"}).Raw)
	if !strings.Contains(lp, "List-Id: staff <staff.lists.uni.example>\r\n") {
		t.Errorf("list post lacks List-Id:\n%s", lp)
	}
}
