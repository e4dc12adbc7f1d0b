package queue

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a Transport that records deliveries and answers as told.
type recorder struct {
	mu     sync.Mutex
	got    map[string]int    // queue id -> deliveries
	bodies map[string]string // queue id -> body delivered
	answer func(d *Delivery, rcpt string) Result
	block  chan struct{} // if not nil, Deliver waits on it
}

func newRecorder() *recorder { return &recorder{got: map[string]int{}, bodies: map[string]string{}} }

func (r *recorder) body(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[id]
}

func (r *recorder) Deliver(ctx context.Context, d *Delivery) []Result {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return nil
		}
	}
	b, _ := io.ReadAll(io.NewSectionReader(d.Body, 0, d.Size))
	r.mu.Lock()
	r.got[d.ID]++
	r.bodies[d.ID] = string(b)
	r.mu.Unlock()
	var out []Result
	for _, rc := range d.Rcpts {
		res := Result{Rcpt: rc, OK: true, Code: "2.0.0"}
		if r.answer != nil {
			res = r.answer(d, rc)
			res.Rcpt = rc
		}
		out = append(out, res)
	}
	return out
}

func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[id]
}

func openQueue(t testing.TB, dir string, tr Transport) *Queue {
	t.Helper()
	q, err := Open(context.Background(), Options{Dir: dir, RetrySchedule: []time.Duration{50 * time.Millisecond},
		MaxAge: time.Hour, Transport: tr, Workers: 4, ScanInterval: 20 * time.Millisecond, Hostname: "gw.test"})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func enqueue(t testing.TB, q *Queue, body string) *Message {
	t.Helper()
	w, err := q.Create()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	m, err := q.Commit(context.Background(), w, Envelope{From: "a@demo.test", Rcpts: []Recipient{{Addr: "x@example.net"}}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func spooled(t *testing.T, q *Queue) int {
	msgs, err := q.List(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

// A committed message survives a restart before delivery and is delivered
// once afterwards; bodies that never got a row are reclaimed.
func TestRecoveryAfterRestart(t *testing.T) {
	dir := t.TempDir()
	tr := newRecorder()
	q := openQueue(t, dir, tr) // not started: nothing is delivered yet
	m := enqueue(t, q, "Subject: kept\r\n\r\nbody\r\n")
	// A body still being written when the process died...
	w, _ := q.Create()
	w.Write([]byte("half a message"))
	w.bw.Flush()
	// ...and one that was renamed into msg/ but never committed.
	os.WriteFile(filepath.Join(dir, "msg", NewID(time.Now())), []byte("uncommitted"), 0o600)
	q.Close()

	q2 := openQueue(t, dir, tr)
	defer q2.Close()
	files, _ := os.ReadDir(filepath.Join(dir, "msg"))
	if len(files) != 1 || files[0].Name() != m.ID {
		t.Fatalf("msg/ after recovery holds %v, want only %s", files, m.ID)
	}
	if tmp, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(tmp) != 0 {
		t.Fatalf("tmp/ not emptied: %v", tmp)
	}
	q2.Start()
	waitUntil(t, "delivery after restart", func() bool { return tr.count(m.ID) == 1 })
	waitUntil(t, "empty spool", func() bool { return spooled(t, q2) == 0 })
	if n := tr.count(m.ID); n != 1 {
		t.Fatalf("delivered %d times", n)
	}
}

// A clean Close makes messages that waited for their first attempt due at
// once, so they do not wait for the retry interval after a restart.
func TestCloseMakesWaitingDue(t *testing.T) {
	dir := t.TempDir()
	tr := newRecorder()
	q, err := Open(context.Background(), Options{Dir: dir, RetrySchedule: []time.Duration{time.Hour},
		MaxAge: 2 * time.Hour, Transport: tr, Workers: 1, ScanInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m := enqueue(t, q, "x\r\n") // claimed at birth: next_attempt an hour away
	q.Close()
	q2, err := Open(context.Background(), Options{Dir: dir, RetrySchedule: []time.Duration{time.Hour},
		MaxAge: 2 * time.Hour, Transport: tr, Workers: 1, ScanInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer q2.Close()
	q2.Start()
	waitUntil(t, "prompt delivery after a clean restart", func() bool { return tr.count(m.ID) == 1 })
}

// Temporary failures are retried with next_attempt written first; the
// attempt count grows.
func TestRetryWritesNextAttemptFirst(t *testing.T) {
	tr := newRecorder()
	var calls atomic.Int32
	tr.answer = func(d *Delivery, rc string) Result {
		if calls.Add(1) < 3 {
			return Result{Code: "4.2.1", Detail: "busy", Remote: "mx"}
		}
		return Result{OK: true, Code: "2.0.0"}
	}
	q := openQueue(t, t.TempDir(), tr)
	defer q.Close()
	m := enqueue(t, q, "x\r\n")
	q.Start()
	waitUntil(t, "third attempt", func() bool { return tr.count(m.ID) == 3 })
	waitUntil(t, "empty spool", func() bool { return spooled(t, q) == 0 })
}

// Finished files are recycled rather than created anew, and a recycled file
// holds exactly the new message.
func TestSpoolFilesAreRecycled(t *testing.T) {
	tr := newRecorder()
	q := openQueue(t, t.TempDir(), tr)
	defer q.Close()
	q.Start()
	first := enqueue(t, q, "Subject: a long first message\r\n\r\n"+fmt.Sprintf("%01000d", 0)+"\r\n")
	// Delivered, and its file back in the free pool (the release follows
	// the row's removal).
	waitUntil(t, "first delivered and its file released", func() bool {
		q.spool.mu.Lock()
		defer q.spool.mu.Unlock()
		return len(q.spool.freeNames) == 1
	})
	w, err := q.Create()
	if err != nil {
		t.Fatal(err)
	}
	if !w.recycled {
		t.Fatal("the second message did not reuse the first one's file")
	}
	w.Write([]byte("short\r\n"))
	m, err := q.Commit(context.Background(), w, Envelope{From: "a@demo.test", Rcpts: []Recipient{{Addr: "x@example.net"}}})
	if err != nil {
		t.Fatal(err)
	}
	// The file is longer than the new message (it is not truncated), but
	// delivery sees exactly the new message.
	if m.Size != 7 {
		t.Fatalf("size %d, want 7", m.Size)
	}
	waitUntil(t, "second delivered", func() bool { return tr.body(m.ID) != "" })
	if got := tr.body(m.ID); got != "short\r\n" {
		t.Fatalf("delivered %q, want only the new body", got)
	}
	_ = first
}

// BenchmarkCommit measures Commit (fsync, rename, directory fsync, row) with
// 10 concurrent writers, with and without group commit.
func BenchmarkCommit(b *testing.B) {
	for _, batch := range []int{1, maxBatch} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			tr := newRecorder()
			tr.block = make(chan struct{}) // keep delivery out of the measurement
			q, err := Open(context.Background(), Options{Dir: b.TempDir(), RetrySchedule: []time.Duration{time.Hour},
				MaxAge: time.Hour, Transport: tr, Workers: 1, BatchLimit: batch})
			if err != nil {
				b.Fatal(err)
			}
			defer q.Close()
			body := make([]byte, 4096)
			b.SetParallelism(5) // 10 writers on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w, err := q.Create()
					if err != nil {
						b.Error(err)
						return
					}
					w.Write(body)
					if _, err := q.Commit(context.Background(), w, Envelope{From: "a@b.c", Rcpts: []Recipient{{Addr: "x@y.z"}}}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
