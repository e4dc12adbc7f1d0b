package reputation

import (
	"context"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// Counts live in memory until a flush, survive a restart through the store,
// and two nodes on one store build one record: each sees the other's
// messages after a sync, and first_seen is the earliest of the two.
func TestRecordsAcrossNodes(t *testing.T) { storetest.ForEach(t, testRecordsAcrossNodes) }

func testRecordsAcrossNodes(t *testing.T, db *store.DB) {
	ctx := context.Background()
	clk := newClock()
	start := clk.Now()
	a := open(t, db, Config{Clock: clk.Now})
	b := open(t, storetest.Reopen(t, db), Config{Clock: clk.Now})
	ip := addr("192.0.2.10")

	// b looks first and caches "never seen".
	if r, err := b.Record(ctx, ip, start); err != nil || r.Known() {
		t.Fatalf("before any traffic: %+v %v", r, err)
	}
	observe(a, "192.0.2.10", 10, 3)
	if r, _ := a.Record(ctx, ip, start); r.Messages != 10 || r.Spam != 3 || !r.FirstSeen.Equal(start) {
		t.Fatalf("a sees its unflushed counts: %+v", r)
	}
	var n int
	db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM reputation_ips`).Scan(&n)
	if n != 0 {
		t.Fatalf("observe wrote to the store (%d rows); it must only touch memory", n)
	}

	clk.Add(time.Hour)
	observe(b, "::ffff:192.0.2.10", 5, 5) // the same IP, IPv4-mapped
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(ctx); err != nil { // flushes b's 5, reads back the 15
		t.Fatal(err)
	}
	if err := a.Sync(ctx); err != nil { // a picks up b's 5 through Refresh
		t.Fatal(err)
	}
	for name, tr := range map[string]*Tracker{"a": a, "b": b} {
		r, err := tr.Record(ctx, ip, clk.Now())
		if err != nil || r.Messages != 15 || r.Spam != 8 || !r.FirstSeen.Equal(start) || !r.LastSeen.Equal(start.Add(time.Hour)) {
			t.Errorf("node %s after sync: %+v %v", name, r, err)
		}
	}

	// A third node starting cold reads the record from the store.
	c := open(t, storetest.Reopen(t, db), Config{Clock: clk.Now})
	if r, err := c.Record(ctx, ip, clk.Now()); err != nil || r.Messages != 15 || r.SpamRatio() != 8.0/15 {
		t.Errorf("cold node: %+v %v", r, err)
	}
}

// Close flushes what is in memory; a failed flush keeps the counts for the
// next one.
func TestFlushAtCloseAndRetry(t *testing.T) { storetest.ForEach(t, testFlushAtCloseAndRetry) }

func testFlushAtCloseAndRetry(t *testing.T, db *store.DB) {
	ctx := context.Background()
	clk := newClock()
	a, err := Open(ctx, db, Config{Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	observe(a, "2001:db8::7", 3, 1)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.Flush(cancelled); err == nil {
		t.Fatal("flush with a cancelled context succeeded")
	}
	if r, _ := a.Record(ctx, addr("2001:db8::7"), clk.Now()); r.Messages != 3 {
		t.Fatalf("counts lost by a failed flush: %+v", r)
	}
	observe(a, "2001:db8::7", 1, 0)
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	b := open(t, storetest.Reopen(t, db), Config{Clock: clk.Now})
	if r, err := b.Record(ctx, addr("2001:db8::7"), clk.Now()); err != nil || r.Messages != 4 || r.Spam != 1 {
		t.Fatalf("after close: %+v %v", r, err)
	}
}

// Idle entries leave memory at a refresh; entries with counts to flush stay.
func TestIdleEviction(t *testing.T) { storetest.ForEach(t, testIdleEviction) }

func testIdleEviction(t *testing.T, db *store.DB) {
	ctx := context.Background()
	clk := newClock()
	a := open(t, db, Config{Clock: clk.Now, IdleTTL: time.Hour})
	a.Record(ctx, addr("192.0.2.1"), clk.Now())
	observe(a, "192.0.2.2", 1, 0)
	clk.Add(time.Hour + time.Second)
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	_, idle := a.ips[addr("192.0.2.1")]
	_, pending := a.ips[addr("192.0.2.2")]
	a.mu.Unlock()
	if idle || !pending {
		t.Fatalf("after refresh: idle entry kept %v, unflushed entry kept %v", idle, pending)
	}
}
