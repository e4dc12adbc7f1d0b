// Package console is Tollgate's admin center: the web pages tenant admins
// and operators use in a browser, served under /console/ on the admin HTTP
// port.
//
// The console holds no data of its own and has no second way to the data:
// every page is built from /api/v1 answers, got by calling the API's
// http.Handler in-process with the signed-in admin's session token, so the
// API's scoping, validation, throttling and audit apply to the console
// exactly as they do to `tollgate admin` and to scripts.
//
// The session token lives in an HttpOnly, SameSite=Strict cookie (Secure
// when the console is reached over TLS); no token ever reaches JavaScript.
// Pages are server-rendered with html/template; the one small script (copy
// buttons) is a file, so the Content-Security-Policy allows no inline
// script or style at all.
package console

import (
	"crypto/rand"
	"embed"
	"log/slog"
	"net/http"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the console is mounted on the admin HTTP port.
const Prefix = "/console/"

// Options configures the console.
type Options struct {
	// API is the admin API's handler (api.Server.Handler()): every page's
	// data comes from it.
	API http.Handler
	// SecureCookies marks cookies Secure even on plain HTTP requests: set it
	// when TLS is terminated in front of the admin port (admin.public_url
	// is https). Requests that arrive over TLS get Secure cookies anyway.
	SecureCookies bool
	// CookieKey signs the session and flash cookies (HMAC-SHA256); a
	// tampered cookie counts as none. Give every node of a fleet the same
	// key (the gateway keeps it in the store). Empty: a random key for
	// this process, so sessions end when it restarts.
	CookieKey []byte
	Logger    *slog.Logger
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// Console serves the admin center.
type Console struct {
	opts  Options
	key   []byte
	mux   *http.ServeMux
	pages pages
}

// New builds the console's handler tree.
func New(opts Options) *Console {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Console{opts: opts, key: opts.CookieKey, mux: http.NewServeMux(), pages: loadPages()}
	if len(c.key) == 0 {
		c.key = make([]byte, 32)
		rand.Read(c.key)
	}
	c.routes()
	return c
}

// ServeHTTP sets the security headers every answer carries, then routes.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// No inline script or style anywhere: the CSP is the second line of
	// defence should an escaping bug ever let markup through.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: with no-referrer browsers send
	// "Origin: null" on form posts.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !sameOrigin(r) {
		http.Error(w, "cross-origin form submission refused", http.StatusForbidden)
		return
	}
	c.mux.ServeHTTP(w, r)
}

// sameOrigin reports whether a state-changing request came from the
// console's own pages. Browsers send Sec-Fetch-Site, which no page can
// forge; older ones send Origin. A request with neither is not from a
// browser, and the CSRF token still guards it.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	return o == "http://"+r.Host || o == "https://"+r.Host
}
