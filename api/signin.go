package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tollgate-mail/tollgate/directory"
)

// Admin sign-in: the password, then the second factor, always. The first
// step answers with a short-lived ticket and what comes next: "enroll"
// (first sign-in: scan this QR code, then send a code) or "totp". The
// second step spends the ticket for a session token. Both steps share the
// directory's throttle, which holds across nodes.

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		// Code is an optional TOTP code: with it the sign-in is one
		// step, and only with it does the right password get past the
		// account's throttle (see directory.SignInFrom).
		Code string `json:"code"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	a, mfaDone, err := s.opts.Directory.SignInFrom(r.Context(), req.Email, req.Password, req.Code, sourceAddr(r), time.Now())
	if err != nil {
		s.recordSignInFailure(r, req.Email, err)
		s.fail(w, r, err)
		return
	}
	ticket, err := s.opts.Directory.StartSignIn(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if mfaDone || (a.TOTPEnabled && req.Code != "") {
		_, ticketID, err := s.opts.Directory.SignInTicket(r.Context(), ticket)
		if err == nil && !mfaDone {
			err = s.opts.Directory.CheckTOTP(r.Context(), a.ID, req.Code, time.Now())
			if err != nil {
				s.recordAuth(r, a.TenantID, "auth.signin.fail", a.Email, err)
			}
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.finishSignIn(w, r, ticketID, a, nil)
		return
	}
	if a.TOTPEnabled {
		writeJSON(w, http.StatusOK, map[string]any{"next": "totp", "ticket": ticket})
		return
	}
	enr, err := s.opts.Directory.BeginTOTP(r.Context(), a.ID, "Tollgate")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"next": "enroll", "ticket": ticket, "secret": enr.Secret,
		"otpauth_url": enr.URL, "qr_png": base64.StdEncoding.EncodeToString(enr.PNG)})
}

// ticketed is the ticket a second sign-in step carries from the first.
type ticketed struct {
	Ticket string `json:"ticket"`
}

func (t ticketed) ticket() string { return t.Ticket }

// ticketAdmin decodes a second step's body into req and answers whose
// sign-in its ticket continues (and the ticket's id); on false it has
// answered the failure.
func (s *Server) ticketAdmin(w http.ResponseWriter, r *http.Request, req interface{ ticket() string }) (directory.Admin, int64, bool) {
	if err := decode(w, r, req); err != nil {
		s.fail(w, r, err)
		return directory.Admin{}, 0, false
	}
	a, ticketID, err := s.opts.Directory.SignInTicket(r.Context(), req.ticket())
	if err != nil {
		s.fail(w, r, err)
		return directory.Admin{}, 0, false
	}
	return a, ticketID, true
}

// signInTOTP completes a sign-in with a TOTP code; on the first sign-in it
// confirms the enrolment and answers with the recovery codes, once.
func (s *Server) signInTOTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ticketed
		Code string `json:"code"`
	}
	a, ticketID, ok := s.ticketAdmin(w, r, &req)
	if !ok {
		return
	}
	var err error
	var recovery []string
	if a.TOTPEnabled {
		err = s.opts.Directory.CheckTOTP(r.Context(), a.ID, req.Code, time.Now())
	} else {
		recovery, err = s.opts.Directory.ConfirmTOTP(r.Context(), a.ID, req.Code, time.Now())
		if err == nil {
			s.recordAuth(r, a.TenantID, "auth.mfa.enroll", a.Email, nil)
		}
	}
	if err != nil {
		s.recordAuth(r, a.TenantID, "auth.signin.fail", a.Email, err)
		s.fail(w, r, err)
		return
	}
	s.finishSignIn(w, r, ticketID, a, recovery)
}

// signInRecovery completes a sign-in with a one-time recovery code.
func (s *Server) signInRecovery(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ticketed
		RecoveryCode string `json:"recovery_code"`
	}
	a, ticketID, ok := s.ticketAdmin(w, r, &req)
	if !ok {
		return
	}
	remaining, err := s.opts.Directory.UseRecoveryCode(r.Context(), a.ID, req.RecoveryCode)
	if err != nil {
		s.recordAuth(r, a.TenantID, "auth.signin.fail", a.Email, err)
		s.fail(w, r, err)
		return
	}
	s.recordAuth(r, a.TenantID, "auth.recovery_code.use", a.Email, fmt.Errorf("%d recovery codes left", remaining))
	s.finishSignIn(w, r, ticketID, a, nil)
}

func (s *Server) finishSignIn(w http.ResponseWriter, r *http.Request, ticketID int64, a directory.Admin, recovery []string) {
	tok, plain, err := s.opts.Directory.IssueSession(r.Context(), ticketID, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.recordAuth(r, a.TenantID, "auth.signin", a.Email, nil)
	out := map[string]any{"token": plain, "expires_at": tok.ExpiresAt, "admin": toAdmin(a)}
	if recovery != nil {
		out["recovery_codes"] = recovery
	}
	writeJSON(w, http.StatusOK, out)
}

// recordAuth appends a security event. The actor is the admin's email as
// typed; why says what failed (never a secret).
func (s *Server) recordAuth(r *http.Request, tenantID int64, action, email string, why error) {
	var after any
	if why != nil {
		reason := why.Error()
		if errors.Is(why, directory.ErrThrottled) {
			reason = "throttled"
		} else if errors.Is(why, directory.ErrBadCredentials) {
			reason = "bad credentials"
		}
		after = map[string]string{"reason": reason}
	}
	ctx := r.Context()
	r = r.WithContext(withPrincipal(ctx, Principal{Name: "admin:" + truncateEmail(email)}))
	s.record(r, tenantID, action, "admin:"+truncateEmail(email), nil, after)
}

func truncateEmail(e string) string {
	if len(e) > 200 {
		return e[:200]
	}
	return e
}
