package api

import (
	"github.com/tollgate-mail/tollgate/client"

	"bytes"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/tollgate-mail/tollgate/directory"
)

// An admin signs in with password and TOTP: enrolment on the first
// sign-in, recovery codes once, each code accepted once, recovery codes
// single-use, the session scoped to the admin's tenant, every step audited,
// and guessing throttled.
func TestAdminSignIn(t *testing.T) {
	e := newEnv(t)
	var a, other client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "acme"}, &a)
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "other"}, &other)
	e.want(201, "op", "POST", fmt.Sprintf("/api/v1/tenants/%d/admins", a.ID), map[string]any{"email": "boss@acme.test", "password": "correct horse battery"}, nil)

	var step1 struct {
		Next, Ticket, Secret string
		OtpauthURL           string `json:"otpauth_url"`
		QRPNG                string `json:"qr_png"`
	}
	e.want(200, "", "POST", "/api/v1/signin", map[string]any{"email": "boss@acme.test", "password": "correct horse battery"}, &step1)
	if step1.Next != "enroll" || step1.Secret == "" || !strings.HasPrefix(step1.OtpauthURL, "otpauth://totp/") {
		t.Fatalf("first sign-in must enrol TOTP: %+v", step1)
	}
	raw, _ := base64.StdEncoding.DecodeString(step1.QRPNG)
	if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
		t.Fatalf("QR code is no PNG: %v", err)
	}
	// The ticket alone is no session.
	e.want(401, step1.Ticket, "GET", fmt.Sprintf("/api/v1/tenants/%d", a.ID), nil, nil)
	code, _ := totp.GenerateCode(step1.Secret, time.Now())
	e.want(401, "", "POST", "/api/v1/signin/totp", map[string]any{"ticket": step1.Ticket, "code": wrongCode(code)}, nil)
	var sess struct {
		Token         string
		RecoveryCodes []string `json:"recovery_codes"`
	}
	e.want(200, "", "POST", "/api/v1/signin/totp", map[string]any{"ticket": step1.Ticket, "code": code}, &sess)
	if sess.Token == "" || len(sess.RecoveryCodes) != 10 {
		t.Fatalf("session after enrolment: %+v", sess)
	}
	e.want(200, sess.Token, "GET", fmt.Sprintf("/api/v1/tenants/%d", a.ID), nil, nil)
	e.want(404, sess.Token, "GET", fmt.Sprintf("/api/v1/tenants/%d", other.ID), nil, nil)
	// The spent ticket cannot make a second session.
	e.want(401, "", "POST", "/api/v1/signin/totp", map[string]any{"ticket": step1.Ticket, "code": code}, nil)

	// Second sign-in: TOTP, and the code already used is refused (replay).
	var step2 struct{ Next, Ticket string }
	e.want(200, "", "POST", "/api/v1/signin", map[string]any{"email": "boss@acme.test", "password": "correct horse battery"}, &step2)
	if step2.Next != "totp" {
		t.Fatalf("second sign-in: %+v", step2)
	}
	e.want(401, "", "POST", "/api/v1/signin/totp", map[string]any{"ticket": step2.Ticket, "code": code}, nil)
	// A recovery code works once.
	e.want(200, "", "POST", "/api/v1/signin/recovery", map[string]any{"ticket": step2.Ticket, "recovery_code": sess.RecoveryCodes[0]}, nil)
	var step3 struct{ Ticket string }
	e.want(200, "", "POST", "/api/v1/signin", map[string]any{"email": "boss@acme.test", "password": "correct horse battery"}, &step3)
	e.want(401, "", "POST", "/api/v1/signin/recovery", map[string]any{"ticket": step3.Ticket, "recovery_code": sess.RecoveryCodes[0]}, nil)

	// Everything is in the audit log, as the admin.
	var au struct{ Entries []client.AuditEntry }
	e.want(200, "op", "GET", "/api/v1/audit?action_prefix=auth", nil, &au)
	seen := map[string]int{}
	for _, en := range au.Entries {
		seen[en.Action]++
		if en.Actor != "admin:boss@acme.test" || en.TenantID != a.ID {
			t.Fatalf("auth event %+v", en)
		}
	}
	if seen["auth.mfa.enroll"] != 1 || seen["auth.signin"] != 2 || seen["auth.signin.fail"] < 3 || seen["auth.recovery_code.use"] != 1 {
		t.Fatalf("auth events %v", seen)
	}
	// Guessing the password is throttled, the right one included, with 429.
	for i := 0; i < 5; i++ {
		e.call("", "POST", "/api/v1/signin", map[string]any{"email": "boss@acme.test", "password": fmt.Sprintf("guess %d guess", i)}, nil)
	}
	b := e.want(429, "", "POST", "/api/v1/signin", map[string]any{"email": "boss@acme.test", "password": "correct horse battery"}, nil)
	if !strings.Contains(b, "throttled") {
		t.Fatalf("throttled answer %s", b)
	}
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// Confirming a connector takes an admin session and a fresh TOTP code; an
// API token cannot, whoever holds it.
func TestConfirmConnectorStepUp(t *testing.T) {
	e := newEnv(t)
	var a client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "acme"}, &a)
	base := fmt.Sprintf("/api/v1/tenants/%d", a.ID)
	e.want(201, "op", "POST", base+"/admins", map[string]any{"email": "boss@acme.test", "password": "correct horse battery"}, nil)
	var c client.Connector
	e.want(201, "op", "POST", base+"/connectors", map[string]any{"name": "onprem", "ip_ranges": []string{"192.0.2.0/24"}}, &c)
	if !c.Probation {
		t.Fatalf("a new connector must be on probation: %+v", c)
	}
	confirm := fmt.Sprintf("%s/connectors/%d/confirm", base, c.ID)
	// The bootstrap operator token and a tenant API token cannot step up.
	for _, tok := range []string{"op", e.tenantToken(a.ID)} {
		b := e.want(403, tok, "POST", confirm, map[string]any{"code": "123456"}, nil)
		if !strings.Contains(b, "step_up_required") {
			t.Fatalf("%s", b)
		}
	}
	// Sign in (enrolling TOTP), then step up with a fresh code.
	var s1 struct{ Ticket, Secret string }
	e.want(200, "", "POST", "/api/v1/signin", map[string]any{"email": "boss@acme.test", "password": "correct horse battery"}, &s1)
	now := time.Now()
	code, _ := totp.GenerateCode(s1.Secret, now)
	var sess struct{ Token string }
	e.want(200, "", "POST", "/api/v1/signin/totp", map[string]any{"ticket": s1.Ticket, "code": code}, &sess)
	// The sign-in code is spent: the step-up needs the next one.
	e.want(401, sess.Token, "POST", confirm, map[string]any{"code": code}, nil)
	next, _ := totp.GenerateCode(s1.Secret, now.Add(30*time.Second))
	var got client.Connector
	e.want(200, sess.Token, "POST", confirm, map[string]any{"code": next}, &got)
	if got.Probation || got.ConfirmedBy != "admin:boss@acme.test" {
		t.Fatalf("confirmed connector %+v", got)
	}
	var au struct{ Entries []client.AuditEntry }
	e.want(200, "op", "GET", "/api/v1/audit?action=connector.confirm", nil, &au)
	if len(au.Entries) != 1 || au.Entries[0].Actor != "admin:boss@acme.test" {
		t.Fatalf("audit %+v", au.Entries)
	}
}

// The bootstrap token makes an operator account; the operator signs in with
// TOTP and sees every tenant.
func TestOperatorAccount(t *testing.T) {
	e := newEnv(t)
	e.want(201, "op", "POST", "/api/v1/operators", map[string]any{"email": "ops@provider.test", "password": "operator passphrase"}, nil)
	e.want(409, "op", "POST", "/api/v1/operators", map[string]any{"email": "ops@provider.test", "password": "operator passphrase"}, nil)
	e.want(400, "op", "POST", "/api/v1/operators", map[string]any{"email": "short@provider.test", "password": "short"}, nil)
	var s1 struct{ Ticket, Secret string }
	e.want(200, "", "POST", "/api/v1/signin", map[string]any{"email": "ops@provider.test", "password": "operator passphrase"}, &s1)
	code, _ := totp.GenerateCode(s1.Secret, time.Now())
	var sess struct{ Token string }
	e.want(200, "", "POST", "/api/v1/signin/totp", map[string]any{"ticket": s1.Ticket, "code": code}, &sess)
	e.want(201, sess.Token, "POST", "/api/v1/tenants", map[string]any{"name": "made-by-ops"}, nil)
	var ops struct{ Operators []client.Admin }
	e.want(200, sess.Token, "GET", "/api/v1/operators", nil, &ops)
	if len(ops.Operators) != 1 || !ops.Operators[0].TOTPEnabled || ops.Operators[0].Role != "operator" {
		t.Fatalf("operators %+v", ops)
	}
}

// An admin changes their own password with the current password and a
// fresh TOTP code; every session of theirs ends; an API token cannot do
// it; an operator can reset an admin's MFA, which ends their sessions too.
func TestChangeOwnPasswordAndResetMFA(t *testing.T) {
	e := newEnv(t)
	var a client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "alpha"}, &a)
	var adm struct{ ID int64 }
	e.want(201, "op", "POST", fmt.Sprintf("/api/v1/tenants/%d/admins", a.ID), map[string]any{"email": "boss@alpha.test", "password": "correct horse battery"}, &adm)
	var s1 struct{ Ticket, Secret string }
	e.want(200, "", "POST", "/api/v1/signin", map[string]any{"email": "boss@alpha.test", "password": "correct horse battery"}, &s1)
	code, _ := totp.GenerateCode(s1.Secret, time.Now())
	var sess struct{ Token string }
	e.want(200, "", "POST", "/api/v1/signin/totp", map[string]any{"ticket": s1.Ticket, "code": code}, &sess)

	// An API token of the tenant cannot; a wrong current password cannot.
	e.want(403, e.tenantToken(a.ID), "PUT", "/api/v1/me/password", map[string]any{"current_password": "correct horse battery", "new_password": "a brand new passphrase", "code": "000000"}, nil)
	e.want(401, sess.Token, "PUT", "/api/v1/me/password", map[string]any{"current_password": "wrong wrong wrong", "new_password": "a brand new passphrase", "code": "000000"}, nil)
	code, _ = totp.GenerateCode(s1.Secret, time.Now().Add(30*time.Second)) // the next step: the sign-in used this one
	var out struct {
		SessionsEnded int64 `json:"sessions_ended"`
	}
	e.want(200, sess.Token, "PUT", "/api/v1/me/password", map[string]any{"current_password": "correct horse battery", "new_password": "a brand new passphrase", "code": code}, &out)
	if out.SessionsEnded != 1 {
		t.Fatalf("sessions ended: %d, want 1", out.SessionsEnded)
	}
	e.want(401, sess.Token, "GET", fmt.Sprintf("/api/v1/tenants/%d", a.ID), nil, nil) // signed out
	e.want(401, "", "POST", "/api/v1/signin", map[string]any{"email": "boss@alpha.test", "password": "correct horse battery"}, nil)
	e.want(200, "", "POST", "/api/v1/signin", map[string]any{"email": "boss@alpha.test", "password": "a brand new passphrase"}, nil)
	admins, err := e.dir.Admins(t.Context(), a.ID)
	if err != nil || len(admins) != 1 || time.Since(admins[0].PasswordChangedAt) > time.Minute {
		t.Fatalf("password_changed_at not set: %+v %v", admins, err)
	}

	// The operator resets the MFA: the admin enrols again at sign-in.
	e.want(404, e.tenantToken(a.ID), "DELETE", fmt.Sprintf("/api/v1/admins/%d/mfa", adm.ID), nil, nil)
	e.want(200, "op", "DELETE", fmt.Sprintf("/api/v1/admins/%d/mfa", adm.ID), nil, nil)
	var s2 struct{ Ticket, Secret string }
	e.want(200, "", "POST", "/api/v1/signin", map[string]any{"email": "boss@alpha.test", "password": "a brand new passphrase"}, &s2)
	if s2.Secret == "" || s2.Secret == s1.Secret {
		t.Fatalf("after the reset the sign-in does not enrol a new secret: %+v", s2)
	}
}

// From a signed-in session, creating an API token or an admin — access
// that outlives the session — needs a fresh TOTP code; API tokens are not
// asked.
func TestStepUpForLastingAccess(t *testing.T) {
	e := newEnv(t)
	var a client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "alpha"}, &a)
	e.want(201, "op", "POST", fmt.Sprintf("/api/v1/tenants/%d/admins", a.ID), map[string]any{"email": "boss@alpha.test", "password": "correct horse battery"}, nil)
	// Tenant admins add admins at the tenant's verified domains only.
	if _, err := e.dir.AddDomain(t.Context(), directory.By{}, a.ID, "alpha.test"); err != nil {
		t.Fatal(err)
	}
	if err := e.dir.MarkDomainVerified(t.Context(), directory.By{}, a.ID, "alpha.test"); err != nil {
		t.Fatal(err)
	}
	var s1 struct{ Ticket, Secret string }
	e.want(200, "", "POST", "/api/v1/signin", map[string]any{"email": "boss@alpha.test", "password": "correct horse battery"}, &s1)
	code, _ := totp.GenerateCode(s1.Secret, time.Now())
	var sess struct{ Token string }
	e.want(200, "", "POST", "/api/v1/signin/totp", map[string]any{"ticket": s1.Ticket, "code": code}, &sess)

	e.want(403, sess.Token, "POST", "/api/v1/tokens", map[string]any{"name": "ci"}, nil)
	e.want(403, sess.Token, "POST", fmt.Sprintf("/api/v1/tenants/%d/admins", a.ID), map[string]any{"email": "shadow@alpha.test", "password": "a long enough password"}, nil)
	e.want(401, sess.Token, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "code": "000000"}, nil)
	code, _ = totp.GenerateCode(s1.Secret, time.Now().Add(30*time.Second)) // the sign-in used this step
	e.want(201, sess.Token, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "code": code}, nil)
	// An API token of the tenant is not a session: no code asked.
	e.want(201, e.tenantToken(a.ID), "POST", fmt.Sprintf("/api/v1/tenants/%d/admins", a.ID), map[string]any{"email": "second@alpha.test", "password": "a long enough password"}, nil)
}
