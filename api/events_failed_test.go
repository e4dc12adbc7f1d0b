package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/events"
)

// A tenant's receiver (https on loopback) fails: the event is listed as
// failed with the receiver's answer; another tenant's admin gets 404 for
// the list and the redelivery; once the receiver recovers, a redelivery
// sends it with the same id and a signature that verifies with the
// secret the API showed, and the list is empty. Bad bodies are 400s.
func TestFailedEventsAPI(t *testing.T) {
	e := newEnv(t)
	var acme, other client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "acme"}, &acme)
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "other"}, &other)
	acmeTok, otherTok := e.tenantToken(acme.ID), e.tenantToken(other.ID)
	base := fmt.Sprintf("/api/v1/tenants/%d/event-webhook", acme.ID)

	var mu sync.Mutex
	up, got, badSig := false, map[string]int{}, 0
	var secret string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := alert.VerifySignature(secret, r.Header.Get(alert.SignatureHeader), body, time.Now(), time.Minute); err != nil {
			badSig++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if !up {
			http.Error(w, "receiver down", http.StatusServiceUnavailable)
			return
		}
		got[r.Header.Get(events.IDHeader)]++
	}))
	defer srv.Close()
	e.hookClient.Store(srv.Client())

	var wh client.EventWebhook
	e.want(200, acmeTok, "PUT", base, client.EventWebhookRequest{URL: srv.URL + "/hook"}, &wh)
	mu.Lock()
	secret = wh.Secret
	mu.Unlock()
	if !e.events.Emit(context.Background(), events.Event{Kind: events.Bounced, TenantID: acme.ID, Recipient: "gone@x.test", Code: "5.1.1"}) {
		t.Fatal("event not queued")
	}
	var list client.FailedEvents
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.want(200, acmeTok, "GET", base+"/failed", nil, &list)
		if list.Total == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed event listed: %+v", list)
		}
		time.Sleep(10 * time.Millisecond)
	}
	f := list.Events[0]
	if f.Recipient != "gone@x.test" || f.Kind != "bounced" || !strings.Contains(f.Error, "503") || f.Sends != 1 {
		t.Fatalf("failed event %+v", f)
	}

	// Another tenant's admin: neither the list nor a redelivery.
	if code, b := e.call(otherTok, "GET", base+"/failed", nil, nil); code != 404 {
		t.Fatalf("other's token lists acme's failed events: %d %s", code, b)
	}
	if code, b := e.call(otherTok, "POST", base+"/failed/redeliver", client.RedeliverRequest{IDs: []string{f.ID}}, nil); code != 404 {
		t.Fatalf("other's token redelivers acme's event: %d %s", code, b)
	}
	otherBase := fmt.Sprintf("/api/v1/tenants/%d/event-webhook", other.ID)
	if code, b := e.call(otherTok, "POST", otherBase+"/failed/redeliver", client.RedeliverRequest{IDs: []string{f.ID}}, nil); code != 404 {
		t.Fatalf("acme's event id through other's own tenant: %d %s", code, b)
	}

	// Bad input.
	for _, c := range []struct{ path, method, body, want string }{
		{base + "/failed?limit=0", "GET", "", "limit"},
		{base + "/failed?limit=x", "GET", "", "limit"},
		{base + "/failed/redeliver", "POST", `{"ids":"abc"}`, ""},
		{base + "/failed/redeliver", "POST", `{"idz":[]}`, ""},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		code, b := e.call(acmeTok, c.method, c.path, body, nil)
		if code != 400 || !strings.Contains(b, c.want) {
			t.Errorf("%s %s %s: %d %s, want 400", c.method, c.path, c.body, code, b)
		}
	}
	if code, b := e.call(acmeTok, "POST", base+"/failed/redeliver", client.RedeliverRequest{IDs: []string{"nope"}}, nil); code != 404 || !strings.Contains(b, "nope") {
		t.Fatalf("unknown id: %d %s, want 404 naming it", code, b)
	}

	mu.Lock()
	up = true
	mu.Unlock()
	var red client.Redelivery
	e.want(202, acmeTok, "POST", base+"/failed/redeliver", client.RedeliverRequest{IDs: []string{f.ID}}, &red)
	if red.Redelivered != 1 {
		t.Fatalf("redelivery: %+v", red)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := got[f.ID]
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the redelivered event did not arrive")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.want(200, acmeTok, "GET", base+"/failed", nil, &list)
	if list.Total != 0 || len(list.Events) != 0 {
		t.Fatalf("after the redelivery: %+v", list)
	}
	mu.Lock()
	defer mu.Unlock()
	if badSig != 0 {
		t.Fatalf("%d requests did not verify with the secret the API showed", badSig)
	}
}
