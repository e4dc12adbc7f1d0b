package gateway_test

import (
	"context"
	"testing"

	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/suppress"
)

// A recipient whose mail hard-bounced (550 5.1.1 at the next hop) goes on
// the tenant's suppression list; the tenant's next message to it is
// refused at RCPT with 5.1.92 while another tenant still reaches it;
// removing the entry lets mail through again. A complaint lists its
// recipient the same way.
func TestSuppressionOverSMTP(t *testing.T) {
	sink := feedbackSink(t)
	cfg := testConfig(t, sink.Addr())
	cfg.Feedback.Address = "fbl@gw.test"
	g := start(t, cfg, false)
	tn := seedTenantWithConnector(t, g, "shop", "shop.test", "127.0.0.2/32")
	other := seedTenantWithConnector(t, g, "other", "other.test", "127.0.0.3/32")
	ctx := context.Background()

	cl := dialFrom(t, "127.0.0.2", addr(g, "relay"))
	if err := send(cl, "shop@shop.test", []string{"nobody@example.net"}, testMessage("receipt", "hi")); err != nil {
		t.Fatal(err)
	}
	var e suppress.Entry
	waitUntil(t, "the hard-bounced recipient suppressed", func() bool {
		var ok bool
		e, ok, _ = g.Suppress.Find(ctx, tn.ID, "Nobody@example.net")
		return ok
	})
	if e.Reason != suppress.HardBounce || e.TenantID != tn.ID {
		t.Fatalf("entry %+v", e)
	}
	cl.Mail("shop@shop.test", nil)
	wantCode(t, cl.Rcpt("NOBODY@example.net", nil), 550, "5.1.92")
	cl.Reset()
	// Another tenant's mail to it is its own business.
	if _, ok, _ := g.Suppress.Find(ctx, other.ID, "nobody@example.net"); ok {
		t.Fatal("suppressed for another tenant")
	}
	if err := g.Suppress.Remove(ctx, tn.ID, "nobody@example.net", "test"); err != nil {
		t.Fatal(err)
	}
	cl.Mail("shop@shop.test", nil)
	if err := cl.Rcpt("nobody@example.net", nil); err != nil {
		t.Fatalf("after removal: %v", err)
	}
	cl.Reset()

	// A complaint for a delivered message suppresses its recipient.
	msg := "From: shop@shop.test\r\nTo: a@example.net\r\nSubject: offer\r\nMessage-ID: <offer-1@shop.test>\r\n\r\nBuy.\r\n"
	before := len(sink.Messages())
	if err := send(cl, "shop@shop.test", []string{"a@example.net"}, msg); err != nil {
		t.Fatal(err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) > before }) {
		t.Fatal("message not delivered")
	}
	if status, out := postReport(t, g, arfFor(sink.Messages()[before].Data, "abuse")); status != 200 || !out.Counted {
		t.Fatalf("report: %d %+v", status, out)
	}
	if e, ok, _ := g.Suppress.Find(ctx, tn.ID, "a@example.net"); !ok || e.Reason != suppress.Complaint {
		t.Fatalf("complainant not suppressed: %+v %v", e, ok)
	}
	cl.Mail("shop@shop.test", nil)
	wantCode(t, cl.Rcpt("a@example.net", nil), 550, "5.1.92")
	// The operators' global list holds for every tenant.
	if _, _, err := g.Suppress.Add(ctx, suppress.Global, "trap@example.org", suppress.Manual, "spam trap", "test"); err != nil {
		t.Fatal(err)
	}
	c3 := dialFrom(t, "127.0.0.3", addr(g, "relay"))
	c3.Mail("x@other.test", nil)
	wantCode(t, c3.Rcpt("trap@example.org", nil), 550, "5.1.92")
}
