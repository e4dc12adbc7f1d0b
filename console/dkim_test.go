package console_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/dnstest"
	"github.com/tollgate-mail/tollgate/gateway"
)

// The domains page shows a verified domain's DKIM records beside its
// verification record, and its buttons check them (with what DNS said)
// and rotate the keys.
func TestConsoleDKIM(t *testing.T) {
	dns := dnstest.Start(t)
	g := startGatewayWith(t, dns.Addr, gateway.Options{}, func(c *config.Config) {
		kf := filepath.Join(c.DataDir, "dkim-key")
		if err := os.WriteFile(kf, []byte(hex.EncodeToString(bytes.Repeat([]byte{5}, 32))), 0o600); err != nil {
			t.Fatal(err)
		}
		c.DKIM.Enabled, c.DKIM.KeyFile = true, kf
	})
	f := newFixture(t, g)
	ctx := context.Background()
	if _, err := g.Directory.AddDomain(ctx, directory.By{}, f.beta.ID, "beta.test"); err != nil {
		t.Fatal(err)
	}
	if err := g.Directory.MarkDomainVerified(ctx, directory.By{}, f.beta.ID, "beta.test"); err != nil {
		t.Fatal(err)
	}
	keys, _, err := g.DKIM.Ensure(ctx, f.beta.ID, "beta.test", "test")
	if err != nil {
		t.Fatal(err)
	}
	admin := newClient(t, baseURL(g))
	admin.signInHTTP(f.betaAdmin)
	page := "/console/t/" + strconv.FormatInt(f.beta.ID, 10) + "/domains"
	_, body := admin.get(page)
	for _, want := range []string{"tollgate-verification=", keys[0].RecordName(), keys[1].RecordName(), "v=DKIM1; k=ed25519; p=", "pending"} {
		if !strings.Contains(body, want) {
			t.Fatalf("the domains page lacks %q:\n%.3000s", want, body)
		}
	}
	check := func(want string) {
		t.Helper()
		_, body := admin.get(page)
		resp, _ := admin.post(page+"/beta.test/dkim/check", url.Values{"csrf": {csrfOf(t, body)}}, admin.base)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("check: %d", resp.StatusCode)
		}
		if _, body = admin.get(page); !strings.Contains(body, want) {
			t.Fatalf("after the check the page lacks %q:\n%.3000s", want, body)
		}
	}
	check("Not every DKIM record of beta.test is published yet")
	for _, k := range keys {
		dns.Set(t, k.RecordName(), strings.Replace(k.DNSRecord(), " IN TXT ", " 60 IN TXT ", 1))
	}
	check("mail from it is now signed with generation 1")
	_, body = admin.get(page)
	resp, _ := admin.post(page+"/beta.test/dkim/rotate", url.Values{"csrf": {csrfOf(t, body)}}, admin.base)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rotate: %d", resp.StatusCode)
	}
	if _, body = admin.get(page); !strings.Contains(body, "tg2e._domainkey.beta.test") || !strings.Contains(body, "New DKIM keys") {
		t.Fatalf("after rotation:\n%.3000s", body)
	}
	// Alpha's admin cannot touch beta's keys.
	other := newClient(t, baseURL(g))
	other.signInHTTP(f.alphaAdmin)
	_, abody := other.get("/console/t/" + strconv.FormatInt(f.alpha.ID, 10) + "/domains")
	resp, _ = other.post(page+"/beta.test/dkim/rotate", url.Values{"csrf": {csrfOf(t, abody)}}, other.base)
	if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
		t.Fatalf("alpha's admin posting to beta's DKIM rotation: %d, want 403 or 404", resp.StatusCode)
	}
}
