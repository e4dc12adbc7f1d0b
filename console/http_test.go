package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/policy"
)

// client is a plain HTTP client with a cookie jar, for what a browser
// test cannot see easily: headers, cookie attributes, forged requests.
type client struct {
	t    testing.TB
	base string
	site string // Sec-Fetch-Site to send, if any
	http *http.Client
}

func newClient(t testing.TB, base string) *client {
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

func csrfOf(t testing.TB, page string) string {
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

var secretRE = regexp.MustCompile(`<code id="secret">([A-Z2-7]+)</code>`)

// signInHTTP signs a enrolling admin in with plain HTTP and returns the
// session cookie as set.
func (c *client) signInHTTP(a account) *http.Cookie {
	c.t.Helper()
	ck, _ := c.signInHTTPSecret(a)
	return ck
}

// signInHTTPSecret is signInHTTP that also returns the TOTP secret the
// admin enrolled.
func (c *client) signInHTTPSecret(a account) (*http.Cookie, string) {
	c.t.Helper()
	_, page := c.get("/console/signin")
	resp, page := c.post("/console/signin", url.Values{"csrf": {csrfOf(c.t, page)}, "email": {a.email}, "password": {a.password}}, c.base)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin/totp" {
		c.t.Fatalf("password step: %d %s:\n%.1500s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	_, page = c.get("/console/signin/totp")
	m := secretRE.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no TOTP secret on the enrolment page:\n%.2000s", page)
	}
	code, err := totp.GenerateCode(m[1], time.Now())
	if err != nil {
		c.t.Fatal(err)
	}
	resp, page = c.post("/console/signin/totp", url.Values{"csrf": {csrfOf(c.t, page)}, "code": {code}}, c.base)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "recovery codes") {
		c.t.Fatalf("TOTP step: %d:\n%.1500s", resp.StatusCode, page)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "tg_session" {
			return ck, m[1]
		}
	}
	c.t.Fatal("no session cookie after signing in")
	return nil, ""
}

// The session cookie is HttpOnly, SameSite=Strict, scoped to the console
// and expires with the API session; signing out revokes the session in the
// API, so a copy of the cookie is worthless afterwards.
func TestConsoleSessionCookie(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	c := newClient(t, baseURL(g))
	ck := c.signInHTTP(f.alphaAdmin)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console/" || ck.Secure {
		t.Errorf("session cookie: want HttpOnly, SameSite=Strict, Path=/console/, not Secure on plain HTTP: %+v", ck)
	}
	if ck.MaxAge < 11*3600 || ck.MaxAge > 12*3600 {
		t.Errorf("session cookie Max-Age %d: want the API session's 12 hours", ck.MaxAge)
	}
	resp, page := c.get("/console/t/" + strconv.FormatInt(f.alpha.ID, 10) + "/")
	if resp.StatusCode != 200 {
		t.Fatalf("overview after sign-in: %d", resp.StatusCode)
	}
	if resp, _ := c.post("/console/signout", url.Values{"csrf": {"forged"}}, c.base); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out with a wrong CSRF token: want 403, got %d", resp.StatusCode)
	}
	resp, _ = c.post("/console/signout", url.Values{"csrf": {csrfOf(t, page)}}, c.base)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}

	// Replay the cookie from before the sign-out in another client.
	thief := newClient(t, baseURL(g))
	u, _ := url.Parse(thief.base + "/console/")
	thief.http.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/console/"}})
	resp, _ = thief.get("/console/t/" + strconv.FormatInt(f.alpha.ID, 10) + "/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Fatalf("a signed-out session's cookie: want 303 to /console/signin, got %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = thief.get("/console/signin")
	if !strings.Contains(page, "Your session has ended") {
		t.Errorf("the sign-in page does not say the session ended:\n%.1500s", page)
	}
}

// After five failed sign-ins the API throttles the account; the console
// says so with a 429, even for the right password.
func TestConsoleSignInThrottled(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	c := newClient(t, baseURL(g))
	try := func(pw string) (*http.Response, string) {
		_, page := c.get("/console/signin")
		return c.post("/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "email": {f.betaAdmin.email}, "password": {pw}}, c.base)
	}
	for i := range 5 {
		if resp, _ := try("wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: want 401, got %d", i+1, resp.StatusCode)
		}
	}
	resp, page := try(f.betaAdmin.password)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "Too many failed sign-in attempts") {
		t.Fatalf("the right password after 5 failures: want 429 saying why, got %d:\n%.1500s", resp.StatusCode, page)
	}
}

// A denied unblock request keeps the tenant blocked, and the tenant admin
// sees the denial and the operator's note.
func TestConsoleUnblockDenied(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ctx := context.Background()
	if _, _, err := g.Blocks.BlockTenant(ctx, blocks.Block{TenantID: f.beta.ID, Reason: blocks.ReasonOperator, Rule: "operator",
		Figures: []policy.Figure{{Name: "note", Value: "abuse report 991"}}}, "test"); err != nil {
		t.Fatal(err)
	}
	admin := newClient(t, baseURL(g))
	admin.signInHTTP(f.betaAdmin)
	beta := "/console/t/" + strconv.FormatInt(f.beta.ID, 10) + "/unblock"
	_, page := admin.get(beta)
	if !strings.Contains(page, "abuse report 991") {
		t.Fatalf("the unblock page does not show the block's figures:\n%.2000s", page)
	}
	resp, _ := admin.post(beta, url.Values{"csrf": {csrfOf(t, page)}, "cause": {"a leaked password"}, "fix": {"changed it"}}, admin.base)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sending the request: %d", resp.StatusCode)
	}
	reqs, err := g.Blocks.UnblockRequests(ctx, f.beta.ID, blocks.StatusPending)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("pending requests: %v %v", reqs, err)
	}

	ops := newClient(t, baseURL(g))
	ops.signInHTTP(f.operator)
	_, page = ops.get("/console/unblock-requests")
	deny := "/console/unblock-requests/" + strconv.FormatInt(reqs[0].ID, 10) + "/deny"
	if !strings.Contains(page, `formaction="`+deny+`"`) {
		t.Fatalf("the queue has no deny button for request %d:\n%.2000s", reqs[0].ID, page)
	}
	resp, _ = ops.post(deny, url.Values{"csrf": {csrfOf(t, page)}, "note": {"not convinced yet"}}, ops.base)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("deny: %d", resp.StatusCode)
	}
	if _, blocked := g.Blocks.ActiveBlock(f.beta.ID); !blocked {
		t.Error("beta is no longer blocked after a denial")
	}
	_, page = admin.get(beta)
	for _, want := range []string{"denied", "not convinced yet", "admin:ops@provider.test"} {
		if !strings.Contains(page, want) {
			t.Errorf("the tenant's unblock page lacks %q:\n%.3000s", want, page)
		}
	}
}

// An admin changes their password on their account page with the current
// password and a fresh code; every session ends, this one too; the new
// password signs in and the old one does not; a mismatch or a wrong
// current password is said above the form.
func TestConsoleChangePassword(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	c := newClient(t, baseURL(g))
	_, secret := c.signInHTTPSecret(f.alphaAdmin)
	resp, page := c.get("/console/account")
	if resp.StatusCode != 200 || !strings.Contains(page, `<label for="current-password">`) {
		t.Fatalf("account page: %d\n%.1500s", resp.StatusCode, page)
	}
	csrf := csrfOf(t, page)
	post := func(cur, nw, again, code string) (*http.Response, string) {
		return c.post("/console/account/password", url.Values{"csrf": {csrf}, "current_password": {cur}, "new_password": {nw},
			"new_password_again": {again}, "code": {code}}, c.base)
	}
	resp, _ = post(testPassword, "a brand new passphrase", "a different one!", "000000")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/account" {
		t.Fatalf("mismatched new passwords: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := c.get("/console/account"); !strings.Contains(page, "differ") {
		t.Fatalf("the mismatch is not said:\n%.1500s", page)
	}
	resp, _ = post("not the password", "a brand new passphrase", "a brand new passphrase", "000000")
	if _, page := c.get("/console/account"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(page, "wrong") {
		t.Fatalf("a wrong current password: %d\n%.1500s", resp.StatusCode, page)
	}
	code, err := totp.GenerateCode(secret, time.Now().Add(30*time.Second)) // the sign-in used this step
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = post(testPassword, "a brand new passphrase", "a brand new passphrase", code)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Fatalf("change: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := c.get("/console/signin"); !strings.Contains(page, "password was changed") {
		t.Fatalf("the sign-in page does not say why:\n%.1500s", page)
	}
	if _, err := g.Directory.SignIn(context.Background(), f.alphaAdmin.email, "a brand new passphrase", time.Now()); err != nil {
		t.Fatalf("the new password does not sign in: %v", err)
	}
}
