package api

import (
	"log/slog"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/trace"
)

// The trace routes through the typed client: the search and one
// message's life decode into client's wire types, every answer matches
// openapi.json (closed objects, so a field the document lacks fails), a
// tenant admin sees its own tenant's mail only and an unknown id is a 404.
func TestTraceWire(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	op := e.client("op")
	acme, err := op.CreateTenant(ctx, client.TenantCreate{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := op.CreateTenant(ctx, client.TenantCreate{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	for _, ev := range []trace.Event{
		{Time: at, Session: "s1", TenantID: acme.ID, Stage: "connect", Outcome: "accept", Attrs: []slog.Attr{slog.String("tenant", "acme"), slog.String("client_ip", "192.0.2.7")}},
		{Time: at.Add(time.Millisecond), Session: "s1", TenantID: acme.ID, Stage: "mail", Outcome: "accept", Attrs: []slog.Attr{slog.String("from", "ann@acme.test")}},
		{Time: at.Add(2 * time.Millisecond), Session: "s1", TenantID: acme.ID, Stage: "rcpt", Outcome: "accept", Attrs: []slog.Attr{slog.String("rcpt", "bob@example.net")}},
		{Time: at.Add(3 * time.Millisecond), Session: "s1", TenantID: acme.ID, Stage: "queued", Outcome: "ok", QueueID: "ACMEQ1",
			Attrs: []slog.Attr{slog.String("queue_id", "ACMEQ1"), slog.String("subject", "the quarterly figures"), slog.String("verdict", "ham")}},
		{Time: at.Add(4 * time.Millisecond), QueueID: "ACMEQ1", TenantID: acme.ID, Stage: "delivered", Outcome: "ok", Detail: "250 2.0.0 ok",
			Attrs: []slog.Attr{slog.String("pool", "normal"), slog.String("mx", "mx.example.net")}},
		{Time: at, Session: "s2", TenantID: other.ID, Stage: "mail", Outcome: "accept", Attrs: []slog.Attr{slog.String("from", "eve@other.test")}},
	} {
		e.trace.Record(ctx, ev)
	}

	msgs, err := op.Trace(ctx, client.TraceQuery{Sender: "ann@acme.test", Since: at.Add(-time.Second), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("search by sender = %+v, want one message", msgs)
	}
	m := msgs[0]
	if m.ID != "ACMEQ1" || m.QueueID != "ACMEQ1" || m.TenantID != acme.ID || m.Status != "delivered" || m.Subject != "the quarterly figures" ||
		m.Verdict != "ham" || m.Pool != "normal" || len(m.Recipients) != 1 || m.Recipients[0] != "bob@example.net" || !m.First.Equal(at.Add(time.Millisecond)) {
		t.Fatalf("search row = %+v", m)
	}

	life, err := op.TraceMessage(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if life.Message.ID != "ACMEQ1" || life.Message.Status != "delivered" {
		t.Fatalf("message = %+v", life.Message)
	}
	stages := ""
	for _, ev := range life.Events {
		stages += ev.Stage + " "
	}
	if stages != "mail rcpt queued delivered " {
		t.Fatalf("events %q, want mail rcpt queued delivered", stages)
	}
	last := life.Events[len(life.Events)-1]
	if last.QueueID != "ACMEQ1" || last.Detail != "250 2.0.0 ok" || last.Attrs["mx"] != "mx.example.net" || last.TenantID != acme.ID {
		t.Fatalf("delivery event = %+v", last)
	}

	// A tenant admin: its own message, not the other tenant's.
	mine := e.client(e.tenantToken(acme.ID))
	if got, err := mine.Trace(ctx, client.TraceQuery{}); err != nil || len(got) != 1 || got[0].ID != "ACMEQ1" {
		t.Fatalf("acme's search = %+v, %v", got, err)
	}
	theirs, err := op.Trace(ctx, client.TraceQuery{Tenant: other.ID})
	if err != nil || len(theirs) != 1 || theirs[0].Sender != "eve@other.test" {
		t.Fatalf("operator's search of other = %+v, %v", theirs, err)
	}
	if _, err := mine.TraceMessage(ctx, theirs[0].ID); !client.IsStatus(err, 404) {
		t.Fatalf("acme reading other's message = %v, want 404", err)
	}
	if _, err := op.TraceMessage(ctx, "NOSUCH"); !client.IsCode(err, "not_found") {
		t.Fatalf("unknown id = %v, want not_found", err)
	}
	if _, err := op.Trace(ctx, client.TraceQuery{Limit: 501}); !client.IsStatus(err, 400) {
		t.Fatalf("limit 501 = %v, want 400", err)
	}
}
