package api

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/directory"
)

// signInAdmin creates a tenant admin and signs them in with password and
// TOTP, returning the admin's id and session token.
func (e *env) signInAdmin(tenant int64, email string) (int64, string) {
	e.t.Helper()
	var adm client.Admin
	e.want(201, "op", "POST", fmt.Sprintf("/api/v1/tenants/%d/admins", tenant), map[string]any{"email": email, "password": "correct horse battery"}, &adm)
	var s1 struct{ Ticket, Secret string }
	e.want(200, "", "POST", "/api/v1/signin", map[string]any{"email": email, "password": "correct horse battery"}, &s1)
	code, _ := totp.GenerateCode(s1.Secret, time.Now())
	var sess struct{ Token string }
	e.want(200, "", "POST", "/api/v1/signin/totp", map[string]any{"ticket": s1.Ticket, "code": code}, &sess)
	return adm.ID, sess.Token
}

// A tenant's tokens and admins: each tenant sees and touches its own only
// (404 for the other's, as for none); a token's list entry names its
// creator and the address of its last use; the admins list says MFA and
// last sign-in.
func TestTenantTokensAndAdminsIsolation(t *testing.T) {
	e := newEnv(t)
	var a, b client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "alpha"}, &a)
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "beta"}, &b)
	aTok, bTok := e.tenantToken(a.ID), e.tenantToken(b.ID)
	var deploy client.Token
	e.want(201, aTok, "POST", "/api/v1/tokens", map[string]any{"name": "deploy-bot"}, &deploy)
	e.want(200, deploy.Token, "GET", fmt.Sprintf("/api/v1/tenants/%d", a.ID), nil, nil) // a use, from 127.0.0.1
	aAdmin, _ := e.signInAdmin(a.ID, "boss@alpha.test")
	bAdmin, _ := e.signInAdmin(b.ID, "boss@beta.test")

	var list struct{ Tokens []client.Token }
	e.want(200, aTok, "GET", fmt.Sprintf("/api/v1/tenants/%d/tokens", a.ID), nil, &list)
	var got *client.Token
	for i, tk := range list.Tokens {
		if tk.Kind != "api" || tk.TenantID != a.ID || tk.Token != "" {
			t.Fatalf("tenant token list holds %+v", tk)
		}
		if tk.ID == deploy.ID {
			got = &list.Tokens[i]
		}
	}
	if got == nil || got.CreatedBy != "token:tenant-"+fmt.Sprint(a.ID) || got.LastUsed == nil || got.LastUsedFrom != "127.0.0.1" {
		t.Fatalf("deploy-bot in the list: %+v", got)
	}
	if len(list.Tokens) != 2 { // tenant-N and deploy-bot; the admin's session is not an API token
		t.Fatalf("%d tokens listed, want 2: %+v", len(list.Tokens), list.Tokens)
	}

	// Tenant B sees nothing of A's and cannot revoke A's token or touch A's admins.
	e.want(404, bTok, "GET", fmt.Sprintf("/api/v1/tenants/%d/tokens", a.ID), nil, nil)
	e.want(404, bTok, "GET", fmt.Sprintf("/api/v1/tenants/%d/admins", a.ID), nil, nil)
	e.want(404, bTok, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", deploy.ID), nil, nil)
	e.want(404, bTok, "POST", fmt.Sprintf("/api/v1/tenants/%d/admins/%d/password-change", a.ID, aAdmin), nil, nil)
	// Nor through its own tenant's path with A's admin id.
	e.want(404, bTok, "POST", fmt.Sprintf("/api/v1/tenants/%d/admins/%d/password-change", b.ID, aAdmin), nil, nil)
	e.want(404, bTok, "DELETE", fmt.Sprintf("/api/v1/admins/%d/mfa", aAdmin), nil, nil) // operators only
	var bList struct{ Tokens []client.Token }
	e.want(200, bTok, "GET", fmt.Sprintf("/api/v1/tenants/%d/tokens", b.ID), nil, &bList)
	if strings.Contains(fmt.Sprint(bList), "deploy-bot") || len(bList.Tokens) != 1 {
		t.Fatalf("tenant B's list: %+v", bList)
	}
	e.want(200, deploy.Token, "GET", fmt.Sprintf("/api/v1/tenants/%d", a.ID), nil, nil) // still live

	var admins struct{ Admins []client.Admin }
	e.want(200, aTok, "GET", fmt.Sprintf("/api/v1/tenants/%d/admins", a.ID), nil, &admins)
	if len(admins.Admins) != 1 || admins.Admins[0].ID != aAdmin || !admins.Admins[0].TOTPEnabled || admins.Admins[0].LastSignIn == nil {
		t.Fatalf("tenant A's admins: %+v", admins.Admins)
	}
	_ = bAdmin

	// A revokes its own: the token stops at once and the list says when.
	e.want(204, aTok, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", deploy.ID), nil, nil)
	e.want(401, deploy.Token, "GET", fmt.Sprintf("/api/v1/tenants/%d", a.ID), nil, nil)
	e.want(200, aTok, "GET", fmt.Sprintf("/api/v1/tenants/%d/tokens", a.ID), nil, &list)
	for _, tk := range list.Tokens {
		if tk.ID == deploy.ID && (!tk.Revoked || tk.RevokedAt == nil) {
			t.Fatalf("revoked token listed as %+v", tk)
		}
	}
}

// An admin required to change their password can do nothing else until
// they do: every other request is 403 password_change_required; the change
// clears it.
func TestRequirePasswordChange(t *testing.T) {
	e := newEnv(t)
	var a client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "alpha"}, &a)
	id, sess := e.signInAdmin(a.ID, "boss@alpha.test")
	base := fmt.Sprintf("/api/v1/tenants/%d", a.ID)
	e.want(200, sess, "GET", base, nil, nil)

	var out client.Admin
	e.want(200, e.tenantToken(a.ID), "POST", fmt.Sprintf("%s/admins/%d/password-change", base, id), nil, &out)
	if !out.PasswordChangeRequired {
		t.Fatalf("answer %+v", out)
	}
	body := e.want(403, sess, "GET", base, nil, nil)
	if !strings.Contains(body, "password_change_required") {
		t.Fatalf("refusal %s", body)
	}
	e.want(403, sess, "GET", base+"/connectors", nil, nil)
	// The change itself is let through (here refused for the wrong password, not the gate).
	e.want(401, sess, "PUT", "/api/v1/me/password", map[string]any{"current_password": "wrong wrong wrong", "new_password": "a brand new passphrase", "code": "000000"}, nil)

	var au struct{ Entries []client.AuditEntry }
	e.want(200, "op", "GET", "/api/v1/audit?action=admin.password.require_change", nil, &au)
	if len(au.Entries) != 1 || au.Entries[0].Target != fmt.Sprintf("admin:%d", id) {
		t.Fatalf("audit %+v", au.Entries)
	}
	if _, err := e.dir.SetAdminPassword(t.Context(), directory.By{}, id, "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	// The new password clears the requirement and, as every password
	// change does, ends the admin's sessions: whoever held one signs in again.
	if got, err := e.dir.Admin(t.Context(), id); err != nil || got.PasswordChangeRequired {
		t.Fatalf("after the change: %+v %v", got, err)
	}
	e.want(401, sess, "GET", base, nil, nil)
}

// Standings are every tenant's state for operators only: a tenant admin
// gets the 404 of an operator route; a blocked tenant and a restricted one
// show as such.
func TestStandings(t *testing.T) {
	e := newEnv(t)
	var a, b client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "alpha"}, &a)
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "beta"}, &b)
	e.want(404, e.tenantToken(a.ID), "GET", "/api/v1/standings", nil, nil)
	e.want(201, "op", "POST", fmt.Sprintf("/api/v1/tenants/%d/blocks", a.ID), map[string]any{"reason": "abuse report"}, nil)
	if _, _, err := e.blocks.Restrict(t.Context(), blocks.Restriction{TenantID: b.ID, Kind: blocks.KindSender, Subject: "x@beta.test", Reason: "spam", Rule: "r"}, "system"); err != nil {
		t.Fatal(err)
	}
	var out struct{ Standings []standingJSON }
	e.want(200, "op", "GET", "/api/v1/standings", nil, &out)
	got := map[string]standingJSON{}
	for _, s := range out.Standings {
		got[s.Name] = s
	}
	if got["alpha"].State != "blocked" || got["alpha"].Restrictions != 0 || got["beta"].State != "sending" || got["beta"].Restrictions != 1 {
		t.Fatalf("standings %+v", out.Standings)
	}
}
