package deliver

import (
	"context"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/devsink"
)

// Addresses whose local parts hold '>' and spaces reach the next hop quoted,
// as one path each: the next hop (a go-smtp server) sees the same mailbox
// and no AUTH= or NOTIFY= parameter.
func TestQuotedAddressesOnTheWire(t *testing.T) {
	sink, err := devsink.Start("127.0.0.1:0", "", nil, devsink.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	from := `"ceo@b.example> AUTH=<ceo@b.example>"@a.example`
	to := `"x> NOTIFY=NEVER ORCPT=rfc822;y@z.example"@y.test`
	res := transport(t, sink.Addr(), nil).Deliver(context.Background(), delivery(from, to, "plain@y.test"))
	if len(res) != 2 || !res[0].OK || !res[1].OK || res[0].Rcpt != to {
		t.Fatalf("results: %+v", res)
	}
	m := sink.Messages()
	if len(m) != 1 {
		t.Fatalf("%d messages at the next hop", len(m))
	}
	if m[0].From != from || len(m[0].To) != 2 || m[0].To[0] != to || m[0].To[1] != "plain@y.test" {
		t.Fatalf("next hop got MAIL FROM %q, RCPT TO %q", m[0].From, m[0].To)
	}
	if m[0].MailOptions.Auth != nil {
		t.Fatalf("next hop got an AUTH= parameter: %q", *m[0].MailOptions.Auth)
	}
	for _, o := range m[0].RcptOptions {
		if len(o.Notify) != 0 || o.OriginalRecipient != "" {
			t.Fatalf("next hop got NOTIFY=%v ORCPT=%q", o.Notify, o.OriginalRecipient)
		}
	}
}

// An address that does not parse (a spool written before addresses were
// kept quoted) is never written raw: the sender fails every recipient, a
// recipient fails alone, and nothing reaches the next hop for them.
func TestUnwritableAddressesFail(t *testing.T) {
	sink, err := devsink.Start("127.0.0.1:0", "", nil, devsink.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tr := transport(t, sink.Addr(), nil)
	res := tr.Deliver(context.Background(), delivery("ceo@b.example> AUTH=<ceo@b.example>@a.example", "b@y.test"))
	if len(res) != 1 || res[0].OK || !res[0].Permanent || res[0].Code != "5.1.7" || !strings.Contains(res[0].Detail, "cannot be written") {
		t.Fatalf("bad sender: %+v", res)
	}
	res = tr.Deliver(context.Background(), delivery("a@x.test", "x> NOTIFY=NEVER@y.test", "ok@y.test"))
	if len(res) != 2 || res[0].OK || !res[0].Permanent || res[0].Code != "5.1.3" || res[0].Rcpt != "x> NOTIFY=NEVER@y.test" || !res[1].OK {
		t.Fatalf("bad recipient: %+v", res)
	}
	if m := sink.Messages(); len(m) != 1 || len(m[0].To) != 1 || m[0].To[0] != "ok@y.test" {
		t.Fatalf("next hop got %+v", m)
	}
}
