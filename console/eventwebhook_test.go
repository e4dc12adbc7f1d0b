package console_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/events"
	"github.com/tollgate-mail/tollgate/gateway"
)

// withEventWebhooks gives a test gateway the installation key that seals
// the webhooks' secrets ([dkim] key_file) and lets webhooks point at
// loopback.
func withEventWebhooks(t testing.TB) func(c *config.Config) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("5a", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) {
		c.DKIM.KeyFile = keyFile
		c.Events.AllowedInternalWebhooks = config.Prefixes{netip.MustParsePrefix("127.0.0.0/8")}
	}
}

var newSecretRE = regexp.MustCompile(`id="new-secret">([0-9a-f]+)<`)

// The delivery-events page: a tenant admin sets the webhook (the secret
// shown once, then only "set"), rotates the secret (the new one shown
// once, and it is the one requests are signed with), sees its failed
// events and not another tenant's, redelivers one, and clears the webhook;
// another tenant's admin gets 404 for the page and its actions.
func TestConsoleEventWebhook(t *testing.T) {
	g := startGatewayWith(t, "127.0.0.1:1", gateway.Options{}, withEventWebhooks(t))
	f := newFixture(t, g)
	ctx := context.Background()
	admin := newClient(t, baseURL(g))
	admin.signInHTTP(f.betaAdmin)
	page := "/console/t/" + strconv.FormatInt(f.beta.ID, 10) + "/event-webhook"

	_, body := admin.get(page)
	if !strings.Contains(body, `id="webhook-none"`) || !strings.Contains(body, "No failed events") {
		t.Fatalf("page before a webhook:\n%.3000s", body)
	}
	csrf := csrfOf(t, body)
	// A URL the rules refuse: back to the page, saying why.
	if resp, _ := admin.post(page, url.Values{"csrf": {csrf}, "url": {"http://hooks.example/x"}}, admin.base); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bad URL: %d", resp.StatusCode)
	}
	if _, body := admin.get(page); !strings.Contains(body, "must be https") {
		t.Fatalf("no error for a bad URL:\n%.3000s", body)
	}

	resp, body := admin.post(page, url.Values{"csrf": {csrf}, "url": {"https://127.0.0.1:9/hook"}}, admin.base)
	m := newSecretRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("set: %d, no secret shown:\n%.3000s", resp.StatusCode, body)
	}
	wh, err := g.EventStore.Webhook(ctx, f.beta.ID, f.beta.Name)
	if err != nil || wh.Secret != m[1] || wh.URL != "https://127.0.0.1:9/hook" {
		t.Fatalf("stored %+v, %v; shown secret %s", wh, err, m[1])
	}
	_, body = admin.get(page)
	if strings.Contains(body, wh.Secret) || !strings.Contains(body, "https://127.0.0.1:9/hook") {
		t.Fatalf("the page shows the secret again, or not the URL:\n%.3000s", body)
	}
	resp, body = admin.post(page+"/rotate", url.Values{"csrf": {csrf}}, admin.base)
	m = newSecretRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil || m[1] == wh.Secret {
		t.Fatalf("rotate: %d:\n%.3000s", resp.StatusCode, body)
	}
	if now, _ := g.EventStore.Webhook(ctx, f.beta.ID, f.beta.Name); now.Secret != m[1] {
		t.Fatalf("rotated secret shown %s, stored %s", m[1], now.Secret)
	}

	// Failed events: beta's listed, alpha's not.
	now := time.Now().UTC()
	for _, e := range []events.Event{
		{ID: "evt-beta-1", Kind: events.Bounced, TenantID: f.beta.ID, Recipient: "gone@example.net", Time: now},
		{ID: "evt-alpha-1", Kind: events.Delivered, TenantID: f.alpha.ID, Recipient: "alphas@example.com", Time: now},
	} {
		if err := g.EventStore.Fail(ctx, "gw.test", e, "answered 503 Service Unavailable"); err != nil {
			t.Fatal(err)
		}
	}
	_, body = admin.get(page)
	if !strings.Contains(body, "evt-beta-1") || !strings.Contains(body, "gone@example.net") || !strings.Contains(body, "503") ||
		strings.Contains(body, "evt-alpha-1") || strings.Contains(body, "alphas@example.com") {
		t.Fatalf("failed events:\n%.4000s", body)
	}

	// Alpha's admin: not beta's page, nor its actions.
	other := newClient(t, baseURL(g))
	other.signInHTTP(f.alphaAdmin)
	_, own := other.get("/console/t/" + strconv.FormatInt(f.alpha.ID, 10) + "/event-webhook")
	ocsrf := csrfOf(t, own)
	if resp, b := other.get(page); resp.StatusCode != http.StatusNotFound || strings.Contains(b, "evt-beta-1") {
		t.Fatalf("alpha's admin on beta's page: %d", resp.StatusCode)
	}
	for _, p := range []string{page, page + "/rotate", page + "/clear", page + "/redeliver"} {
		if resp, _ := other.post(p, url.Values{"csrf": {ocsrf}, "url": {"https://127.0.0.1:9/steal"}, "id": {"evt-beta-1"}}, other.base); resp.StatusCode != http.StatusNotFound {
			t.Errorf("alpha's admin POST %s: %d, want 404", p, resp.StatusCode)
		}
	}

	if resp, _ := admin.post(page+"/redeliver", url.Values{"csrf": {csrf}, "id": {"evt-beta-1"}}, admin.base); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("redeliver: %d", resp.StatusCode)
	}
	if _, body := admin.get(page); !strings.Contains(body, "1 event(s) queued for redelivery") {
		t.Fatalf("no confirmation:\n%.3000s", body)
	}
	if l, total, _ := g.EventStore.Failed(ctx, f.beta.ID, 10); total != 0 || len(l) != 0 {
		t.Fatalf("after the redelivery beta has %d failed events", total)
	}
	if _, total, _ := g.EventStore.Failed(ctx, f.alpha.ID, 10); total != 1 {
		t.Fatalf("alpha's failed event: %d, want it kept", total)
	}

	if resp, _ := admin.post(page+"/clear", url.Values{"csrf": {csrf}}, admin.base); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("clear: %d", resp.StatusCode)
	}
	if _, err := g.EventStore.Webhook(ctx, f.beta.ID, f.beta.Name); err == nil {
		t.Fatal("webhook still set after clear")
	}
}
