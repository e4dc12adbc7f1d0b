package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/directory"
)

// DirectoryTokens authenticates the directory's API tokens.
func DirectoryTokens(d *directory.Directory) Authenticator {
	return func(ctx context.Context, tok, from string) (Principal, bool) {
		t, err := d.AuthenticateTokenFrom(ctx, tok, from)
		if err != nil {
			return Principal{}, false
		}
		p := Principal{Name: "token:" + t.Name, Operator: t.Scope.Operator, TenantID: t.Scope.TenantID}
		if t.Touched && t.Kind == directory.KindAPI {
			p.UsedToken = fmt.Sprintf("token:%d", t.ID)
		}
		if t.Kind == directory.KindSession {
			if a, err := d.Admin(ctx, t.AdminID); err == nil {
				p.Name, p.AdminID = "admin:"+a.Email, a.ID
				p.MustChangePassword = a.PasswordChangeRequired
			}
		}
		return p, true
	}
}

func toToken(t directory.Token) client.Token {
	j := client.Token{ID: t.ID, Name: t.Name, Operator: t.Scope.Operator, TenantID: t.Scope.TenantID,
		CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, Revoked: !t.RevokedAt.IsZero(), LastUsedFrom: t.LastUsedFrom, Kind: t.Kind}
	if !t.LastUsed.IsZero() {
		j.LastUsed = &t.LastUsed
	}
	if !t.RevokedAt.IsZero() {
		j.RevokedAt = &t.RevokedAt
	}
	return j
}

// scopeOf is the token scope a principal may see and grant: an operator any
// (it asks with ?tenant= or "tenant_id"), a tenant admin its own tenant.
func scopeOf(p Principal, tenantID int64) (directory.TokenScope, error) {
	switch {
	case p.Operator && tenantID == 0:
		return directory.TokenScope{Operator: true}, nil
	case p.CanSee(tenantID):
		return directory.TokenScope{TenantID: tenantID}, nil
	}
	return directory.TokenScope{}, fmt.Errorf("tenant %d: %w", tenantID, directory.ErrNotFound)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r.Context())
	tid := p.TenantID
	if v := r.URL.Query().Get("tenant"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			s.fail(w, r, badField("tenant", "%q is not a tenant id", v))
			return
		}
		tid = n
	}
	scope, err := scopeOf(p, tid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ts, err := s.opts.Directory.Tokens(r.Context(), scope)
	pageList(s, w, r, "tokens", ts, err, toToken, tokenList)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     string `json:"name"`
		TenantID int64  `json:"tenant_id"`
		Code     string `json:"code"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	p := principalOf(r.Context())
	if !p.Operator && req.TenantID == 0 {
		req.TenantID = p.TenantID
	}
	scope, err := scopeOf(p, req.TenantID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.stepUp(w, r, scope.TenantID, req.Code, "creating an API token") {
		return
	}
	t, secret, err := s.opts.Directory.CreateToken(r.Context(), s.by(r), req.Name, scope)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	j := toToken(t)
	j.Token = secret
	writeJSON(w, http.StatusCreated, j)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "token", "a token id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.opts.Directory.Token(r.Context(), id)
	if err == nil {
		p := principalOf(r.Context())
		if !(p.Operator || (!t.Scope.Operator && p.TenantID == t.Scope.TenantID)) {
			err = fmt.Errorf("token %d: %w", id, directory.ErrNotFound)
		}
	}
	if err == nil {
		err = s.opts.Directory.RevokeToken(r.Context(), s.by(r), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func toAppPassword(a directory.AppPassword) client.AppPassword {
	j := client.AppPassword{ID: a.ID, Name: a.Name, CreatedAt: a.CreatedAt, Revoked: !a.RevokedAt.IsZero()}
	if !a.LastUsed.IsZero() {
		j.LastUsed = &a.LastUsed
	}
	return j
}

// user resolves {tenant} and {user}: the user must belong to the tenant.
func (s *Server) user(w http.ResponseWriter, r *http.Request) (directory.Tenant, directory.User, bool) {
	t, ok := s.tenant(w, r)
	if !ok {
		return t, directory.User{}, false
	}
	id, err := pathID(r, "user", "a user id")
	if err != nil {
		s.fail(w, r, err)
		return t, directory.User{}, false
	}
	us, err := s.opts.Directory.Users(r.Context(), t.ID)
	if err != nil {
		s.fail(w, r, err)
		return t, directory.User{}, false
	}
	for _, u := range us {
		if u.ID == id {
			return t, u, true
		}
	}
	s.fail(w, r, fmt.Errorf("user %d of tenant %d: %w", id, t.ID, directory.ErrNotFound))
	return t, directory.User{}, false
}

func (s *Server) listAppPasswords(w http.ResponseWriter, r *http.Request) {
	listOfUser(s, w, r, "app_passwords", func(ctx context.Context, _ directory.Tenant, u directory.User) ([]directory.AppPassword, error) {
		return s.opts.Directory.AppPasswords(ctx, u.ID)
	}, toAppPassword)
}

func (s *Server) createAppPassword(w http.ResponseWriter, r *http.Request) {
	_, u, ok := s.user(w, r)
	if !ok {
		return
	}
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	a, secret, err := s.opts.Directory.CreateAppPassword(r.Context(), s.by(r), u.ID, req.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	j := toAppPassword(a)
	j.Password = secret
	writeJSON(w, http.StatusCreated, j)
}

func (s *Server) revokeAppPassword(w http.ResponseWriter, r *http.Request) {
	_, u, ok := s.user(w, r)
	if !ok {
		return
	}
	id, err := pathID(r, "app_password", "an id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.opts.Directory.RevokeAppPassword(r.Context(), s.by(r), u.ID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func toAdmin(a directory.Admin) client.Admin {
	j := client.Admin{ID: a.ID, Email: a.Email, Role: string(a.Role), TenantID: a.TenantID, TOTPEnabled: a.TOTPEnabled,
		CreatedAt: a.CreatedAt, PasswordChangedAt: a.PasswordChangedAt, PasswordChangeRequired: a.PasswordChangeRequired}
	if !a.LastSignIn.IsZero() {
		j.LastSignIn = &a.LastSignIn
	}
	return j
}

func (s *Server) listAdmins(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok {
		return
	}
	as, err := s.opts.Directory.Admins(r.Context(), t.ID)
	pageList(s, w, r, "admins", as, err, toAdmin, adminList)
}

// createAdmin adds a tenant admin. The new admin enrols TOTP at first
// sign-in; until then the account cannot pass the second factor. A tenant
// admin may add admins only at the tenant's verified accepted domains, and
// learns of a taken email only that it cannot be used: "exists" would tell
// it which addresses are admins of other tenants. Operators may use any
// address and are told what the conflict is.
func (s *Server) createAdmin(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok {
		return
	}
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.stepUp(w, r, t.ID, req.Code, "adding an admin") {
		return
	}
	p := principalOf(r.Context())
	var a directory.Admin
	var err error
	if p.Operator {
		a, err = s.opts.Directory.CreateAdmin(r.Context(), s.by(r), t.ID, req.Email, req.Password, directory.TenantAdmin)
	} else {
		a, err = s.opts.Directory.CreateAdminAtOwnDomain(r.Context(), s.by(r), t.ID, req.Email, req.Password)
	}
	if errors.Is(err, directory.ErrConflict) && !p.Operator {
		err = &apiError{Status: http.StatusConflict, Code: "conflict", Field: "email",
			Message: "email: this address cannot be used for a new admin; choose another"}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toAdmin(a))
}

// listOperators lists the operator admins (operators only).
func (s *Server) listOperators(w http.ResponseWriter, r *http.Request) {
	as, err := s.opts.Directory.Admins(r.Context(), 0)
	pageList(s, w, r, "operators", as, err, toAdmin, adminList)
}

// createOperator adds an operator admin (operators only): the bootstrap
// token makes the first, who then signs in with password and TOTP.
func (s *Server) createOperator(w http.ResponseWriter, r *http.Request) {
	var req client.AdminCreate
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.opts.Directory.CreateAdmin(r.Context(), s.by(r), 0, req.Email, req.Password, directory.Operator)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toAdmin(a))
}

// setUserPassword replaces a user's SMTP password.
func (s *Server) setUserPassword(w http.ResponseWriter, r *http.Request) {
	_, u, ok := s.user(w, r)
	if !ok {
		return
	}
	var req struct {
		Password string `json:"password"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.opts.Directory.SetPassword(r.Context(), s.by(r), u.ID, req.Password); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// setUserDisabled stops (or restores) a user's SMTP sign-in, app passwords
// included.
func (s *Server) setUserDisabled(w http.ResponseWriter, r *http.Request) {
	_, u, ok := s.user(w, r)
	if !ok {
		return
	}
	var req struct {
		Disabled *bool `json:"disabled"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Disabled == nil {
		s.fail(w, r, badField("disabled", "give true or false"))
		return
	}
	if err := s.opts.Directory.SetUserDisabled(r.Context(), s.by(r), u.ID, *req.Disabled); err != nil {
		s.fail(w, r, err)
		return
	}
	after := u
	after.Disabled = *req.Disabled
	writeJSON(w, http.StatusOK, toUser(after))
}

// stepUp asks a signed-in admin's session for a fresh TOTP code before a
// change that outlives the session (a new API token, a new admin): a
// stolen session cookie must not turn into lasting access. API tokens are
// not sessions and are not asked (they already are lasting access).
func (s *Server) stepUp(w http.ResponseWriter, r *http.Request, tenantID int64, code, what string) bool {
	p := principalOf(r.Context())
	if p.AdminID == 0 {
		return true
	}
	if strings.TrimSpace(code) == "" {
		s.fail(w, r, &apiError{Status: http.StatusForbidden, Code: "step_up_required",
			Message: what + " from a signed-in session needs a fresh TOTP code: add \"code\" to the request"})
		return false
	}
	if err := s.opts.Directory.CheckTOTP(r.Context(), p.AdminID, code, time.Now()); err != nil {
		s.recordAuth(r, tenantID, "auth.stepup.fail", strings.TrimPrefix(p.Name, "admin:"), err)
		s.fail(w, r, err)
		return false
	}
	return true
}
