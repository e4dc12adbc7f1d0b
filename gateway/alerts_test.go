package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
)

// Alerts reach the tenant's admins and the operators by mail, through
// Tollgate's own queue, and a signed webhook: a connector created over the
// API and a tenant blocked by its spam each raise one.
func TestAlertsReachAdmins(t *testing.T) {
	const secret = "a webhook secret of some length"
	var mu sync.Mutex
	var hooks []alert.Alert
	wh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := alert.VerifySignature(secret, r.Header.Get("Tollgate-Signature"), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("webhook signature: %v", err)
			http.Error(w, "bad signature", 400)
			return
		}
		var a alert.Alert
		if err := json.Unmarshal(body, &a); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		mu.Lock()
		hooks = append(hooks, a)
		mu.Unlock()
	}))
	defer wh.Close()

	sink := startSink(t, devsink.Hooks{})
	cfg := protectConfig(t, sink.Addr())
	cfg.Alerts.OperatorEmails = []string{"noc@operator.test"}
	cfg.Alerts.WebhookURL, cfg.Alerts.WebhookSecret = wh.URL, secret
	g := startWith(t, cfg, false, gateway.Options{Classifier: subjectClassifier})
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "")
	if _, err := g.Directory.CreateAdmin(context.Background(), directory.By{}, acme.ID, "boss@acme.test", "a long admin password", directory.TenantAdmin); err != nil {
		t.Fatal(err)
	}
	if code := apiCall(t, g, g.AdminToken, "POST", fmt.Sprintf("/api/v1/tenants/%d/connectors", acme.ID),
		map[string]any{"name": "sneaky", "ip_ranges": []string{"127.0.0.7/32"}}, nil); code != 201 {
		t.Fatalf("create connector: %d", code)
	}
	for range 4 {
		if err := relayFrom(t, g, "127.0.0.7", "x@acme.test", "[spam] offer"); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, relayFrom(t, g, "127.0.0.7", "x@acme.test", "[spam] offer"), 550, "5.7.705")

	// Mail: to the admin and, separately, to the operator, for each kind.
	want := map[string]bool{}
	for _, to := range []string{"boss@acme.test", "noc@operator.test"} {
		for _, title := range []string{"Connector created", "Tenant blocked from sending"} {
			want[to+" "+title] = true
		}
	}
	if !sink.Wait(waitFor, func(ms []*devsink.Message) bool {
		got := 0
		for _, m := range ms {
			for _, to := range m.To {
				if want[to+" "+strings.TrimPrefix(strings.SplitN(m.Subject, ":", 2)[0], "[Tollgate] ")] {
					got++
				}
			}
		}
		return got == len(want)
	}) {
		var seen []string
		for _, m := range sink.Messages() {
			seen = append(seen, fmt.Sprint(m.To, " ", m.Subject))
		}
		t.Fatalf("alert mail: want %v, the sink has %v", want, seen)
	}
	waitUntil(t, "both webhook alerts", func() bool {
		mu.Lock()
		defer mu.Unlock()
		kinds := map[alert.Kind]bool{}
		for _, a := range hooks {
			if a.TenantID == acme.ID {
				kinds[a.Kind] = true
			}
		}
		return kinds[alert.ConnectorCreated] && kinds[alert.TenantBlocked]
	})
}

// Every answer of the admin port says nosniff, API and console alike; HSTS
// only when the port is published over HTTPS.
func TestAdminPortHeaders(t *testing.T) {
	g := start(t, testConfig(t, "127.0.0.1:1"), false)
	for _, path := range []string{"/healthz", "/api/v1/tenants", "/console/signin", "/ndr/5.7.705"} {
		resp, err := http.Get("http://" + addr(g, "admin") + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: nosniff %q, HSTS %q", path, resp.Header.Get("X-Content-Type-Options"), resp.Header.Get("Strict-Transport-Security"))
		}
	}
}
