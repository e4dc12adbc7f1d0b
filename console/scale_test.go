package console_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/trace"
)

// BenchmarkConsoleAtScale measures the operator's tenants list and a
// tenant's overview and trace with 10,000 tenants and 100,000 trace
// entries: `go test -run '^$' -bench ConsoleAtScale -benchtime 5x ./console`
// (filling the store takes a while). Each page is one sub-benchmark.
func BenchmarkConsoleAtScale(b *testing.B) {
	t := b
	const tenants, traceEntries = 10000, 100000
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ctx := context.Background()
	start := time.Now()
	err := g.DB.Tx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UnixNano()
		for i := range tenants {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (name, license, seats, created_at) VALUES ($1, 'trial', 0, $2)`,
				"tenant-"+strconv.Itoa(i), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Trace entries for alpha: sessions of five events each, a tenth refused.
	at := time.Now().Add(-time.Hour)
	for i := range traceEntries / 5 {
		sess := fmt.Sprintf("S%d", i)
		ts := at.Add(time.Duration(i) * time.Millisecond)
		g.Trace.Record(ctx, trace.Event{Time: ts, Session: sess, TenantID: f.alpha.ID, Stage: "connect", Outcome: "accept"})
		if i%10 == 0 {
			g.Trace.Record(ctx, trace.Event{Time: ts, Session: sess, TenantID: f.alpha.ID, Stage: "mail", Outcome: "reject", Detail: "550 5.1.8 restricted"})
			continue
		}
		g.Trace.Record(ctx, trace.Event{Time: ts, Session: sess, TenantID: f.alpha.ID, Stage: "mail", Outcome: "accept"})
		g.Trace.Record(ctx, trace.Event{Time: ts, Session: sess, TenantID: f.alpha.ID, Stage: "rcpt", Outcome: "accept"})
		g.Trace.Record(ctx, trace.Event{Time: ts, Session: sess, TenantID: f.alpha.ID, Stage: "data", Outcome: "accept"})
		g.Trace.Record(ctx, trace.Event{Time: ts, Session: sess, QueueID: "Q" + sess, TenantID: f.alpha.ID, Stage: "queued", Outcome: "ok"})
		if i%1000 == 0 {
			if err := g.Trace.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := g.Trace.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("filled %d tenants and ~%d trace entries in %s", tenants, traceEntries, time.Since(start).Round(time.Millisecond))

	ops := newClient(t, baseURL(g))
	ops.signInHTTP(f.operator)
	for name, p := range map[string]string{
		"tenants":         "/console/tenants",
		"tenants-by-name": "/console/tenants?sort=name",
		"tenants-search":  "/console/tenants?q=tenant-99",
		"tenant-overview": fmt.Sprintf("/console/t/%d/", f.alpha.ID),
		"tenant-trace":    fmt.Sprintf("/console/t/%d/trace", f.alpha.ID),
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if resp, _ := ops.get(p); resp.StatusCode != 200 {
					b.Fatalf("GET %s: %d", p, resp.StatusCode)
				}
			}
		})
	}
}
