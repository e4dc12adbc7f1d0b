package events

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// dedupReceiver keeps each event id it accepted and how often it saw it,
// as a receiver that deduplicates on Tollgate-Event-Id does.
type dedupReceiver struct {
	mu     sync.Mutex
	up     bool
	seen   map[string]int // accepted requests per id
	tries  int
	bodies map[string]Event
}

func (r *dedupReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rec := &recorder{}
	rw := httptest.NewRecorder()
	rec.ServeHTTP(rw, req) // verifies the signature, decodes the event
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if rw.Code != http.StatusOK || !r.up {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	e := rec.events()[0]
	r.seen[e.ID]++
	r.bodies[e.ID] = e
}

func (r *dedupReceiver) setUp(up bool) {
	r.mu.Lock()
	r.up = up
	r.mu.Unlock()
}

func (r *dedupReceiver) snapshot() (seen map[string]int, tries int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen = map[string]int{}
	for k, v := range r.seen {
		seen[k] = v
	}
	return seen, r.tries
}

// Events pending when a dispatcher stops (its receiver down) are kept in
// the store; the next dispatcher on the same store and node sends each
// exactly once, and a third sends nothing. Both stores.
func TestPendingEventsSurviveRestart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		st, err := Open(ctx, db, nil, StoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		recv := &dedupReceiver{seen: map[string]int{}, bodies: map[string]Event{}}
		srv := httptest.NewServer(recv)
		defer srv.Close()
		wh := hookFor(t, srv.URL)
		wh.Attempts = 1000 // retried until Close cuts it short
		hook := func(context.Context, int64) *alert.Webhook { return wh }
		open := func() *Dispatcher {
			d, err := NewDispatcher(Config{Hook: hook, Outbox: st, Node: "node-a"})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}

		d1 := open()
		rcpts := []string{"a@x.test", "b@x.test", "c@x.test"}
		for _, r := range rcpts {
			if !d1.Emit(ctx, Event{Kind: Delivered, TenantID: 7, Recipient: r}) {
				t.Fatalf("event for %s not queued", r)
			}
		}
		// Another node's event: not this node's to resume.
		if err := st.Save(ctx, "node-b", Event{ID: "other-node", Kind: Bounced, TenantID: 7, Recipient: "z@x.test", Time: time.Now()}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the receiver refusing the first event", func() bool { _, n := recv.snapshot(); return n > 0 })
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		if err := d1.Close(cctx); err == nil {
			t.Fatal("Close with the receiver down: want an error naming the events left")
		}
		cancel()
		if seen, _ := recv.snapshot(); len(seen) != 0 {
			t.Fatalf("receiver accepted %v while down", seen)
		}
		left, err := st.Pending(ctx, "node-a")
		if err != nil || len(left) != 3 {
			t.Fatalf("pending after close: %d events, %v; want the 3 unsent", len(left), err)
		}

		recv.setUp(true)
		d2 := open()
		if n, err := d2.Resume(ctx); err != nil || n != 3 {
			t.Fatalf("Resume: %d, %v; want 3", n, err)
		}
		waitFor(t, "the three events", func() bool { s, _ := recv.snapshot(); return len(s) == 3 })
		waitFor(t, "the outbox emptied", func() bool { p, _ := st.Pending(ctx, "node-a"); return len(p) == 0 })
		if err := d2.Close(ctx); err != nil {
			t.Fatal(err)
		}
		d3 := open()
		if n, err := d3.Resume(ctx); err != nil || n != 0 {
			t.Fatalf("third run resumed %d (%v); want 0", n, err)
		}
		if err := d3.Close(ctx); err != nil {
			t.Fatal(err)
		}
		seen, _ := recv.snapshot()
		got := map[string]bool{}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("event %s accepted %d times", id, n)
			}
			got[recv.bodies[id].Recipient] = true
		}
		for _, r := range rcpts {
			if !got[r] {
				t.Errorf("no event for %s; got %v", r, got)
			}
		}
		if p, _ := st.Pending(ctx, "node-b"); len(p) != 1 {
			t.Errorf("node-b's event: %d pending, want it left for node-b", len(p))
		}
	})
}
