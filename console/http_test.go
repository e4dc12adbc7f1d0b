package console_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// client is a plain HTTP client with a cookie jar, for what a browser
// test cannot see easily: headers, cookie attributes, forged requests.
type client struct {
	t    *testing.T
	base string
	site string // Sec-Fetch-Site to send, if any
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// post sends a form as a same-origin browser would (Origin header set).
func (c *client) post(path string, form url.Values, origin string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if c.site != "" {
		req.Header.Set("Sec-Fetch-Site", c.site)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%.2000s", page)
	}
	return m[1]
}

// The sign-in page sets the console's security headers and a pre-sign-in
// cookie that is HttpOnly and SameSite=Strict; a form without its CSRF
// token, or from another origin, is refused; a wrong password is a 401
// that says so.
func TestConsoleSignInForm(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	c := newClient(t, baseURL(g))

	resp, page := c.get("/console/signin")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /console/signin: %d", resp.StatusCode)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	var pre *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "tg_pre" {
			pre = ck
		}
	}
	if pre == nil || !pre.HttpOnly || pre.SameSite != http.SameSiteStrictMode {
		t.Fatalf("pre-sign-in cookie must be HttpOnly and SameSite=Strict: %+v", pre)
	}
	token := csrfOf(t, page)
	form := url.Values{"email": {f.alphaAdmin.email}, "password": {"wrong"}}

	if resp, _ := c.post("/console/signin", form, c.base); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without the CSRF token: want 403, got %d", resp.StatusCode)
	}
	form.Set("csrf", token)
	if resp, _ := c.post("/console/signin", form, "http://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in posted from another origin: want 403, got %d", resp.StatusCode)
	}
	c.site = "cross-site"
	if resp, _ := c.post("/console/signin", form, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in posted with Sec-Fetch-Site: cross-site: want 403, got %d", resp.StatusCode)
	}
	c.site = ""
	resp, page = c.post("/console/signin", form, c.base)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Wrong email or password") {
		t.Fatalf("wrong password: want 401 saying so, got %d:\n%.1500s", resp.StatusCode, page)
	}
}
