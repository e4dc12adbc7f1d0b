package blocks

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

func open(t *testing.T, db *store.DB, now func() time.Time) *Store {
	t.Helper()
	s, err := Open(context.Background(), db, Options{Now: now, Refresh: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBlocksAcrossNodes(t *testing.T) { storetest.ForEach(t, testBlocksAcrossNodes) }

// Two nodes crossing the threshold at once make one block; a second
// request while one is pending, and a second decision, are conflicts; the
// approval releases the block on both nodes.
func testBlocksAcrossNodes(t *testing.T, db *store.DB) {
	ctx := context.Background()
	a := open(t, db, nil)
	b := open(t, storetest.Reopen(t, db), nil)
	var wg sync.WaitGroup
	created := make(chan bool, 2)
	for _, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, c, err := s.BlockTenant(ctx, Block{TenantID: 7, Reason: ReasonThreshold, Rule: "tenant-threshold"}, "system")
			if err != nil {
				t.Error(err)
			}
			created <- c
		}()
	}
	wg.Wait()
	close(created)
	n := 0
	for c := range created {
		if c {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d blocks created by two nodes at once, want 1", n)
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.ActiveBlock(7); !ok {
		t.Fatal("node B does not see the block")
	}
	req, err := a.RequestUnblock(ctx, 7, "a leaked password", "rotated it", "admin:x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.RequestUnblock(ctx, 7, "again", "again", "admin:y"); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second pending request: %v, want a conflict", err)
	}
	if _, err := a.RequestUnblock(ctx, 7, " ", "x", "admin:x"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an empty cause: %v, want invalid", err)
	}
	// Two operators decide at once: one wins, the other is told.
	results := make(chan error, 2)
	for i, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Decide(ctx, req.ID, i == 0, "", "op", 100, 3)
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	var ok, conflict int
	for err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrConflict):
			conflict++
		default:
			t.Fatal(err)
		}
	}
	if ok != 1 || conflict != 1 {
		t.Fatalf("two decisions: %d ok, %d conflicts; want 1 and 1", ok, conflict)
	}
	got, err := a.UnblockRequest(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	a.Reload(ctx)
	_, blocked := a.ActiveBlock(7)
	if (got.Status == StatusApproved) == blocked {
		t.Fatalf("request %s but tenant blocked=%v", got.Status, blocked)
	}
}

func TestRestrictionLifecycle(t *testing.T) { storetest.ForEach(t, testRestrictionLifecycle) }

// A restriction until midnight ends by itself; the sender can then be
// restricted again; a release ends one at once and a second release is a
// conflict.
func testRestrictionLifecycle(t *testing.T, db *store.DB) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := open(t, db, clock)
	midnight := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	r, created, err := s.Restrict(ctx, Restriction{TenantID: 1, Kind: KindSender, Subject: "a@x.test", Reason: "spam", Rule: "r", Until: midnight}, "system")
	if err != nil || !created {
		t.Fatal(created, err)
	}
	if _, again, _ := s.Restrict(ctx, Restriction{TenantID: 1, Kind: KindSender, Subject: "a@x.test", Reason: "spam", Rule: "r"}, "system"); again {
		t.Fatal("restricted twice")
	}
	if _, ok := s.Restricted(1, KindSender, "a@x.test", midnight.Add(-time.Nanosecond)); !ok {
		t.Fatal("not restricted just before midnight")
	}
	if _, ok := s.Restricted(1, KindSender, "a@x.test", midnight); ok {
		t.Fatal("still restricted at midnight")
	}
	mu.Lock()
	now = midnight.Add(time.Hour)
	mu.Unlock()
	r2, created, err := s.Restrict(ctx, Restriction{TenantID: 1, Kind: KindSender, Subject: "a@x.test", Reason: "spam again", Rule: "r"}, "system")
	if err != nil || !created || r2.ID == r.ID {
		t.Fatalf("restrict after expiry: %+v %v %v", r2, created, err)
	}
	if _, err := s.Release(ctx, 2, r2.ID, "admin"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another tenant released it: %v", err)
	}
	if _, err := s.Release(ctx, 1, r2.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Release(ctx, 1, r2.ID, "admin"); !errors.Is(err, ErrConflict) {
		t.Fatalf("second release: %v, want a conflict", err)
	}
	if _, ok := s.Restricted(1, KindSender, "a@x.test", clock()); ok {
		t.Fatal("restricted after release")
	}
	if _, _, err := s.Restrict(ctx, Restriction{TenantID: 1, Kind: "user", Subject: "x"}, "system"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a bad kind: %v", err)
	}
}

func TestStats(t *testing.T) { storetest.ForEach(t, testStats) }

// Verdicts are counted per UTC day and survive a flush from two nodes.
func testStats(t *testing.T, db *store.DB) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a, b := open(t, db, clock), open(t, storetest.Reopen(t, db), clock)
	for _, v := range []policy.Class{"clean", "spam", "bulk", "clean", ""} {
		a.NoteVerdict(3, v)
	}
	b.NoteVerdict(3, "spam")
	if err := b.FlushStats(ctx); err != nil {
		t.Fatal(err)
	}
	days, err := a.Stats(ctx, 3, 2)
	if err != nil || len(days) != 2 {
		t.Fatal(days, err)
	}
	d := days[1]
	if d.Messages != 5 || d.Spam != 2 || d.Bulk != 1 || d.Refused != 1 || days[0].Messages != 0 {
		t.Fatalf("stats %+v", days)
	}
	if _, err := a.Stats(ctx, 3, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("0 days: %v", err)
	}
}
