package console_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tollgate-mail/tollgate/console"
)

// Behind a TLS-terminating proxy (admin.public_url is https) every cookie
// is Secure, although the request reaches the console over plain HTTP.
func TestConsoleSecureCookies(t *testing.T) {
	api := http.NotFoundHandler()
	for _, secure := range []bool{false, true} {
		srv := httptest.NewServer(console.New(console.Options{API: api, SecureCookies: secure}))
		resp, err := http.Get(srv.URL + "/console/signin")
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cks := resp.Cookies()
		if len(cks) == 0 {
			t.Fatal("no cookie set on the sign-in page")
		}
		for _, ck := range cks {
			if ck.Secure != secure {
				t.Errorf("SecureCookies %v: cookie %s has Secure %v", secure, ck.Name, ck.Secure)
			}
		}
	}
}

// Unknown console paths and malformed ids are 404 pages, not panics or 500s.
func TestConsoleNotFound(t *testing.T) {
	srv := httptest.NewServer(console.New(console.Options{API: http.NotFoundHandler()}))
	defer srv.Close()
	for _, p := range []string{"/console/nope", "/console/t/x/domains", "/console/t/-1/", "/console/static/missing.js"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// Signed-out tenant pages send to sign-in first; the rest are 404.
		if resp.StatusCode != http.StatusNotFound && resp.Request.URL.Path != "/console/signin" {
			t.Errorf("GET %s: want 404 or the sign-in page, got %d at %s", p, resp.StatusCode, resp.Request.URL.Path)
		}
	}
}
