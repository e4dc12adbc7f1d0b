package smtpd

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/trace"
)

type recorded struct {
	mu sync.Mutex
	ev []trace.Event
}

func (r *recorded) Record(_ context.Context, e trace.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ev = append(r.ev, e)
}

// Each address gets PerMinute whole events a window, all together
// PerSecond; what is left out is summarised per address when it closes.
func TestTraceBudget(t *testing.T) {
	rec := &recorded{}
	b := newTraceBudget(TraceBudget{PerMinute: 3, PerSecond: 5, Window: time.Hour}, rec)
	t0 := time.Now()
	b.now = func() time.Time { return t0 } // no refill meanwhile
	a, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	kept := 0
	for range 10 {
		if b.allow(a, "rcpt", "reject") {
			kept++
		}
	}
	if kept != 3 {
		t.Fatalf("kept %d of one address's events, want 3", kept)
	}
	for range 10 {
		if b.allow(c, "connect", "accept") {
			kept++
		}
	}
	if kept != 5 { // the global bucket holds 5
		t.Fatalf("kept %d events in all, want 5 (per second)", kept)
	}
	b.close()
	if len(rec.ev) != 2 {
		t.Fatalf("want one summary per address, got %+v", rec.ev)
	}
	for _, e := range rec.ev {
		if e.Stage != "summary" || e.Outcome != "suppressed" {
			t.Fatalf("summary event %+v", e)
		}
		switch {
		case strings.Contains(e.Detail, "from 192.0.2.1 "):
			if !strings.HasPrefix(e.Detail, "7 events") || !strings.Contains(e.Detail, "rcpt reject 7") {
				t.Fatalf("summary of 192.0.2.1: %s", e.Detail)
			}
		case strings.Contains(e.Detail, "from 2001:db8::/64 "):
			if !strings.HasPrefix(e.Detail, "8 events") {
				t.Fatalf("summary of the /64: %s", e.Detail)
			}
		default:
			t.Fatalf("summary of whom? %s", e.Detail)
		}
	}
}
