package console_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// startGatewayOn is startGateway on PostgreSQL when dsn is set.
func startGatewayOn(t *testing.T, dsn string) *gateway.Gateway {
	t.Helper()
	return startGatewayWith(t, "127.0.0.1:1", gateway.Options{}, func(c *config.Config) { c.Store.PostgresDSN = dsn })
}

// Issue 10, finding 13: /console/static/ listed its directory, and the
// session cookie's fields (email, operator, tenant, expiry) were unsigned.
// Now a directory is a 404, and a cookie whose fields were changed, or
// that lacks the MAC, is no session; the key is the store's, so every node
// of a fleet accepts the cookie another node set.
func TestConsoleStaticAndSignedCookie(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testConsoleStaticAndSignedCookie(t, "") })
	t.Run("postgres", func(t *testing.T) { testConsoleStaticAndSignedCookie(t, storetest.PostgresDSN(t)) })
}

func testConsoleStaticAndSignedCookie(t *testing.T, dsn string) {
	g := startGatewayOn(t, dsn)
	f := newFixture(t, g)
	c := newClient(t, baseURL(g))
	// Unclean paths are redirected by the mux to a clean one: follow.
	for _, p := range []string{"/console/static/", "/console/static", "/console/static//", "/console/static/./", "/console/static/.", "/console/static/%2e/"} {
		resp, err := http.Get(c.base + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "console.js") {
			t.Errorf("GET %s: %d at %s, want 404 without a listing:\n%.300s", p, resp.StatusCode, resp.Request.URL.Path, body)
		}
	}
	if resp, body := c.get("/console/static/console.css"); resp.StatusCode != 200 || body == "" {
		t.Errorf("a static file: %d", resp.StatusCode)
	}

	ck := c.signInHTTP(f.alphaAdmin)
	home := func(value string) string {
		t.Helper()
		cl := newClient(t, baseURL(g))
		u, _ := url.Parse(cl.base + "/console/")
		cl.http.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: value, Path: "/console/"}})
		resp, _ := cl.get("/console/")
		return resp.Header.Get("Location")
	}
	alphaHome := "/console/t/" + itoa(f.alpha.ID) + "/"
	if got := home(ck.Value); got != alphaHome {
		t.Fatalf("the cookie as set: home sends to %q, want %q", got, alphaHome)
	}
	parts := strings.Split(ck.Value, ".")
	if len(parts) != 3 {
		t.Fatalf("session cookie %q: want token.fields.mac", ck.Value)
	}
	fields, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(fields), `"e":`, `"o":true,"e":`, 1)
	forgedTenant := strings.Replace(string(fields), `"t":`+itoa(f.alpha.ID), `"t":`+itoa(f.beta.ID), 1)
	enc := base64.RawURLEncoding.EncodeToString
	for name, v := range map[string]string{
		"operator flag added": parts[0] + "." + enc([]byte(forged)) + "." + parts[2],
		"tenant changed":      parts[0] + "." + enc([]byte(forgedTenant)) + "." + parts[2],
		"no MAC":              parts[0] + "." + parts[1],
		"MAC of another":      parts[0] + "." + enc([]byte(forged)) + "." + strings.Repeat("A", len(parts[2])),
	} {
		if got := home(v); got != "/console/signin" {
			t.Errorf("%s: home sends to %q, want /console/signin", name, got)
		}
	}
	if dsn == "" {
		return
	}
	// A second node on the same database accepts the first node's cookie.
	g2 := startGatewayOn(t, dsn)
	cl := newClient(t, baseURL(g2))
	u, _ := url.Parse(cl.base + "/console/")
	cl.http.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/console/"}})
	if resp, _ := cl.get(alphaHome); resp.StatusCode != 200 {
		t.Errorf("node B refused node A's session cookie: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
