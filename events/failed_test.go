package events

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/nexthop"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

var testKey = bytes.Repeat([]byte{9}, 32)

// loopbackRules let a test set an http:// receiver on loopback.
func loopbackRules() StoreOptions {
	guard := nexthop.Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	return StoreOptions{Rules: URLRules{Guard: guard, Dev: true}, Client: GuardedClient(guard), Key: testKey}
}

// verifyingReceiver checks every request's signature with the secret it
// is given (the one the API showed), answering 503 while down.
type verifyingReceiver struct {
	mu     sync.Mutex
	secret string
	up     bool
	tries  int
	got    map[string]int // accepted, by event id
	badSig int
}

func (r *verifyingReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if err := alert.VerifySignature(r.secret, req.Header.Get(alert.SignatureHeader), body, time.Now(), time.Minute); err != nil {
		r.badSig++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if !r.up {
		http.Error(w, "receiver down", http.StatusServiceUnavailable)
		return
	}
	r.got[req.Header.Get(IDHeader)]++
}

func (r *verifyingReceiver) state() (tries, badSig int, got map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	got = map[string]int{}
	for k, v := range r.got {
		got[k] = v
	}
	return r.tries, r.badSig, got
}

// The signing secret is not in the database, neither when set nor after a
// rotation; a plain row left by the previous version is sealed when the
// store opens; and requests signed with the secrets read back verify
// with the secret the tenant was shown. Both stores.
func TestWebhookSecretSealedAtRest(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		st, err := Open(ctx, db, nil, loopbackRules())
		if err != nil {
			t.Fatal(err)
		}
		recv := &verifyingReceiver{up: true, got: map[string]int{}}
		srv := httptest.NewServer(recv)
		defer srv.Close()

		rowHas := func(tenant int64, secret string) bool {
			var url, plain, sealed string
			if err := db.Write.QueryRowContext(ctx, `SELECT url, secret, secret_sealed FROM event_webhooks WHERE tenant_id = $1`, tenant).Scan(&url, &plain, &sealed); err != nil {
				t.Fatal(err)
			}
			if sealed == "" {
				t.Errorf("tenant %d: secret_sealed empty", tenant)
			}
			return strings.Contains(url+plain+sealed, secret)
		}
		wh, err := st.SetWebhook(ctx, 7, "acme", srv.URL+"/hook", "admin@acme", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(wh.Secret) < 32 || rowHas(7, wh.Secret) {
			t.Fatalf("the row holds the secret %q (or none was made)", wh.Secret)
		}
		rot, err := st.RotateSecret(ctx, 7, "acme", "admin@acme", "")
		if err != nil || rot.Secret == wh.Secret || rowHas(7, rot.Secret) {
			t.Fatalf("rotate: %v, secret %q; the row must not hold it", err, rot.Secret)
		}
		got, err := st.Webhook(ctx, 7, "acme")
		if err != nil || got.Secret != rot.Secret {
			t.Fatalf("read back: %q, %v; want the rotated secret", got.Secret, err)
		}

		// A row as the version before sealing wrote it.
		plain := strings.Repeat("ab", 32)
		if _, err := db.Write.ExecContext(ctx, `INSERT INTO event_webhooks (tenant_id, url, secret, updated_by, updated_at) VALUES (8, $1, $2, 'old', 1)`,
			srv.URL+"/other", plain); err != nil {
			t.Fatal(err)
		}
		st2, err := Open(ctx, db, nil, loopbackRules())
		if err != nil {
			t.Fatal(err)
		}
		if rowHas(8, plain) {
			t.Fatal("a plain row is not sealed when the store opens")
		}
		if w, err := st2.Webhook(ctx, 8, "beta"); err != nil || w.Secret != plain {
			t.Fatalf("sealed old row reads back %q, %v; want the old secret", w.Secret, err)
		}
		// Another key does not open them: Open says which setting.
		other := loopbackRules()
		other.Key = bytes.Repeat([]byte{1}, 32)
		if _, err := Open(ctx, db, nil, other); err == nil || !strings.Contains(err.Error(), "TOLLGATE_DKIM_KEY") {
			t.Fatalf("open with another key: %v, want an error naming the key setting", err)
		}
		noKey := loopbackRules()
		noKey.Key = nil
		if _, err := Open(ctx, db, nil, noKey); err == nil || !strings.Contains(err.Error(), "key_file") {
			t.Fatalf("open without a key over stored webhooks: %v, want an error naming [dkim] key_file", err)
		}

		// Signed with what was read back from the sealed rows.
		for tenant, secret := range map[int64]string{7: rot.Secret, 8: plain} {
			recv.mu.Lock()
			recv.secret = secret
			recv.mu.Unlock()
			h := st2.Hook(ctx, tenant)
			if h == nil {
				t.Fatalf("tenant %d: no hook", tenant)
			}
			id := fmt.Sprintf("sig-%d", tenant)
			if err := h.Post(ctx, "delivered", id, []byte(`{"id":"`+id+`"}`)); err != nil {
				t.Fatalf("tenant %d: post: %v", tenant, err)
			}
			if _, bad, got := recv.state(); bad != 0 || got[id] != 1 {
				t.Fatalf("tenant %d: %d bad signatures, accepted %v", tenant, bad, got)
			}
		}
	})
}

// An event whose sends all fail is kept, listed as failed with the
// receiver's error, not resumed by a restart; once the receiver is back a
// redelivery sends it (same id, signature verifying) and empties the
// list; the failed count is in the metric; another tenant's id is not
// found; the per-tenant bound keeps the newest. Both stores.
func TestFailedEventsKeptAndRedelivered(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		opts := loopbackRules()
		opts.FailedPerTenant = 3
		st, err := Open(ctx, db, nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		recv := &verifyingReceiver{got: map[string]int{}}
		srv := httptest.NewServer(recv)
		defer srv.Close()
		set, err := st.SetWebhook(ctx, 7, "acme", srv.URL+"/hook", "admin@acme", "")
		if err != nil {
			t.Fatal(err)
		}
		recv.secret = set.Secret
		fast := func(ctx context.Context, id int64) *alert.Webhook {
			h := st.Hook(ctx, id)
			if h == nil {
				return nil
			}
			c := *h
			c.Attempts, c.Backoff = 2, 5*time.Millisecond
			return &c
		}
		d, err := NewDispatcher(Config{Hook: fast, Outbox: st, Node: "node-a"})
		if err != nil {
			t.Fatal(err)
		}
		st.Attach(d)
		failedBefore := counterValue(t, "failed")

		if !d.Emit(ctx, Event{Kind: Bounced, TenantID: 7, Recipient: "gone@x.test", Code: "5.1.1"}) {
			t.Fatal("not queued")
		}
		var failed []FailedEvent
		waitFor(t, "the event marked failed", func() bool {
			failed, _, err = st.Failed(ctx, 7, 10)
			return err == nil && len(failed) == 1
		})
		f := failed[0]
		if f.Recipient != "gone@x.test" || f.Sends != 1 || !strings.Contains(f.Error, "503") || f.FailedAt.IsZero() {
			t.Fatalf("failed event %+v, want the recipient, one send and the receiver's 503", f)
		}
		if tries, bad, _ := recv.state(); tries != 2 || bad != 0 {
			t.Fatalf("receiver saw %d tries (%d badly signed), want the 2 attempts", tries, bad)
		}
		waitFor(t, "tollgate_delivery_events_total{outcome=failed} to count it", func() bool { return counterValue(t, "failed")-failedBefore == 1 })
		if p, _ := st.Pending(ctx, "node-a"); len(p) != 0 {
			t.Fatalf("a failed event is pending (a restart would resend it): %+v", p)
		}
		if n, err := st.Redeliver(ctx, 8, "beta", []string{f.ID}, "admin@beta", ""); err == nil || n != 0 {
			t.Fatalf("another tenant redelivered acme's event: %d, %v", n, err)
		}

		recv.mu.Lock()
		recv.up = true
		recv.mu.Unlock()
		if n, err := st.Redeliver(ctx, 7, "acme", []string{f.ID}, "admin@acme", ""); err != nil || n != 1 {
			t.Fatalf("redeliver: %d, %v", n, err)
		}
		waitFor(t, "the redelivered event", func() bool { _, _, got := recv.state(); return got[f.ID] == 1 })
		waitFor(t, "the outbox emptied", func() bool {
			l, total, _ := st.Failed(ctx, 7, 10)
			p, _ := st.Pending(ctx, "node-a")
			return len(l) == 0 && total == 0 && len(p) == 0
		})
		if _, err := st.Redeliver(ctx, 7, "acme", []string{f.ID}, "admin@acme", ""); err == nil {
			t.Fatal("redelivering a delivered event again: want not found")
		}

		// The bound: five failures keep the newest three.
		recv.mu.Lock()
		recv.up = false
		recv.mu.Unlock()
		for i := range 5 {
			d.Emit(ctx, Event{Kind: Deferred, TenantID: 7, Recipient: fmt.Sprintf("r%d@x.test", i)})
		}
		waitFor(t, "five sends failed", func() bool { return d.Stats().Failed == 6 })
		l, total, err := st.Failed(ctx, 7, 10)
		if err != nil || total != 3 || len(l) != 3 || l[0].Recipient != "r4@x.test" || l[2].Recipient != "r2@x.test" {
			t.Fatalf("after 5 failures with a bound of 3: total %d, %+v, %v", total, l, err)
		}
		recv.mu.Lock()
		recv.up = true
		recv.mu.Unlock()
		if n, err := st.Redeliver(ctx, 7, "acme", nil, "admin@acme", ""); err != nil || n != 3 {
			t.Fatalf("redeliver all: %d, %v", n, err)
		}
		waitFor(t, "all three redelivered", func() bool { _, _, got := recv.state(); return len(got) == 4 })
		if err := d.Close(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func counterValue(t *testing.T, outcome string) float64 {
	t.Helper()
	var m dto.Metric
	if err := metricEvents.WithLabelValues(outcome).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
