package trace

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

func TestCountsAndAbandoned(t *testing.T) { storetest.ForEach(t, testCountsAndAbandoned) }

// Counts agree with Search: a refused transaction, a refused recipient
// beside an accepted one (not a refused message), a queued message, and a
// transaction left after RCPT (abandoned, not open, once another MAIL
// followed or openFor passed); summaries carry the tenant and connector
// named at connect.
func testCountsAndAbandoned(t *testing.T, db *store.DB) {
	ctx := context.Background()
	s, err := OpenStore(ctx, db, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	str := slog.String
	conn := []slog.Attr{str("tenant", "acme"), str("connector", "lab"), str("client_ip", "192.0.2.7")}
	for _, e := range []Event{
		{Time: at(0), Session: "S1", TenantID: 7, Stage: "connect", Outcome: "accept", Attrs: conn},
		{Time: at(1), Session: "S1", TenantID: 7, Stage: "mail", Outcome: "reject", Rule: "restricted", Detail: "550 5.1.8 restricted", Attrs: []slog.Attr{str("from", "ann@acme.test")}},
		{Time: at(2), Session: "S1", TenantID: 7, Stage: "mail", Outcome: "accept", Attrs: []slog.Attr{str("from", "bob@acme.test")}},
		{Time: at(3), Session: "S1", TenantID: 7, Stage: "rcpt", Outcome: "accept", Attrs: []slog.Attr{str("rcpt", "a@example.net")}},
		{Time: at(4), Session: "S1", TenantID: 7, Stage: "rcpt", Outcome: "reject", Detail: "550 5.1.90 limit", Attrs: []slog.Attr{str("rcpt", "b@example.net")}},
		{Time: at(5), Session: "S1", TenantID: 7, Stage: "data", Outcome: "accept"},
		{Time: at(6), Session: "S1", QueueID: "Q1", TenantID: 7, Stage: "queued", Outcome: "ok", Attrs: []slog.Attr{str("queue_id", "Q1")}},
		// Left after RCPT, then another MAIL that is also left.
		{Time: at(7), Session: "S2", TenantID: 7, Stage: "connect", Outcome: "accept", Attrs: conn},
		{Time: at(8), Session: "S2", TenantID: 7, Stage: "mail", Outcome: "accept", Attrs: []slog.Attr{str("from", "carl@acme.test")}},
		{Time: at(9), Session: "S2", TenantID: 7, Stage: "rcpt", Outcome: "accept", Attrs: []slog.Attr{str("rcpt", "c@example.net")}},
		{Time: at(10), Session: "S2", TenantID: 7, Stage: "mail", Outcome: "accept", Attrs: []slog.Attr{str("from", "carl@acme.test")}},
		// Another tenant's refusal is not acme's.
		{Time: at(11), Session: "S3", TenantID: 8, Stage: "mail", Outcome: "reject", Detail: "550 5.7.705 blocked", Attrs: []slog.Attr{str("from", "x@other.test")}},
	} {
		s.Record(ctx, e)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Search(ctx, Query{TenantID: 7})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]int{}
	for _, m := range rows {
		status[m.Status]++
		if m.Tenant != "acme" || m.Connector != "lab" || m.ClientIP != "192.0.2.7" {
			t.Errorf("summary without the connect's attribution: %+v", m)
		}
	}
	if status["refused"] != 1 || status["queued"] != 1 || status["abandoned"] != 2 || status["open"] != 0 {
		t.Fatalf("statuses %v, want 1 refused, 1 queued, 2 abandoned: %+v", status, rows)
	}
	c, err := s.Counts(ctx, 7, t0.Add(-time.Minute), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if c != (Counts{Accepted: 1, Refused: 1, Senders: 3}) {
		t.Fatalf("Counts = %+v, want 1 accepted, 1 refused, 3 senders", c)
	}
	// The refusals by code, every tenant's: acme's 5.1.8 at MAIL and 5.1.90
	// at RCPT, the other tenant's 5.7.705.
	byCode := map[string]int64{}
	cs, err := s.RefusalsByCode(ctx, t0.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		byCode[c.Code] += c.Count
	}
	if len(byCode) != 3 || byCode["550 5.1.8"] != 1 || byCode["550 5.1.90"] != 1 || byCode["550 5.7.705"] != 1 {
		t.Fatalf("RefusalsByCode = %+v", cs)
	}
	// Outside the range, nothing.
	if c, _ := s.Counts(ctx, 7, t0.Add(time.Hour), t0.Add(2*time.Hour)); c != (Counts{}) {
		t.Fatalf("Counts of an empty range = %+v", c)
	}
}

// A transaction without an outcome is open while it may still be in
// progress, abandoned after openFor.
func TestOpenUntilOpenFor(t *testing.T) {
	now := time.Now()
	es := []Entry{{At: now.Add(-time.Minute), Session: "S", TenantID: 1, Stage: "mail", Outcome: "accept"}}
	if got := summarize(es, now); len(got) != 1 || got[0].Status != "open" {
		t.Fatalf("a minute-old transaction: %+v", got)
	}
	if got := summarize(es, now.Add(openFor)); len(got) != 1 || got[0].Status != "abandoned" {
		t.Fatalf("a transaction older than openFor: %+v", got)
	}
}

// A delivery attempt recorded a moment before its session's "queued" event
// joins the queued message instead of opening a second row for it.
func TestAttemptBeforeQueued(t *testing.T) {
	now := time.Now()
	at := func(ms int) time.Time { return now.Add(time.Duration(ms) * time.Millisecond) }
	es := []Entry{
		{At: at(0), Session: "S", TenantID: 1, Stage: "mail", Outcome: "accept", Sender: "bob@a.test"},
		{At: at(1), Session: "S", TenantID: 1, Stage: "rcpt", Outcome: "accept", Rcpt: "x@example.net"},
		{At: at(2), QueueID: "Q", TenantID: 1, Stage: "deferred", Outcome: "defer"},
		{At: at(3), Session: "S", QueueID: "Q", TenantID: 1, Stage: "queued", Outcome: "ok"},
	}
	got := summarize(es, now)
	if len(got) != 1 || got[0].QueueID != "Q" || got[0].Sender != "bob@a.test" || got[0].Status != "deferred" {
		t.Fatalf("summaries %+v, want one deferred message Q from bob", got)
	}
}
