package alert

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// chanSink hands every alert it is sent to the test through got; if gate is
// set, each Send first reports on started and then waits for gate to close.
type chanSink struct {
	name    string
	got     chan Alert
	started chan struct{}
	gate    chan struct{}
}

func newChanSink(name string) *chanSink { return &chanSink{name: name, got: make(chan Alert, 100)} }

func (s *chanSink) Name() string { return s.name }

func (s *chanSink) Send(ctx context.Context, a Alert) error {
	if s.gate != nil {
		// Never block for good: a test that failed early leaves nobody
		// reading started, and its cleanup's Close must still return.
		select {
		case s.started <- struct{}{}:
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.got <- a
	return nil
}

// next waits for the sink's next alert, failing the test after a deadline.
func (s *chanSink) next(t *testing.T) Alert {
	t.Helper()
	select {
	case a := <-s.got:
		return a
	case <-time.After(10 * time.Second):
		t.Fatalf("sink %s: no alert within 10s", s.name)
		return Alert{}
	}
}

// none checks that nothing more arrives once the notifier has drained.
func (s *chanSink) none(t *testing.T) {
	t.Helper()
	select {
	case a := <-s.got:
		t.Fatalf("sink %s: unexpected alert %+v", s.name, a)
	default:
	}
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newNotifier(t *testing.T, cfg Config, sinks ...Sink) *Notifier {
	t.Helper()
	n, err := NewNotifier(cfg, sinks...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	return n
}

func restricted(user string) Alert {
	return Alert{Kind: UserRestricted, TenantID: 7, Tenant: "acme", Subject: user, Text: user + " was restricted", Code: "5.1.8"}
}

// A flood of the same alert is one alert a window; the next one after the
// window says how many were suppressed. Other subjects, kinds and tenants
// are not held back.
func TestDedupe(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	sink := newChanSink("test")
	n := newNotifier(t, Config{DedupeWindow: time.Hour, Workers: 1, Clock: clk.Now}, sink)

	if !n.Notify(restricted("alice@acme.example")) {
		t.Fatal("first alert not queued")
	}
	for range 50 {
		if n.Notify(restricted("alice@acme.example")) {
			t.Fatal("a repeat within the window was queued")
		}
	}
	other := restricted("alice@acme.example")
	other.TenantID = 8
	for _, a := range []Alert{restricted("bob@acme.example"), {Kind: LimitExceeded, TenantID: 7, Subject: "alice@acme.example"}, other} {
		if !n.Notify(a) {
			t.Errorf("distinct alert %+v was held back", a)
		}
	}
	first := sink.next(t)
	if first.Subject != "alice@acme.example" || first.Repeats != 0 || first.ID == "" || !first.Time.Equal(clk.Now()) {
		t.Errorf("first alert: %+v", first)
	}
	for range 3 {
		sink.next(t)
	}

	clk.Add(time.Hour - time.Nanosecond)
	if n.Notify(restricted("alice@acme.example")) {
		t.Fatal("queued a nanosecond before the window ended")
	}
	clk.Add(time.Nanosecond)
	if !n.Notify(restricted("alice@acme.example")) {
		t.Fatal("not queued once the window ended")
	}
	if a := sink.next(t); a.Repeats != 51 || a.ID == first.ID {
		t.Errorf("after the window: repeats %d (want 51), id %s", a.Repeats, a.ID)
	}
	// Repeats older than two windows are forgotten, not carried forever.
	n.Notify(restricted("alice@acme.example"))
	clk.Add(2 * time.Hour)
	if !n.Notify(restricted("alice@acme.example")) {
		t.Fatal("not queued two windows later")
	}
	if a := sink.next(t); a.Repeats != 0 {
		t.Errorf("two windows later: repeats %d, want 0", a.Repeats)
	}
	// The sink sees an alert just before its worker counts it as sent, so
	// wait (with a deadline) for the count of the last one.
	deadline := time.Now().Add(10 * time.Second)
	s := n.Stats()
	for s.Sinks["test"].Sent < 6 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		s = n.Stats()
	}
	if s.Deduplicated != 52 || s.Sinks["test"].Sent != 6 {
		t.Errorf("stats: %+v", s)
	}
}

// Notify never waits: with the one worker busy and the queue full, alerts
// are dropped and counted, and a dropped alert does not start a dedupe
// window. Close then delivers what was queued.
func TestFullQueueDropsWithoutBlocking(t *testing.T) {
	sink := newChanSink("slow")
	sink.started, sink.gate = make(chan struct{}, 1), make(chan struct{})
	fast := newChanSink("fast")
	n := newNotifier(t, Config{QueueSize: 2, Workers: 1}, sink, fast)
	// Registered after newNotifier's Close, so it runs first: a failure
	// below must not leave the slow worker stuck at the gate.
	var openGate sync.Once
	t.Cleanup(func() { openGate.Do(func() { close(sink.gate) }) })

	n.Notify(restricted("u0@acme.example"))
	<-sink.started // the worker holds u0; the queue is empty again
	for i := 1; i <= 10; i++ {
		n.Notify(restricted(fmt.Sprintf("u%d@acme.example", i)))
	}
	s := n.Stats()
	if st := s.Sinks["slow"]; st.Dropped != 8 || st.Queued != 2 {
		t.Fatalf("slow sink: %+v, want 8 dropped and 2 queued", st)
	}
	// The fast sink has its own queue: the slow one does not hold it back.
	// (Two at least: its worker may not have taken u0 before u1..u10 came,
	// and then its queue of two held u0 and u1.)
	for range 2 {
		fast.next(t)
	}

	openGate.Do(func() { close(sink.gate) })
	go func() {
		for range sink.started {
		}
	}()
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(sink.started)
	got := map[string]bool{}
	for range 3 {
		got[sink.next(t).Subject] = true
	}
	sink.none(t)
	if !got["u0@acme.example"] || !got["u1@acme.example"] || !got["u2@acme.example"] {
		t.Errorf("delivered after close: %v", got)
	}
	if n.Notify(restricted("late@acme.example")) {
		t.Error("a closed notifier queued an alert")
	}
}

// A dropped alert leaves no dedupe window behind: the next one gets through.
func TestDroppedAlertDoesNotSuppress(t *testing.T) {
	sink := newChanSink("slow")
	sink.started, sink.gate = make(chan struct{}, 10), make(chan struct{})
	n := newNotifier(t, Config{QueueSize: 1, Workers: 1}, sink)
	n.Notify(restricted("a@acme.example"))
	<-sink.started
	n.Notify(restricted("b@acme.example")) // queued
	if n.Notify(restricted("c@acme.example")) {
		t.Fatal("queue of one took a second alert")
	}
	close(sink.gate)
	sink.next(t)
	sink.next(t)
	// The queue has room again; c was dropped, so it is not a repeat.
	if !n.Notify(restricted("c@acme.example")) {
		t.Error("the dropped alert's subject is being suppressed")
	}
	if a := sink.next(t); a.Subject != "c@acme.example" {
		t.Errorf("got %+v", a)
	}
}

// Close gives up when its context ends, cancelling the send in progress.
func TestCloseGivesUp(t *testing.T) {
	sink := newChanSink("stuck")
	sink.started, sink.gate = make(chan struct{}, 1), make(chan struct{}) // never opened
	n, err := NewNotifier(Config{Workers: 1}, sink)
	if err != nil {
		t.Fatal(err)
	}
	n.Notify(restricted("a@acme.example"))
	n.Notify(restricted("b@acme.example"))
	<-sink.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Close(ctx); err == nil {
		t.Fatal("close with a cancelled context waited for a stuck sink")
	}
}

func TestNewNotifierErrors(t *testing.T) {
	if _, err := NewNotifier(Config{}); err == nil {
		t.Error("no sinks accepted")
	}
}

// Alerts with a ref are de-duplicated per event: a tenant blocked twice
// within the window raises two alerts, a repeat of the same block one.
func TestDedupeByRef(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	sink := newChanSink("test")
	n := newNotifier(t, Config{DedupeWindow: time.Hour, Workers: 1, Clock: clk.Now}, sink)
	block := func(ref string) Alert {
		return Alert{Kind: TenantBlocked, TenantID: 7, Tenant: "acme", Subject: "acme", Ref: ref, Code: "5.7.705"}
	}
	if !n.Notify(block("block:1")) {
		t.Fatal("first block alert not queued")
	}
	if n.Notify(block("block:1")) {
		t.Fatal("a repeat of the same block was queued")
	}
	clk.Add(time.Minute)
	if !n.Notify(block("block:2")) {
		t.Fatal("the second block's alert was swallowed by the first's")
	}
	if a, b := sink.next(t), sink.next(t); a.Ref != "block:1" || b.Ref != "block:2" {
		t.Fatalf("alerts: %+v, %+v", a, b)
	}
}
