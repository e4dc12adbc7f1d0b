package events

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/nexthop"
)

const secret = "a secret of sixteen+ characters"

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder is a receiver that keeps each request's event and id header,
// answering with answer(n) for the n-th request (0-based).
type recorder struct {
	mu     sync.Mutex
	got    []Event
	ids    []string
	answer func(n int) int
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := alert.VerifySignature(secret, req.Header.Get(alert.SignatureHeader), body, time.Now(), time.Minute); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var e Event
	json.Unmarshal(body, &e)
	r.mu.Lock()
	n := len(r.ids)
	r.ids = append(r.ids, req.Header.Get("Tollgate-Event-Id"))
	status := http.StatusOK
	if r.answer != nil {
		status = r.answer(n)
	}
	if status == http.StatusOK {
		r.got = append(r.got, e)
	}
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *recorder) events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.got...)
}

func hookFor(t *testing.T, url string) *alert.Webhook {
	wh, err := alert.NewWebhook(url, secret)
	if err != nil {
		t.Fatal(err)
	}
	wh.Backoff, wh.IDHeader = 10*time.Millisecond, "Tollgate-Event-Id"
	wh.Client = GuardedClient(nexthop.Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	return wh
}

// A 503 is retried with the same event id; the event arrives once.
func TestRetriedWithSameID(t *testing.T) {
	rec := &recorder{answer: func(n int) int {
		if n == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	wh := hookFor(t, srv.URL)
	d, err := NewDispatcher(Config{Hook: func(context.Context, int64) *alert.Webhook { return wh }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	d.Emit(context.Background(), Event{Kind: Delivered, TenantID: 7, Recipient: "a@example.net"})
	waitFor(t, "the event", func() bool { return len(rec.events()) == 1 })
	rec.mu.Lock()
	ids := rec.ids
	rec.mu.Unlock()
	if len(ids) != 2 || ids[0] != ids[1] || ids[0] == "" {
		t.Fatalf("attempts' ids %q: want two attempts with the same id", ids)
	}
	// The receiver answers before the dispatcher counts the send: wait for
	// the count rather than reading it at once.
	waitFor(t, "the send counted", func() bool { return d.Stats().Sent == 1 })
	if s := d.Stats(); s.Sent != 1 || s.Failed != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// While a tenant's receiver is stuck, its queue keeps the newest events
// and drops the oldest, counted; another tenant's events are not held up.
func TestQueueDropsOldest(t *testing.T) {
	release := make(chan struct{})
	var inFlight sync.Once
	started := make(chan struct{})
	rec := &recorder{}
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Do(func() { close(started) })
		<-release
		rec.ServeHTTP(w, r)
	}))
	defer stuck.Close()
	other := &recorder{}
	otherSrv := httptest.NewServer(other)
	defer otherSrv.Close()
	hooks := map[int64]*alert.Webhook{1: hookFor(t, stuck.URL), 2: hookFor(t, otherSrv.URL)}
	d, err := NewDispatcher(Config{QueueSize: 2, Hook: func(_ context.Context, id int64) *alert.Webhook { return hooks[id] }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d.Emit(ctx, Event{Kind: Delivered, TenantID: 1, Recipient: "r0@x.test"})
	<-started // r0 is being sent; the next ones queue
	for _, r := range []string{"r1", "r2", "r3", "r4"} {
		d.Emit(ctx, Event{Kind: Delivered, TenantID: 1, Recipient: r + "@x.test"})
	}
	if !d.Emit(ctx, Event{Kind: Bounced, TenantID: 2, Recipient: "b@y.test"}) {
		t.Fatal("tenant 2's event not queued")
	}
	waitFor(t, "tenant 2's event while tenant 1 is stuck", func() bool { return len(other.events()) == 1 })
	if d.Emit(ctx, Event{Kind: Delivered, TenantID: 3, Recipient: "c@z.test"}) {
		t.Fatal("queued an event for a tenant without a webhook")
	}
	if s := d.Stats(); s.Dropped != 2 || s.Queued != 2 {
		t.Fatalf("stats %+v: want 2 dropped, 2 queued", s)
	}
	close(release)
	waitFor(t, "tenant 1's events", func() bool { return len(rec.events()) == 3 })
	var got []string
	for _, e := range rec.events() {
		got = append(got, strings.TrimSuffix(e.Recipient, "@x.test"))
		if e.TenantID != 1 {
			t.Errorf("tenant 1's receiver got %+v", e)
		}
	}
	if strings.Join(got, ",") != "r0,r3,r4" {
		t.Fatalf("received %v: want r0 then the two newest", got)
	}
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// A webhook may not reach an internal address unless it is allowed: not
// by a literal in the URL, and not by a name or redirect at dial time.
func TestGuard(t *testing.T) {
	none := nexthop.Guard{}
	for _, u := range []string{"http://127.0.0.1:8080/x", "https://10.1.2.3/x", "http://[::1]/x", "ftp://example.com/", "not a url"} {
		if err := CheckURL(u, none); err == nil {
			t.Errorf("CheckURL(%q) accepted", u)
		}
	}
	if err := CheckURL("https://hooks.example.com/tollgate", none); err != nil {
		t.Errorf("public URL: %v", err)
	}
	loop := nexthop.Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	if err := CheckURL("http://127.0.0.1:8080/x", loop); err != nil {
		t.Errorf("allowed loopback: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	named := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	if _, err := GuardedClient(none).Get(named); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("GET %s through the guard: %v, want a loopback refusal", named, err)
	}
	resp, err := GuardedClient(loop).Get(srv.URL)
	if err != nil {
		t.Fatalf("allowed: %v", err)
	}
	resp.Body.Close()
}
