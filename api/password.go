package api

import (
	"net/http"
	"strings"
	"time"
)

// changeOwnPassword lets a signed-in admin replace their password. It
// takes the current password and a fresh TOTP code (a stolen session
// alone cannot lock the owner out), and ends every session of the admin,
// this one included: after a compromise, whoever held one is signed out.
// The unblock checklist's "every admin changed their password after the
// block" turns green through here.
func (s *Server) changeOwnPassword(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
		Code    string `json:"code"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	p := principalOf(r.Context())
	if p.AdminID == 0 {
		s.fail(w, r, &apiError{Status: http.StatusForbidden, Code: "step_up_required",
			Message: "changing a password needs the admin's own session (POST /api/v1/signin) and a fresh TOTP code, not an API token"})
		return
	}
	a, err := s.opts.Directory.Admin(r.Context(), p.AdminID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := time.Now()
	if _, err := s.opts.Directory.SignIn(r.Context(), a.Email, req.Current, now); err != nil {
		s.recordAuth(r, a.TenantID, "auth.password.fail", a.Email, err)
		s.fail(w, r, err)
		return
	}
	if err := s.opts.Directory.CheckTOTP(r.Context(), a.ID, req.Code, now); err != nil {
		s.recordAuth(r, a.TenantID, "auth.stepup.fail", a.Email, err)
		s.fail(w, r, err)
		return
	}
	if req.New == req.Current {
		s.fail(w, r, badField("new_password", "must differ from the current password"))
		return
	}
	n, err := s.opts.Directory.SetAdminPassword(r.Context(), s.by(r), a.ID, req.New)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions_ended": n, "message": "password changed; sign in again"})
}

// resetAdminMFA clears an admin's TOTP (operators): the admin enrols again
// at the next sign-in, and every session of theirs ends. For an admin who
// lost their authenticator and recovery codes, or whose MFA an attacker
// may have enrolled.
func (s *Server) resetAdminMFA(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "admin", "an admin id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.opts.Directory.Admin(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := s.opts.Directory.ResetTOTP(r.Context(), s.by(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"admin": strings.ToLower(a.Email), "sessions_ended": n,
		"message": "MFA cleared; the admin enrols a new authenticator at the next sign-in"})
}
