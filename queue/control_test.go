package queue

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tollgate-mail/tollgate/policy"
)

// A held message is not retried, stays held across a restart, and is
// delivered once released and retried; a bounce sends the sender a DSN, a
// drop removes the message without one, a move changes the pool, and
// another tenant's caller finds nothing.
func TestOperatorControls(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var accept atomic.Bool
	var mu sync.Mutex
	var dsnTo []string
	rec := newRecorder()
	rec.answer = func(d *Delivery, rcpt string) Result {
		if d.Kind == "dsn" {
			mu.Lock()
			dsnTo = append(dsnTo, rcpt)
			mu.Unlock()
			return Result{OK: true, Code: "2.0.0"}
		}
		if accept.Load() {
			return Result{OK: true, Code: "2.0.0"}
		}
		return Result{Code: "4.3.0", Detail: "451 4.3.0 try later", Remote: "127.0.0.1"}
	}
	q := openQueue(t, dir, rec)
	q.Start()
	held := enqueue(t, q, "Subject: held\r\n\r\nbody\r\n")
	waitUntil(t, "a first deferral", func() bool { return rec.count(held.ID) >= 1 })
	var err error
	waitUntil(t, "the hold", func() bool {
		_, err = q.Hold(ctx, held.ID, 0, "looks odd")
		return !errors.Is(err, ErrBusy)
	})
	if err != nil {
		t.Fatal(err)
	}
	tries := rec.count(held.ID)
	other := enqueue(t, q, "Subject: other\r\n\r\nbody\r\n")
	waitUntil(t, "three retries of another message", func() bool { return rec.count(other.ID) >= 3 })
	if n := rec.count(held.ID); n != tries {
		t.Fatalf("held message tried %d times after the hold, want %d", n, tries)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}

	q = openQueue(t, dir, rec)
	defer q.Close()
	yes := true
	list, err := q.Select(ctx, Filter{Held: &yes})
	if err != nil || len(list) != 1 || list[0].ID != held.ID || list[0].HeldReason != "looks odd" {
		t.Fatalf("held after restart = %v, %v; want %s", list, err, held.ID)
	}
	if list, _ := q.Select(ctx, Filter{RcptDomain: "example.net"}); len(list) != 2 {
		t.Fatalf("filter by recipient domain found %d, want 2", len(list))
	}
	if list, _ := q.Select(ctx, Filter{RcptDomain: "example.org"}); len(list) != 0 {
		t.Fatalf("filter by another domain found %d, want 0", len(list))
	}
	if _, err := q.Hold(ctx, other.ID, 42, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another tenant's hold: %v, want ErrNotFound", err)
	}
	if _, err := q.RetryNow(ctx, held.ID, 0); !errors.Is(err, ErrHeld) {
		t.Fatalf("retry of a held message: %v, want ErrHeld", err)
	}
	if m, err := q.Move(ctx, other.ID, 0, policy.PoolHighRisk); err != nil || m.Pool != policy.PoolHighRisk {
		t.Fatalf("move: %v", err)
	}
	if list, _ := q.Select(ctx, Filter{Pool: policy.PoolHighRisk}); len(list) != 1 || list[0].ID != other.ID {
		t.Fatalf("high-risk pool holds %v", list)
	}
	if _, err := q.Drop(ctx, other.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Get(ctx, other.ID, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("dropped message still there: %v", err)
	}
	accept.Store(true)
	q.Start()
	if _, err := q.Release(ctx, held.ID, 0); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "delivery after release", func() bool { _, err := q.Get(ctx, held.ID, 0); return errors.Is(err, ErrNotFound) })

	accept.Store(false)
	b := enqueue(t, q, "Subject: bounce me\r\n\r\nbody\r\n")
	waitUntil(t, "the bounce", func() bool {
		_, err = q.Bounce(ctx, b.ID, 0, "spam run")
		return !errors.Is(err, ErrBusy)
	})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the DSN to the sender", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(dsnTo) == 1 && dsnTo[0] == "a@demo.test"
	})
}

// A message in the middle of an attempt cannot be dropped or bounced: the
// action answers ErrBusy and the message is untouched, then goes through
// once the attempt is over.
func TestControlWaitsForAttempt(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder()
	rec.block = make(chan struct{})
	rec.answer = func(d *Delivery, rcpt string) Result {
		return Result{Code: "4.3.0", Detail: "451 4.3.0 try later", Remote: "127.0.0.1"}
	}
	q := openQueue(t, t.TempDir(), rec)
	defer q.Close()
	q.Start()
	m := enqueue(t, q, "Subject: busy\r\n\r\nbody\r\n")
	for _, act := range []func() (*Message, error){
		func() (*Message, error) { return q.Drop(ctx, m.ID, 0) },
		func() (*Message, error) { return q.Bounce(ctx, m.ID, 0, "x") },
		func() (*Message, error) { return q.Hold(ctx, m.ID, 0, "x") },
	} {
		if _, err := act(); !errors.Is(err, ErrBusy) {
			t.Fatalf("action during an attempt: %v, want ErrBusy", err)
		}
	}
	if _, err := q.Get(ctx, m.ID, 0); err != nil {
		t.Fatalf("message touched during its attempt: %v", err)
	}
	close(rec.block)
	waitUntil(t, "the drop after the attempt", func() bool {
		_, err := q.Drop(ctx, m.ID, 0)
		return err == nil
	})
	if rec.count(m.ID) < 1 {
		t.Fatal("the attempt never happened")
	}
}

// Any sender or domain text is a filter value, never SQL: it finds the
// message only when it matches, and never fails.
func FuzzSelectFilter(f *testing.F) {
	for _, s := range []string{"example.net", "%", "_", `\`, "'; DROP TABLE messages; --", "@example.net", ""} {
		f.Add(s)
	}
	q := openQueue(f, f.TempDir(), newRecorder())
	defer q.Close()
	m := enqueue(f, q, "Subject: f\r\n\r\nbody\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := q.Select(context.Background(), Filter{RcptDomain: s})
		if err != nil {
			t.Fatal(err)
		}
		want := s == "" || strings.EqualFold(strings.TrimPrefix(s, "@"), "example.net")
		if (len(got) == 1) != want || (len(got) == 1 && got[0].ID != m.ID) {
			t.Fatalf("domain %q found %d", s, len(got))
		}
		if _, err := q.Select(context.Background(), Filter{Sender: s}); err != nil {
			t.Fatal(err)
		}
	})
}
