package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/client"
)

// A tenant admin sets, reads, rotates and clears its own delivery-event
// webhook; another tenant's admin cannot read or change it (404, as for
// every tenant route); URLs the rules refuse are 400s naming why; every
// change is in the audit log.
func TestEventWebhookAPI(t *testing.T) {
	e := newEnv(t)
	var acme, other client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "acme"}, &acme)
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "other"}, &other)
	acmeTok, otherTok := e.tenantToken(acme.ID), e.tenantToken(other.ID)
	path := fmt.Sprintf("/api/v1/tenants/%d/event-webhook", acme.ID)

	e.want(404, acmeTok, "GET", path, nil, nil) // none set yet
	var wh client.EventWebhook
	e.want(200, acmeTok, "PUT", path, client.EventWebhookRequest{URL: "https://127.0.0.1:8443/hooks/tollgate"}, &wh)
	if wh.URL != "https://127.0.0.1:8443/hooks/tollgate" || len(wh.Secret) < 32 || wh.Source != "api" {
		t.Fatalf("set: %+v", wh)
	}
	var got client.EventWebhook
	e.want(200, acmeTok, "GET", path, nil, &got)
	if got.URL != wh.URL || got.Secret != wh.Secret {
		t.Fatalf("get after set: %+v, want %+v", got, wh)
	}

	// Another tenant: neither its id's path nor a change through it.
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		var body any
		if m == "PUT" {
			body = client.EventWebhookRequest{URL: "https://127.0.0.1:9/steal"}
		}
		if code, b := e.call(otherTok, m, path, body, nil); code != 404 {
			t.Fatalf("%s of acme's webhook with other's token: %d %s", m, code, b)
		}
	}
	if code, b := e.call(otherTok, "POST", path+"/rotate-secret", nil, nil); code != 404 {
		t.Fatalf("rotate acme's secret with other's token: %d %s", code, b)
	}
	e.want(200, acmeTok, "GET", path, nil, &got)
	if got.URL != wh.URL || got.Secret != wh.Secret {
		t.Fatalf("acme's webhook changed by another tenant: %+v", got)
	}

	// URLs the rules refuse, each saying why; the stored one stays.
	for _, c := range []struct{ url, want string }{
		{"http://127.0.0.1:8080/hook", "must be https"},
		{"ftp://hooks.example/x", "must be https"},
		{"https://user:pw@hooks.example/x", "no user name or password"},
		{"https://10.1.2.3/hook", "10.1.2.3"},
		{"not a url", "want https://host/path"},
		{"https://hooks.example/" + strings.Repeat("a", 2100), "longer than"},
	} {
		b := e.want(400, acmeTok, "PUT", path, client.EventWebhookRequest{URL: c.url}, nil)
		if !strings.Contains(b, c.want) {
			t.Errorf("PUT %q: %s, want it to say %q", c.url, b, c.want)
		}
	}
	e.want(200, acmeTok, "GET", path, nil, &got)
	if got.URL != wh.URL {
		t.Fatalf("a refused URL replaced the webhook: %+v", got)
	}

	// Rotation gives a new secret for the same URL.
	var rot client.EventWebhook
	e.want(200, acmeTok, "POST", path+"/rotate-secret", nil, &rot)
	if rot.URL != wh.URL || rot.Secret == wh.Secret || len(rot.Secret) < 32 {
		t.Fatalf("rotate: %+v (old secret %q)", rot, wh.Secret)
	}

	e.want(204, acmeTok, "DELETE", path, nil, nil)
	e.want(404, acmeTok, "GET", path, nil, nil)

	entries, err := e.log.Query(t.Context(), audit.Filter{TenantID: &acme.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, en := range entries {
		seen[en.Action] = true
		if rec := string(en.Before) + string(en.After); strings.Contains(en.Action, "webhook") && (strings.Contains(rec, wh.Secret) || strings.Contains(rec, rot.Secret)) {
			t.Errorf("audit entry %s holds the secret: %+v", en.Action, en)
		}
	}
	n := 0
	for a := range seen {
		if strings.Contains(a, "webhook") {
			n++
		}
	}
	if n < 3 {
		t.Errorf("audit actions for acme: %v, want the webhook's set, rotate and clear", seen)
	}
}
