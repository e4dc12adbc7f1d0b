package console

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// routes is the console's page table. Every page is a GET; every change a
// POST from a form (with its CSRF token) that redirects to a GET.
func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static") // a constant path: cannot fail
	c.mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", filesOnly(static)))

	c.mux.HandleFunc("GET /console/{$}", c.home)
	c.mux.HandleFunc("GET /console/signin", c.signInForm)
	c.mux.HandleFunc("POST /console/signin", c.signIn)
	c.mux.HandleFunc("GET /console/signin/totp", c.totpForm)
	c.mux.HandleFunc("POST /console/signin/totp", c.signInTOTP)
	c.mux.HandleFunc("POST /console/signin/recovery", c.signInRecovery)
	c.mux.HandleFunc("GET /console/signin/qr.png", c.enrolQR)
	c.mux.HandleFunc("POST /console/signout", c.signed(c.signOut))

	// The signed-in admin's own account.
	c.mux.HandleFunc("GET /console/account", c.signed(c.account))
	c.mux.HandleFunc("POST /console/account/password", c.signed(c.changePassword))

	// Operators.
	c.mux.HandleFunc("GET /console/tenants", c.operatorPage(c.tenants))
	c.mux.HandleFunc("POST /console/tenants", c.operatorPage(c.createTenant))
	c.mux.HandleFunc("GET /console/audit", c.operatorPage(c.auditAll))

	// One tenant's pages: a tenant admin's own, or any for an operator.
	t := func(pattern string, h handler) { c.mux.HandleFunc(pattern, c.tenantPage(h)) }
	t("GET /console/t/{tenant}/{$}", c.overview)
	t("GET /console/t/{tenant}/domains", c.domains)
	t("POST /console/t/{tenant}/domains", c.addDomain)
	t("POST /console/t/{tenant}/domains/{domain}/verify", c.verifyDomain)
	t("POST /console/t/{tenant}/domains/{domain}/dkim/check", c.checkDKIM)
	t("POST /console/t/{tenant}/domains/{domain}/dkim/rotate", c.rotateDKIM)
	t("GET /console/t/{tenant}/users", c.users)
	t("POST /console/t/{tenant}/users", c.createUser)
	t("POST /console/t/{tenant}/users/{user}/disabled", c.setUserDisabled)
	t("POST /console/t/{tenant}/users/{user}/password", c.resetUserPassword)
	t("GET /console/t/{tenant}/users/{user}/app-passwords", c.appPasswords)
	t("POST /console/t/{tenant}/users/{user}/app-passwords", c.createAppPassword)
	t("POST /console/t/{tenant}/users/{user}/app-passwords/{app_password}/revoke", c.revokeAppPassword)
	t("GET /console/t/{tenant}/connectors", c.connectorsPage)
	t("POST /console/t/{tenant}/connectors", c.createConnector)
	t("GET /console/t/{tenant}/connectors/{connector}/delete", c.deleteConnectorForm)
	t("POST /console/t/{tenant}/connectors/{connector}/delete", c.deleteConnector)
	t("GET /console/t/{tenant}/connectors/{connector}/confirm", c.confirmConnectorForm)
	t("POST /console/t/{tenant}/connectors/{connector}/confirm", c.confirmConnector)
	t("GET /console/t/{tenant}/audit", c.auditTenant)
	t("GET /console/t/{tenant}/admins", c.adminsPage)
	t("POST /console/t/{tenant}/admins/{admin}/password-change", c.requirePasswordChange)
	t("POST /console/t/{tenant}/admins/{admin}/mfa-reset", c.resetMFA)
	t("GET /console/t/{tenant}/tokens", c.tokensPage)
	t("POST /console/t/{tenant}/tokens/{token}/revoke", c.revokeToken)
	c.protectionRoutes(t)
	c.eventWebhookRoutes(t)

	c.mux.HandleFunc("/console/", c.notFound)
}

// filesOnly serves the files of fsys and nothing else: a directory (with or
// without its trailing slash) is a 404, never a listing of what is there.
func filesOnly(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if fi, err := fs.Stat(fsys, name); err != nil || fi.IsDir() || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}
