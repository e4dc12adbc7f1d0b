package api

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Principal is who makes a request: an operator (the whole service) or an
// admin of one tenant.
type Principal struct {
	Name     string // for the audit log: "token:bootstrap", "token:ci", ...
	Operator bool
	TenantID int64
	AdminID  int64 // set for an admin's session (not for API tokens): it can step up with TOTP
	// UsedToken names an API token whose use is to be audited now ("token:7");
	// the directory marks at most one use a minute per token, and every
	// use from a new address.
	UsedToken string
	// MustChangePassword is set for the session of an admin who must set a
	// new password first: every other request is refused (see auth).
	MustChangePassword bool
}

// CanSee reports whether p may read or change tenant tid's objects.
func (p Principal) CanSee(tid int64) bool { return p.Operator || p.TenantID == tid }

type principalKey struct{}

func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func principalOf(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

// Authenticator turns a bearer token, used by a client at address from
// ("" if unknown), into a principal; the directory's API tokens implement
// it. ok is false for an unknown or revoked token.
type Authenticator func(ctx context.Context, token, from string) (p Principal, ok bool)

// authenticate resolves the bearer token: the bootstrap token from the data
// directory is an operator; any other goes to Options.Tokens.
func (s *Server) authenticate(r *http.Request) (Principal, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return Principal{}, false
	}
	if s.opts.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1 {
		return Principal{Name: "token:bootstrap", Operator: true}, true
	}
	if s.opts.Tokens != nil {
		from := ""
		if a := sourceAddr(r); a.IsValid() {
			from = a.String()
		}
		return s.opts.Tokens(r.Context(), tok, from)
	}
	return Principal{}, false
}

func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.authenticate(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
			return
		}
		r = r.WithContext(withPrincipal(r.Context(), p))
		if p.MustChangePassword && !allowedBeforePasswordChange(r) {
			writeError(w, http.StatusForbidden, "password_change_required",
				"your password must be changed before anything else: PUT /api/v1/me/password with the current password, the new one and a TOTP code")
			return
		}
		if p.UsedToken != "" {
			s.record(r, p.TenantID, "token.use", p.UsedToken, nil, map[string]string{"request": r.Method + " " + r.URL.Path})
		}
		h(w, r)
	}
}

// operatorOnly refuses tenant admins. It answers 404, not 403, for the same
// reason tenant scoping does: a tenant admin learns nothing about what lies
// outside its tenant.
func (s *Server) operatorOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !principalOf(r.Context()).Operator {
			writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
			return
		}
		h(w, r)
	}
}

// allowedBeforePasswordChange lists what the session of an admin who must
// change their password may still do: change it, and sign out (revoke a
// token, their session being one).
func allowedBeforePasswordChange(r *http.Request) bool {
	return (r.Method == http.MethodPut && r.URL.Path == "/api/v1/me/password") ||
		(r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/api/v1/tokens/"))
}
