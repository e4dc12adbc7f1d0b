package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/queue"
)

// The operator's queue page lists the live queue with its filters and acts
// on a message through a CSRF-protected form: hold, then drop; a tenant
// admin does not get the page, and a form without the token does nothing.
func TestConsoleQueue(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1") // no DNS: delivery defers
	f := newFixture(t, g)
	w, err := g.Queue.Create()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: q\r\n\r\nbody\r\n"))
	m, err := g.Queue.Commit(context.Background(), w, queue.Envelope{From: "news@alpha.test",
		Attribution: policy.Attribution{TenantID: f.alpha.ID, Tenant: "alpha"}, Rcpts: []queue.Recipient{{Addr: "x@example.net"}}})
	if err != nil {
		t.Fatal(err)
	}
	ops := newClient(t, baseURL(g))
	ops.signInHTTP(f.operator)
	_, body := ops.get("/console/queue?domain=example.net")
	if !strings.Contains(body, m.ID) || !strings.Contains(body, "news@alpha.test") {
		t.Fatalf("queue page:\n%.3000s", body)
	}
	if _, body := ops.get("/console/queue?domain=example.org"); strings.Contains(body, m.ID) {
		t.Fatal("the domain filter kept another domain's message")
	}
	csrf := csrfOf(t, body)
	if resp, _ := ops.post("/console/queue/"+m.ID+"/hold", url.Values{"reason": {"odd"}}, ops.base); resp.StatusCode == http.StatusSeeOther {
		if got, _ := g.Queue.Get(context.Background(), m.ID, 0); got.Held {
			t.Fatal("held without the CSRF token")
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ops.post("/console/queue/"+m.ID+"/hold", url.Values{"csrf": {csrf}, "reason": {"odd"}}, ops.base)
		if got, err := g.Queue.Get(context.Background(), m.ID, 0); err == nil && got.Held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not held") // busy in an attempt all along
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, body := ops.get("/console/queue?held=true"); !strings.Contains(body, m.ID) || !strings.Contains(body, "odd") {
		t.Fatalf("held message not shown as held:\n%.3000s", body)
	}
	beta := newClient(t, baseURL(g))
	beta.signInHTTP(f.betaAdmin)
	if resp, body := beta.get("/console/queue"); resp.StatusCode == http.StatusOK && strings.Contains(body, m.ID) {
		t.Fatal("a tenant admin sees the operator's queue page")
	}
	if resp, _ := ops.post("/console/queue/"+m.ID+"/drop", url.Values{"csrf": {csrf}}, ops.base); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("drop: %d", resp.StatusCode)
	}
	if _, err := g.Queue.Get(context.Background(), m.ID, 0); err == nil {
		t.Fatal("still queued after the drop")
	}
	if _, body := ops.get("/console/queue"); !strings.Contains(body, "without a DSN") {
		t.Fatalf("no confirmation:\n%.3000s", body)
	}
}
