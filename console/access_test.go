package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/directory"
)

// The tokens and admins pages: a tenant admin sees the tenant's API tokens
// with creator and the address of their last use, and revokes one; another
// tenant's admin gets a 404 for those pages and cannot revoke the token,
// whatever path it posts to.
func TestConsoleTokensAndAdminsIsolation(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ctx := context.Background()
	tok, plain, err := g.Directory.CreateToken(ctx, directory.By{Actor: "admin:boss@alpha.test"}, "deploy-bot", directory.TokenScope{TenantID: f.alpha.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Directory.AuthenticateTokenFrom(ctx, plain, "198.51.100.23"); err != nil {
		t.Fatal(err)
	}
	alphaTokens := fmt.Sprintf("/console/t/%d/tokens", f.alpha.ID)
	alphaAdmins := fmt.Sprintf("/console/t/%d/admins", f.alpha.ID)

	beta := newClient(t, baseURL(g))
	beta.signInHTTP(f.betaAdmin)
	for _, p := range []string{alphaTokens, alphaAdmins} {
		if resp, page := beta.get(p); resp.StatusCode != http.StatusNotFound || strings.Contains(page, "deploy-bot") || strings.Contains(page, f.alphaAdmin.email) {
			t.Fatalf("beta's admin GET %s: %d", p, resp.StatusCode)
		}
	}
	_, own := beta.get(fmt.Sprintf("/console/t/%d/tokens", f.beta.ID))
	if strings.Contains(own, "deploy-bot") {
		t.Fatal("beta's tokens page lists alpha's token")
	}
	csrf := csrfOf(t, own)
	for _, p := range []string{
		fmt.Sprintf("%s/%d/revoke", alphaTokens, tok.ID),
		fmt.Sprintf("/console/t/%d/tokens/%d/revoke", f.beta.ID, tok.ID),
	} {
		if resp, _ := beta.post(p, url.Values{"csrf": {csrf}}, beta.base); resp.StatusCode != http.StatusNotFound {
			t.Errorf("beta's admin POST %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if got, err := g.Directory.Token(ctx, tok.ID); err != nil || !got.Live() {
		t.Fatalf("alpha's token after beta's attempts: %+v %v", got, err)
	}

	alpha := newClient(t, baseURL(g))
	alpha.signInHTTP(f.alphaAdmin)
	resp, page := alpha.get(alphaTokens)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", alphaTokens, resp.StatusCode)
	}
	for _, want := range []string{"deploy-bot", "by admin:boss@alpha.test", "198.51.100.23", "★ recent"} {
		if !strings.Contains(page, want) {
			t.Errorf("tokens page lacks %q", want)
		}
	}
	resp, _ = alpha.post(fmt.Sprintf("%s/%d/revoke", alphaTokens, tok.ID), url.Values{"csrf": {csrfOf(t, page)}}, alpha.base)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if got, _ := g.Directory.Token(ctx, tok.ID); got.Live() {
		t.Fatal("the token is still live after the revoke")
	}
	if _, page = alpha.get(alphaTokens); !strings.Contains(page, "✕ revoked") {
		t.Error("tokens page does not show the revocation")
	}

	_, page = alpha.get(alphaAdmins)
	for _, want := range []string{f.alphaAdmin.email, "✓ on", "Require a new password"} {
		if !strings.Contains(page, want) {
			t.Errorf("admins page lacks %q", want)
		}
	}
	if strings.Contains(page, "Reset MFA") {
		t.Error("a tenant admin is offered the operator's MFA reset")
	}

	// The operator resets alpha's admin's MFA from the same page.
	ops := newClient(t, baseURL(g))
	ops.signInHTTP(f.operator)
	_, page = ops.get(alphaAdmins)
	as, _ := g.Directory.Admins(ctx, f.alpha.ID)
	if !strings.Contains(page, fmt.Sprintf(`id="reset-mfa-%d"`, as[0].ID)) {
		t.Fatal("the operator is not offered the MFA reset")
	}
	// Through beta's path the admin is not found: the reset stays within the tenant shown.
	if resp, _ := ops.post(fmt.Sprintf("/console/t/%d/admins/%d/mfa-reset", f.beta.ID, as[0].ID), url.Values{"csrf": {csrfOf(t, page)}}, ops.base); resp.StatusCode != http.StatusNotFound {
		t.Errorf("MFA reset through another tenant's path: %d", resp.StatusCode)
	}
	if resp, _ := ops.post(fmt.Sprintf("%s/%d/mfa-reset", alphaAdmins, as[0].ID), url.Values{"csrf": {csrfOf(t, page)}}, ops.base); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("MFA reset: %d", resp.StatusCode)
	}
	if a, _ := g.Directory.Admin(ctx, as[0].ID); a.TOTPEnabled {
		t.Fatal("MFA still on after the reset")
	}
}

// An admin required to change their password is sent to the account page
// from every other page until they do.
func TestConsoleRequirePasswordChange(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	alpha := newClient(t, baseURL(g))
	alpha.signInHTTP(f.alphaAdmin)
	admins := fmt.Sprintf("/console/t/%d/admins", f.alpha.ID)
	_, page := alpha.get(admins)
	as, err := g.Directory.Admins(context.Background(), f.alpha.ID)
	if err != nil || len(as) != 1 {
		t.Fatal(as, err)
	}
	resp, _ := alpha.post(fmt.Sprintf("%s/%d/password-change", admins, as[0].ID), url.Values{"csrf": {csrfOf(t, page)}}, alpha.base)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("require a password change: %d", resp.StatusCode)
	}
	resp, _ = alpha.get(fmt.Sprintf("/console/t/%d/connectors", f.alpha.ID))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/account" {
		t.Fatalf("connectors page for an admin who must change the password: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, page := alpha.get("/console/account"); resp.StatusCode != 200 || !strings.Contains(page, "must be changed") {
		t.Fatalf("account page: %d", resp.StatusCode)
	}
}
