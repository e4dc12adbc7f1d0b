package api

import (
	"github.com/tollgate-mail/tollgate/client"

	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// callFrom is call from source address src (127.0.0.0/8 gives many).
func (e *env) callFrom(src, method, path string, body any, out any) (int, string) {
	e.t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(j))
	req.Header.Set("Content-Type", "application/json")
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: waitAPI}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

const waitAPI = 30 * time.Second

func (e *env) wantFrom(status int, src, method, path string, body any, out any) string {
	e.t.Helper()
	got, b := e.callFrom(src, method, path, body, out)
	if got != status {
		e.t.Fatalf("%s %s from %s: %d %s, want %d", method, path, src, got, b, status)
	}
	return b
}

// enrolAdmin creates an admin of tenant and enrols TOTP; it returns the
// secret.
func enrolAdmin(t *testing.T, e *env, tenant int64, email, pw string) string {
	t.Helper()
	e.want(201, "op", "POST", fmt.Sprintf("/api/v1/tenants/%d/admins", tenant), map[string]any{"email": email, "password": pw}, nil)
	var s1 struct{ Ticket, Secret string }
	e.wantFrom(200, "127.0.0.250", "POST", "/api/v1/signin", map[string]any{"email": email, "password": pw}, &s1)
	code, _ := totp.GenerateCode(s1.Secret, time.Now())
	e.wantFrom(200, "127.0.0.250", "POST", "/api/v1/signin/totp", map[string]any{"ticket": s1.Ticket, "code": code}, nil)
	return s1.Secret
}

// Anyone can fill an account's throttle with wrong passwords; the admin
// still signs in with the right password and a valid code sent together,
// and nothing less gets through (the same 429 whatever was wrong).
func TestSignInThrottleLetsPasswordAndCodeThrough(t *testing.T) {
	e := newEnv(t)
	var a client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "acme"}, &a)
	const pw = "correct horse battery"
	secret := enrolAdmin(t, e, a.ID, "boss@acme.test", pw)

	for i := range 5 {
		e.wantFrom(401, "127.0.0.2", "POST", "/api/v1/signin", map[string]any{"email": "boss@acme.test", "password": fmt.Sprintf("guess %d", i)}, nil)
	}
	// Locked: the right password alone, from anywhere.
	b := e.wantFrom(429, "127.0.0.3", "POST", "/api/v1/signin", map[string]any{"email": "boss@acme.test", "password": pw}, nil)
	if !strings.Contains(b, "code") {
		t.Fatalf("the throttled answer should say a code gets through: %s", b)
	}
	next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second)) // a later step than enrolment's
	e.wantFrom(429, "127.0.0.3", "POST", "/api/v1/signin", map[string]any{"email": "boss@acme.test", "password": "guess 9", "code": next}, nil)
	e.wantFrom(429, "127.0.0.3", "POST", "/api/v1/signin", map[string]any{"email": "boss@acme.test", "password": pw, "code": wrongCode(next)}, nil)
	var sess struct{ Token string }
	e.wantFrom(200, "127.0.0.3", "POST", "/api/v1/signin", map[string]any{"email": "boss@acme.test", "password": pw, "code": next}, &sess)
	if sess.Token == "" {
		t.Fatal("no session from the one-step sign-in")
	}
	e.want(200, sess.Token, "GET", fmt.Sprintf("/api/v1/tenants/%d", a.ID), nil, nil)
	// The code is spent: replaying it is refused like everything else.
	e.wantFrom(429, "127.0.0.3", "POST", "/api/v1/signin", map[string]any{"email": "boss@acme.test", "password": pw, "code": next}, nil)
}

// One source address past its throttle is refused before any hash,
// whichever account it tries and whatever it sends; other addresses are
// not. Its failures leave a bounded number of audit rows.
func TestSignInThrottlePerSource(t *testing.T) {
	e := newEnv(t)
	var a client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "acme"}, &a)
	const pw = "correct horse battery"
	e.want(201, "op", "POST", fmt.Sprintf("/api/v1/tenants/%d/admins", a.ID), map[string]any{"email": "new@acme.test", "password": pw}, nil)

	const src = "127.0.0.4"
	for i := range 20 { // directory.DefaultSourceThrottleLimit, each a different account
		e.wantFrom(401, src, "POST", "/api/v1/signin", map[string]any{"email": fmt.Sprintf("nobody%d@acme.test", i), "password": "guess guess"}, nil)
	}
	for range 10 {
		e.wantFrom(429, src, "POST", "/api/v1/signin", map[string]any{"email": "new@acme.test", "password": pw}, nil)
	}
	var s1 struct{ Next string }
	e.wantFrom(200, "127.0.0.5", "POST", "/api/v1/signin", map[string]any{"email": "new@acme.test", "password": pw}, &s1)
	if s1.Next != "enroll" {
		t.Fatalf("another address signs in: %+v", s1)
	}

	var au struct{ Entries []client.AuditEntry }
	e.want(200, "op", "GET", "/api/v1/audit?action_prefix=auth.signin.fail&limit=1000", nil, &au)
	rows := 0
	for _, en := range au.Entries {
		if en.SourceIP == src {
			rows++
		}
	}
	if rows == 0 || rows > signInAuditPerSource {
		t.Fatalf("30 failed sign-ins from %s wrote %d audit rows, want 1..%d", src, rows, signInAuditPerSource)
	}
}

// Past the per-source budget, failures are counted and summarised in one
// row per source and window.
func TestSignInAuditBudget(t *testing.T) {
	b := &signInAudit{per: 2, window: time.Minute}
	t0 := time.Unix(1e9, 0)
	for i, want := range []bool{true, true, false, false, false} {
		if ok, sums := b.allow("192.0.2.1", t0.Add(time.Duration(i)*time.Second)); ok != want || len(sums) != 0 {
			t.Fatalf("failure %d: allowed %v (want %v), summaries %v", i, ok, want, sums)
		}
	}
	if ok, _ := b.allow("192.0.2.2", t0.Add(10*time.Second)); !ok {
		t.Fatal("another source has its own budget")
	}
	ok, sums := b.allow("192.0.2.1", t0.Add(time.Minute))
	if !ok || len(sums) != 1 || sums[0].source != "192.0.2.1" || sums[0].count != 3 {
		t.Fatalf("next window: allowed %v, summaries %+v; want one summary of 3", ok, sums)
	}
}
