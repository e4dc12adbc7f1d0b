package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/tollgate-mail/tollgate/directory"
)

// The tenant's credentials as its admins review them after a compromise:
// its API tokens (who made each, when and from where it was last used) and
// its admins (MFA, last sign-in), with a way to make an admin change a
// password that may have leaked.

// listTenantTokens lists a tenant's API tokens, revoked ones included, by
// id. Admins' sign-in sessions are not listed: they end by themselves and
// with a password change.
func (s *Server) listTenantTokens(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok {
		return
	}
	ts, err := s.opts.Directory.Tokens(r.Context(), directory.TokenScope{TenantID: t.ID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	api := ts[:0]
	for _, tok := range ts {
		if tok.Kind == directory.KindAPI {
			api = append(api, tok)
		}
	}
	pageList(s, w, r, "tokens", api, nil, toToken, tokenList)
}

// requirePasswordChange makes one of the tenant's admins set a new
// password before anything else. The admin's sessions stay but can only
// change the password (and sign out); a tenant admin may do this to any
// admin of the tenant, an operator to any tenant admin.
func (s *Server) requirePasswordChange(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("admin"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, badField("admin", "%q is not an admin id", r.PathValue("admin")))
		return
	}
	a, err := s.opts.Directory.Admin(r.Context(), id)
	if err == nil && a.TenantID != t.ID {
		// Another tenant's admin, or an operator: the same answer as for
		// none, so nothing is learnt about who exists elsewhere.
		err = fmt.Errorf("admin %d of tenant %d: %w", id, t.ID, directory.ErrNotFound)
	}
	if err == nil {
		err = s.opts.Directory.RequirePasswordChange(r.Context(), s.by(r), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	after := a
	after.PasswordChangeRequired = true
	writeJSON(w, http.StatusOK, toAdmin(after))
}
