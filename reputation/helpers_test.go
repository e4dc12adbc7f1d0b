package reputation

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
)

// clock is a settable time for Observe and the list bookkeeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func open(t testing.TB, db *store.DB, cfg Config) *Tracker {
	t.Helper()
	tr, err := Open(context.Background(), db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tr.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return tr
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func prefix(t testing.TB, s string) netip.Prefix {
	t.Helper()
	p, err := ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// observe records n messages, spam of them spam, from ip.
func observe(tr *Tracker, ip string, n, spam int) {
	for i := range n {
		tr.Observe(addr(ip), i < spam)
	}
}
