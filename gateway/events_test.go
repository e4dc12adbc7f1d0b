package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/events"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/suppress"
	"github.com/tollgate-mail/tollgate/trace"
)

// eventReceiver is a tenant's webhook: it refuses a request whose
// signature does not verify with its secret, and keeps the events.
type eventReceiver struct {
	t      *testing.T
	secret string
	srv    *httptest.Server
	mu     sync.Mutex
	got    []events.Event
}

func newEventReceiver(t *testing.T, secret string) *eventReceiver {
	r := &eventReceiver{t: t, secret: secret}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		if err := alert.VerifySignature(secret, req.Header.Get(alert.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("receiver: %v", err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var e events.Event
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("receiver: bad JSON %q: %v", body, err)
			http.Error(w, "bad JSON", http.StatusBadRequest)
			return
		}
		if req.Header.Get("Tollgate-Event") != string(e.Kind) || req.Header.Get("Tollgate-Event-Id") != e.ID {
			t.Errorf("receiver: headers %v for event %+v", req.Header, e)
		}
		r.mu.Lock()
		r.got = append(r.got, e)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *eventReceiver) events() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Event(nil), r.got...)
}

// find waits for the event of kind for rcpt.
func (r *eventReceiver) find(kind events.Kind, rcpt string) events.Event {
	r.t.Helper()
	var found events.Event
	waitUntil(r.t, string(kind)+" event for "+rcpt, func() bool {
		for _, e := range r.events() {
			if e.Kind == kind && strings.EqualFold(e.Recipient, rcpt) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// Over real SMTP, a next hop that takes one recipient, defers one and
// refuses one as unknown gives the tenant's signed webhook a delivered, a
// deferred and a bounced event (classified as a hard bounce) with the
// tenant, queue id and recipient; a complaint and the suppressed recipient
// follow. The other tenant's events go to its own webhook only, and the
// trace has every delivery event with the tenant id.
func TestDeliveryEventsOverSMTP(t *testing.T) {
	sink := startSink(t, devsink.Hooks{Rcpt: func(rcpt string) error {
		switch strings.SplitN(rcpt, "@", 2)[0] {
		case "later":
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		case "nobody":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}})
	recvA := newEventReceiver(t, "shop's secret, long enough")
	recvB := newEventReceiver(t, "other's secret, long enough")
	cfg := testConfig(t, sink.Addr())
	cfg.Queue.RetrySchedule = []config.Duration{config.D(time.Hour)} // one attempt each
	cfg.Feedback.Address = "fbl@gw.test"
	cfg.Events.AllowedInternalWebhooks = config.Prefixes{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.Events.Webhooks = []config.EventWebhook{
		{Tenant: "shop", URL: recvA.srv.URL + "/hook", Secret: recvA.secret},
		{Tenant: "other", URL: recvB.srv.URL + "/hook", Secret: recvB.secret},
	}
	g := start(t, cfg, false)
	shop := seedTenantWithConnector(t, g, "shop", "shop.test", "127.0.0.2/32")
	other := seedTenantWithConnector(t, g, "other", "other.test", "127.0.0.3/32")

	cl := dialFrom(t, "127.0.0.2", addr(g, "relay"))
	if err := send(cl, "shop@shop.test", []string{"ok@example.net", "later@example.net", "nobody@example.net"}, testMessage("receipt", "hi")); err != nil {
		t.Fatal(err)
	}
	delivered := recvA.find(events.Delivered, "ok@example.net")
	deferred := recvA.find(events.Deferred, "later@example.net")
	bounced := recvA.find(events.Bounced, "nobody@example.net")
	for _, e := range []events.Event{delivered, deferred, bounced} {
		if e.TenantID != shop.ID || e.QueueID == "" || e.QueueID != delivered.QueueID || e.ID == "" || e.Time.IsZero() {
			t.Errorf("event %+v: want tenant %d and the message's queue id", e, shop.ID)
		}
	}
	if deferred.Code != "4.3.0" || deferred.Reply != 451 || deferred.Class == "" {
		t.Errorf("deferred %+v", deferred)
	}
	if bounced.Code != "5.1.1" || bounced.Reply != 550 || bounced.Class != "hard-bounce" || bounced.Reason == "" {
		t.Errorf("bounced %+v: want 5.1.1 classified as a hard bounce with its reason", bounced)
	}

	// A complaint (ARF) about a delivered message.
	before := len(sink.Messages())
	msg := "From: shop@shop.test\r\nTo: a@example.net\r\nSubject: offer\r\nMessage-ID: <offer-ev@shop.test>\r\n\r\nBuy.\r\n"
	if err := send(cl, "shop@shop.test", []string{"a@example.net"}, msg); err != nil {
		t.Fatal(err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) > before }) {
		t.Fatal("message not delivered")
	}
	// The trace is written in batches; the report's queue id is looked up there.
	if err := g.Trace.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if status, out := postReport(t, g, arfFor(sink.Messages()[before].Data, "abuse")); status != 200 || !out.Counted {
		t.Fatalf("report: %d %+v", status, out)
	}
	complained := recvA.find(events.Complained, "a@example.net")
	if complained.TenantID != shop.ID || complained.QueueID == "" {
		t.Errorf("complained %+v", complained)
	}

	// The hard-bounced recipient is now suppressed: refused, and an event.
	waitUntil(t, "nobody@ suppressed", func() bool {
		_, ok, _ := g.Suppress.Find(context.Background(), shop.ID, "nobody@example.net")
		return ok
	})
	cl.Mail("shop@shop.test", nil)
	wantCode(t, cl.Rcpt("nobody@example.net", nil), 550, "5.1.92")
	cl.Reset()
	suppressed := recvA.find(events.Suppressed, "nobody@example.net")
	if suppressed.TenantID != shop.ID || suppressed.Code != "5.1.92" || suppressed.Reason != "hard-bounce" {
		t.Errorf("suppressed %+v", suppressed)
	}

	// The other tenant's delivery reaches its own webhook, and only it.
	c3 := dialFrom(t, "127.0.0.3", addr(g, "relay"))
	if err := send(c3, "x@other.test", []string{"ok@example.org"}, testMessage("hello", "hi")); err != nil {
		t.Fatal(err)
	}
	if e := recvB.find(events.Delivered, "ok@example.org"); e.TenantID != other.ID {
		t.Errorf("other's event %+v", e)
	}
	for _, e := range recvA.events() {
		if e.TenantID != shop.ID || e.Recipient == "ok@example.org" {
			t.Errorf("shop's webhook got %+v", e)
		}
	}
	for _, e := range recvB.events() {
		if e.TenantID != other.ID {
			t.Errorf("other's webhook got %+v", e)
		}
	}

	// The trace has each delivery event with the tenant id.
	if err := g.Trace.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, entries, err := g.Trace.Message(context.Background(), delivered.QueueID, shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]trace.Entry{}
	for _, e := range entries {
		if e.TenantID == shop.ID {
			stages[e.Stage+" "+strings.ToLower(e.Rcpt)] = e
		}
	}
	for _, want := range []string{"delivered ok@example.net", "deferred later@example.net", "bounced nobody@example.net"} {
		if _, ok := stages[want]; !ok {
			t.Errorf("trace lacks %q with tenant %d; has %v", want, shop.ID, entries)
		}
	}
}

// With suppression_action = "drop" (a per-tenant override), a suppressed
// recipient is taken with 250 and left out of the message: the others get
// it, the trace records the drop, the webhook a suppressed event; a
// message to nobody but suppressed recipients is accepted and never
// queued. A tenant without the override is still refused.
func TestSuppressedRecipientDropped(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	recv := newEventReceiver(t, "shop's secret, long enough")
	cfg := testConfig(t, sink.Addr())
	cfg.Events.AllowedInternalWebhooks = config.Prefixes{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.Events.Webhooks = []config.EventWebhook{{Tenant: "shop", URL: recv.srv.URL, Secret: recv.secret}}
	g := start(t, cfg, false)
	ctx := context.Background()
	shop := seedTenantWithConnector(t, g, "shop", "shop.test", "127.0.0.2/32")
	seedTenantWithConnector(t, g, "other", "other.test", "127.0.0.3/32")
	drop := policy.SuppressDrop
	if err := g.Blocks.SetOverrides(ctx, shop.ID, policy.Overrides{SuppressionAction: &drop}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := g.Suppress.Add(ctx, suppress.Global, "trap@example.org", suppress.Manual, "spam trap", "test"); err != nil {
		t.Fatal(err)
	}

	cl := dialFrom(t, "127.0.0.2", addr(g, "relay"))
	if err := send(cl, "shop@shop.test", []string{"trap@example.org", "ok@example.net"}, testMessage("news", "hi")); err != nil {
		t.Fatalf("a dropped recipient must not fail the transaction: %v", err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatal("message not delivered to the other recipient")
	}
	if to := sink.Messages()[0].To; len(to) != 1 || to[0] != "ok@example.net" {
		t.Fatalf("delivered to %v: want only ok@example.net", to)
	}
	e := recv.find(events.Suppressed, "trap@example.org")
	if e.TenantID != shop.ID || e.Code != "5.1.92" || !strings.Contains(e.Detail, "dropped") {
		t.Errorf("suppressed event %+v", e)
	}

	// Only suppressed recipients: accepted, nothing queued or delivered.
	if err := send(cl, "shop@shop.test", []string{"trap@example.org"}, testMessage("news 2", "hi")); err != nil {
		t.Fatalf("all recipients dropped: %v", err)
	}
	if err := g.Trace.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	found, err := g.Trace.Search(ctx, trace.Query{TenantID: shop.ID, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	drops := 0
	for _, s := range found {
		_, entries, err := g.Trace.Message(ctx, s.ID, shop.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range entries {
			if en.Stage == "rcpt" && en.Outcome == "drop" && en.Rule == "suppression" {
				drops++
			}
		}
	}
	if drops != 2 {
		t.Errorf("trace has %d rcpt drops by the suppression rule, want 2 (found %+v)", drops, found)
	}
	if n := len(sink.Messages()); n != 1 {
		t.Errorf("sink has %d messages, want 1: the all-dropped one must not be delivered", n)
	}

	// Without the override: refused.
	c3 := dialFrom(t, "127.0.0.3", addr(g, "relay"))
	c3.Mail("x@other.test", nil)
	wantCode(t, c3.Rcpt("trap@example.org", nil), 550, "5.1.92")
}

// A webhook URL on an internal address is refused at start, naming the
// key, unless events.allowed_internal_webhooks allows it.
func TestEventWebhookInternalRefused(t *testing.T) {
	cfg := testConfig(t, "127.0.0.1:1")
	cfg.Events.Webhooks = []config.EventWebhook{{Tenant: "shop", URL: "http://10.1.2.3/hook", Secret: "sixteen characters!"}}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	g, err := gateway.StartWith(context.Background(), cfg, testLogger(t), gateway.Options{})
	if err == nil {
		g.Close()
		t.Fatal("started with a webhook on 10.1.2.3")
	}
	if !strings.Contains(err.Error(), "events.webhook[0].url") || !strings.Contains(err.Error(), "private") {
		t.Fatalf("error %q: want it to name events.webhook[0].url and the range", err)
	}
}
