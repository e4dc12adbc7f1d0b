package trace

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

func TestSearchAndMessage(t *testing.T) { storetest.ForEach(t, testSearchAndMessage) }

// A session with a refused and a queued transaction, and the queued one's
// delivery: search finds each transaction as its own message, and a
// message's events are each listed once, in order.
func testSearchAndMessage(t *testing.T, db *store.DB) {
	ctx := context.Background()
	s, err := OpenStore(ctx, db, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	str := slog.String
	for _, e := range []Event{
		{Time: at(0), Session: "S1", TenantID: 7, Stage: "connect", Outcome: "accept"},
		{Time: at(1), Session: "S1", TenantID: 7, Stage: "mail", Outcome: "accept", Attrs: []slog.Attr{str("from", "Spam@Acme.test")}},
		{Time: at(2), Session: "S1", TenantID: 7, Stage: "rcpt", Outcome: "reject", Rule: "sender-daily-recipients", Detail: "550 5.1.90 limit",
			Attrs: []slog.Attr{str("rcpt", "x@example.net")}},
		{Time: at(3), Session: "S1", TenantID: 7, Stage: "mail", Outcome: "accept", Attrs: []slog.Attr{str("from", "ok@acme.test")}},
		{Time: at(4), Session: "S1", TenantID: 7, Stage: "rcpt", Outcome: "accept", Attrs: []slog.Attr{str("rcpt", "y@example.net")}},
		{Time: at(5), Session: "S1", TenantID: 7, Stage: "data", Outcome: "accept", Attrs: []slog.Attr{str("message_id", "<m1@acme.test>"), str("verdict", "clean")}},
		{Time: at(6), Session: "S1", QueueID: "Q1", TenantID: 7, Stage: "queued", Outcome: "ok", Attrs: []slog.Attr{str("queue_id", "Q1"), str("subject", "hello"), str("pool", "normal")}},
		{Time: at(7), QueueID: "Q1", TenantID: 7, Stage: "delivered", Outcome: "ok", Rule: "delivery", Attrs: []slog.Attr{str("rcpt", "y@example.net"), str("pool", "normal")}},
		{Time: at(8), Session: "S2", TenantID: 8, Stage: "mail", Outcome: "accept", Attrs: []slog.Attr{str("from", "ok@acme.test")}},
	} {
		s.Record(ctx, e)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.Search(ctx, Query{Sender: "spam@acme.test"})
	if err != nil || len(got) != 1 || got[0].Status != "refused" || got[0].Code != "550 5.1.90" || !strings.HasPrefix(got[0].ID, "s:S1:") {
		t.Fatalf("search by sender: %+v %v", got, err)
	}
	// A refused transaction opens by its own id, distinct from the
	// session's other transactions.
	if m, ev, err := s.Message(ctx, got[0].ID, 7); err != nil || m.Sender != "spam@acme.test" || len(ev) != 2 {
		t.Fatalf("the refused transaction: %+v %d events %v", m, len(ev), err)
	}
	got, err = s.Search(ctx, Query{Recipient: "Y@example.net", TenantID: 7})
	if err != nil || len(got) != 1 || got[0].ID != "Q1" || got[0].Status != "delivered" || got[0].Subject != "hello" || got[0].Verdict != "clean" {
		t.Fatalf("search by recipient: %+v %v", got, err)
	}
	if got, _ := s.Search(ctx, Query{Recipient: "y@example.net", TenantID: 8}); len(got) != 0 {
		t.Fatalf("another tenant found tenant 7's message: %+v", got)
	}
	if got, _ := s.Search(ctx, Query{MessageID: "m1@acme.test"}); len(got) != 1 || got[0].ID != "Q1" {
		t.Fatalf("search by message id: %+v", got)
	}
	m, events, err := s.Message(ctx, "Q1", 7)
	if err != nil || m.QueueID != "Q1" {
		t.Fatalf("message: %+v %v", m, err)
	}
	var stages []string
	for _, e := range events {
		stages = append(stages, e.Stage)
	}
	if want := "mail rcpt data queued delivered"; joinStages(stages) != want {
		t.Fatalf("events %q, want %q (each once, in order)", joinStages(stages), want)
	}
	if _, _, err := s.Message(ctx, "Q1", 8); err != ErrNotFound {
		t.Fatalf("another tenant read the message: %v", err)
	}
	if err := s.Purge(ctx, at(100)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Search(ctx, Query{}); len(got) != 0 {
		t.Fatalf("after purge: %+v", got)
	}
}

func joinStages(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}
