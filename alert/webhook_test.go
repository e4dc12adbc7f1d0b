package alert

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

const secret = "s3cret-for-tests-0123456789"

// receiver is a webhook endpoint on loopback that verifies every request's
// signature as a real receiver would and answers with the next status in
// statuses (200 once they run out).
type receiver struct {
	srv      *httptest.Server
	statuses []int
	calls    atomic.Int32
	got      chan Alert
	bad      chan error
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses, got: make(chan Alert, 10), bad: make(chan error, 10)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		i := int(r.calls.Add(1)) - 1
		body, err := io.ReadAll(req.Body)
		if err == nil {
			err = VerifySignature(secret, req.Header.Get(SignatureHeader), body, time.Now(), 5*time.Minute)
		}
		if err == nil && (req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" || req.Header.Get("Tollgate-Event") == "") {
			err = errors.New("bad request line or headers")
		}
		if err != nil {
			r.bad <- err
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if i < len(r.statuses) && r.statuses[i] != 200 {
			http.Error(w, "try later", r.statuses[i])
			return
		}
		var a Alert
		if err := json.Unmarshal(body, &a); err != nil {
			r.bad <- err
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.got <- a
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func testWebhook(t *testing.T, url string) *Webhook {
	t.Helper()
	w, err := NewWebhook(url, secret)
	if err != nil {
		t.Fatal(err)
	}
	w.Backoff, w.Timeout = time.Millisecond, 2*time.Second
	return w
}

// A 500 is retried; the retry is signed and accepted; the payload is the
// alert with its figures.
func TestWebhookRetriesAfter500(t *testing.T) {
	r := newReceiver(t, 500, 503)
	w := testWebhook(t, r.srv.URL)
	a := Alert{ID: "abc", Kind: TenantBlocked, TenantID: 7, Tenant: "acme", Subject: "acme", Text: "blocked",
		Code: "5.7.705", Figures: []policy.Figure{{Name: "spam", Value: "120"}}, Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	if err := w.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if n := r.calls.Load(); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
	select {
	case err := <-r.bad:
		t.Fatal(err)
	case got := <-r.got:
		if got.ID != "abc" || got.Kind != TenantBlocked || got.TenantID != 7 || len(got.Figures) != 1 || got.Figures[0].Value != "120" || !got.Time.Equal(a.Time) {
			t.Errorf("payload: %+v", got)
		}
	}
}

// A 4xx other than 429 is final; attempts run out on persistent 500s.
func TestWebhookGivesUp(t *testing.T) {
	r := newReceiver(t, 400)
	if err := testWebhook(t, r.srv.URL).Send(context.Background(), Alert{Kind: LimitExceeded}); err == nil || r.calls.Load() != 1 {
		t.Errorf("400: %v after %d calls", err, r.calls.Load())
	}
	r = newReceiver(t, 500, 500, 500, 500, 500, 500)
	w := testWebhook(t, r.srv.URL)
	w.Attempts = 3
	if err := w.Send(context.Background(), Alert{Kind: LimitExceeded}); err == nil || !strings.Contains(err.Error(), "3 attempts") || r.calls.Load() != 3 {
		t.Errorf("500s: %v after %d calls", err, r.calls.Load())
	}
}

// A receiver that never answers costs one Timeout per attempt, then the
// attempt is retried.
func TestWebhookTimeout(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.ReadAll(req.Body) // the server notices a closed connection only once the body is read
		if calls.Add(1) == 1 {
			<-req.Context().Done() // hang until the client gives up
			return
		}
	}))
	t.Cleanup(srv.Close)
	w := testWebhook(t, srv.URL)
	w.Timeout = 200 * time.Millisecond
	if err := w.Send(context.Background(), Alert{Kind: ConnectorCreated}); err != nil || calls.Load() != 2 {
		t.Errorf("%v after %d calls", err, calls.Load())
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"kind":"tenant-blocked"}`)
	now := time.Unix(1_800_000_000, 0)
	good := Sign(secret, body, now)
	if !strings.HasPrefix(good, "t=1800000000,v1=") || len(good) != len("t=1800000000,v1=")+64 {
		t.Fatalf("header %q", good)
	}
	for name, c := range map[string]struct {
		header string
		body   []byte
		at     time.Time
		ok     bool
	}{
		"good":             {good, body, now, true},
		"skew within":      {good, body, now.Add(5 * time.Minute), true},
		"too old":          {good, body, now.Add(5*time.Minute + time.Second), false},
		"from the future":  {good, body, now.Add(-5*time.Minute - time.Second), false},
		"body changed":     {good, []byte(`{"kind":"tenant-blocked" }`), now, false},
		"wrong secret":     {Sign("another-secret-0123456789", body, now), body, now, false},
		"rotated secrets":  {good + ",v1=" + strings.Repeat("0", 64), body, now, true},
		"timestamp edited": {strings.Replace(good, "t=1800000000", "t=1800000001", 1), body, now, false},
		"no signature":     {"t=1800000000", body, now, false},
		"garbage":          {"hello", body, now, false},
		"empty":            {"", body, now, false},
	} {
		err := VerifySignature(secret, c.header, c.body, c.at, 5*time.Minute)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrSignature)) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestNewWebhookErrors(t *testing.T) {
	for _, c := range [][2]string{{"ftp://x.example/", secret}, {"not a url", secret}, {"https://x.example/hook", "short"}} {
		if _, err := NewWebhook(c[0], c[1]); err == nil {
			t.Errorf("NewWebhook(%q, %q) accepted", c[0], c[1])
		}
	}
}
