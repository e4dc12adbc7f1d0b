package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/trace"
)

// Mail submitted with an app password and still queued (its next hop
// deferred it) when that app password is restricted is held, not
// delivered: the queue keeps the attribution the message was accepted
// under, and the hold judges it with the same checks as MAIL FROM. Mail
// the same user queued with the main password still goes out.
func TestQueuedThenAppPasswordRestrictedHeld(t *testing.T) {
	var accept atomic.Bool
	var deferred atomic.Int64
	sink := startSink(t, devsink.Hooks{Rcpt: func(rcpt string) error {
		if !accept.Load() && strings.HasPrefix(rcpt, "someone") {
			deferred.Add(1)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	}})
	g := startWith(t, protectConfig(t, sink.Addr()), false, gateway.Options{Classifier: subjectClassifier})
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "")
	ctx := context.Background()
	alice, err := g.Directory.CreateUser(ctx, directory.By{}, acme.ID, "alice@acme.test", "alice password 1")
	if err != nil {
		t.Fatal(err)
	}
	phone, appPw, err := g.Directory.CreateAppPassword(ctx, directory.By{}, alice.ID, "phone")
	if err != nil {
		t.Fatal(err)
	}
	submit := func(pw, subject string) {
		t.Helper()
		c := dialStartTLS(t, addr(g, "submission"))
		defer c.Close()
		if err := c.Auth(sasl.NewPlainClient("", "alice@acme.test", pw)); err != nil {
			t.Fatalf("auth: %v", err)
		}
		if err := send(c, "alice@acme.test", []string{stranger()}, msgFrom("alice@acme.test", subject)); err != nil {
			t.Fatalf("submit %q: %v", subject, err)
		}
	}
	submit(appPw, "from the phone")
	submit("alice password 1", "from the laptop")
	deadline := time.Now().Add(waitFor)
	for deferred.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the next hop deferred %d of 2 messages", deferred.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, err := g.Blocks.Restrict(ctx, blocks.Restriction{TenantID: acme.ID, Kind: blocks.KindAppPassword,
		Subject: fmt.Sprint(phone.ID), Reason: "the phone was stolen", Rule: "operator"}, "admin"); err != nil {
		t.Fatal(err)
	}
	accept.Store(true)

	// The laptop's message is delivered; the phone's is not: its sender
	// gets a 5.1.8 DSN instead.
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 2 }) {
		t.Fatalf("want the laptop's message and a DSN; sink has %d", sink.Count())
	}
	waitQueueEmpty(t, g)
	var dsn, laptop int
	for _, m := range sink.Messages() {
		body := string(m.Data)
		switch {
		case m.From == "" && strings.Contains(body, "Status: 5.1.8") && strings.Contains(body, "the phone was stolen"):
			dsn++
		case m.From == "alice@acme.test" && strings.Contains(body, "Subject: from the laptop"):
			laptop++
		default:
			t.Errorf("unexpected delivery from %q to %v:\n%.400s", m.From, m.To, body)
		}
	}
	if dsn != 1 || laptop != 1 {
		t.Fatalf("want one 5.1.8 DSN and the laptop's message, got %d DSN(s) and %d", dsn, laptop)
	}

	// The trace says why: the phone's message bounced by the restriction
	// of its app password.
	var tr struct{ Messages []trace.Summary }
	apiCall(t, g, g.AdminToken, "GET", "/api/v1/trace?sender=alice@acme.test", nil, &tr)
	var phoneMsg *trace.Summary
	for i, m := range tr.Messages {
		if m.Subject == "from the phone" {
			phoneMsg = &tr.Messages[i]
		}
	}
	if phoneMsg == nil {
		t.Fatalf("the phone's message is not in the trace: %+v", tr.Messages)
	}
	var one struct{ Events []trace.Entry }
	apiCall(t, g, g.AdminToken, "GET", "/api/v1/trace/"+phoneMsg.ID, nil, &one)
	held := false
	for _, e := range one.Events {
		if e.Stage == "bounced" && e.Rule == "restricted-sender" && e.Attrs["code"] == "5.1.8" &&
			strings.Contains(e.Attrs["figures"], fmt.Sprintf("restricted=app-password %d", phone.ID)) {
			held = true
		}
		if e.Stage == "delivered" {
			t.Errorf("the trace says the held message was delivered: %+v", e)
		}
	}
	if !held {
		t.Fatalf("no trace event holds the message for its app password: %+v", one.Events)
	}
}
