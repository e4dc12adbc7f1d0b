package audit

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tollgate-mail/tollgate/store"
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "tollgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openLog(t testing.TB, db *store.DB, opts ...Option) *Log {
	t.Helper()
	l, err := Open(context.Background(), db, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// newLog is a log on a fresh database with a fake clock.
func newLog(t testing.TB) (*Log, *store.DB, *fakeClock) {
	db := openDB(t)
	c := newClock()
	return openLog(t, db, WithClock(c.Now)), db, c
}

// add appends an entry and fails the test on error.
func add(t testing.TB, l *Log, e Entry) Entry {
	t.Helper()
	out, err := l.Append(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOpenBesideOtherMigrations shows audit and a package using
// store.Migrate (as directory does, with its own 0001) can share one
// database in either order, and that Open is idempotent.
func TestOpenBesideOtherMigrations(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	other := fstest.MapFS{"0001_other.sql": {Data: []byte(`CREATE TABLE other (id INTEGER PRIMARY KEY)`)}}
	if err := db.Migrate(ctx, "other", other); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, db)
	add(t, l, Entry{Actor: "seed", Action: "tenant.create"})
	openLog(t, db) // again: no-op, data kept
	if err := db.Migrate(ctx, "other", other); err != nil {
		t.Fatalf("other package after audit: %v", err)
	}
	if id, _, err := l.Head(ctx); err != nil || id != 1 {
		t.Fatalf("Head = %d, %v; want 1", id, err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	db := openDB(t)
	openLog(t, db)
	if _, err := db.Write.Exec(`INSERT INTO schema_migrations (scope, version, name, applied_at) VALUES ('audit', 99, '0099_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), db)
	if !errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), "99") {
		t.Fatalf("Open = %v, want ErrSchemaTooNew naming 99", err)
	}
}

func TestHeadAndAnchor(t *testing.T) {
	ctx := t.Context()
	l, db, _ := newLog(t)
	if id, h, err := l.Head(ctx); err != nil || id != 0 || h != "" {
		t.Fatalf("empty Head = %d, %q, %v", id, h, err)
	}
	if err := l.CheckAnchor(ctx, 0, ""); err != nil {
		t.Fatalf("empty anchor: %v", err)
	}
	var last Entry
	for range 3 {
		last = add(t, l, Entry{Actor: "system", Action: "licence.change"})
	}
	id, h, err := l.Head(ctx)
	if err != nil || id != 3 || h != last.Hash {
		t.Fatalf("Head = %d, %q, %v; want 3, %q", id, h, err, last.Hash)
	}
	if err := l.CheckAnchor(ctx, id, h); err != nil {
		t.Fatalf("fresh anchor: %v", err)
	}

	// Rewriting the tail and the head fools Verify but not an anchor kept
	// outside the database.
	tamper(t, db, `DELETE FROM audit_log WHERE id = 3`)
	tamper(t, db, `UPDATE audit_head SET last_id = 2, last_hash = (SELECT hash FROM audit_log WHERE id = 2)`)
	if r := verify(t, l); !r.OK {
		t.Fatalf("rewritten tail should pass Verify (documented limit), got %+v", r)
	}
	if err := l.CheckAnchor(ctx, id, h); !errors.Is(err, ErrAnchorMismatch) {
		t.Fatalf("anchor after rewrite = %v, want ErrAnchorMismatch", err)
	}
	if err := l.CheckAnchor(ctx, 2, last.PrevHash); err != nil {
		t.Fatalf("older anchor still holds: %v", err)
	}
	if err := l.CheckAnchor(ctx, 2, h); !errors.Is(err, ErrAnchorMismatch) {
		t.Fatalf("wrong hash anchor = %v, want ErrAnchorMismatch", err)
	}
}
