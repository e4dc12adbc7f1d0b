package console

import (
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"time"

	"github.com/pquerna/otp"
)

// Sign-in: the API's two steps (POST /api/v1/signin, then
// /api/v1/signin/totp or /recovery) behind two forms. The sign-in ticket
// between them, and on the first sign-in the otpauth URL for the QR code,
// wait in cookies scoped to /console/signin that last as long as the ticket.

type signinData struct {
	Email   string
	Error   string
	Enrol   bool   // first sign-in: show the QR code and the secret
	Secret  string // the TOTP secret, for typing in by hand
	Restart bool   // the ticket is gone: offer to start again
}

func (c *Console) signInForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.sessionOf(r); ok {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	c.signinPage(w, r, http.StatusOK, "signin.html", signinData{})
}

func (c *Console) signinPage(w http.ResponseWriter, r *http.Request, status int, name string, d signinData) {
	c.render(w, r, status, name, view{Title: "Sign in", CSRF: csrfToken(c.preSecret(w, r)), Flash: c.takeFlash(w, r), Data: d})
}

// preForm reads a sign-in form and checks its CSRF token against the
// pre-sign-in cookie. On failure it has answered already.
func (c *Console) preForm(w http.ResponseWriter, r *http.Request, page string) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		c.signinPage(w, r, http.StatusBadRequest, page, signinData{Error: "The form could not be read: " + err.Error()})
		return false
	}
	ck, err := r.Cookie(preCookie)
	if err != nil || !checkCSRF(ck.Value, r.PostForm.Get("csrf")) {
		c.signinPage(w, r, http.StatusForbidden, "signin.html", signinData{Error: "This form is stale or did not come from this console: please try again."})
		return false
	}
	return true
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if !c.preForm(w, r, "signin.html") {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	var ans struct {
		Next       string `json:"next"`
		Ticket     string `json:"ticket"`
		OtpauthURL string `json:"otpauth_url"`
	}
	err := c.call(r.Context(), r, "", "POST", "/api/v1/signin", map[string]string{"email": email, "password": r.PostForm.Get("password")}, &ans)
	if err != nil {
		status, msg := signinFailure(err, "Wrong email or password.")
		c.signinPage(w, r, status, "signin.html", signinData{Email: email, Error: msg})
		if status == http.StatusInternalServerError {
			c.opts.Logger.Error("console sign-in failed", "err", err)
		}
		return
	}
	c.setCookie(w, r, ticketCookie, ans.Ticket, signinPath, ticketTTL)
	if ans.Next == "enroll" {
		c.setCookie(w, r, enrolCookie, ans.OtpauthURL, signinPath, ticketTTL)
	} else {
		c.clearCookie(w, r, enrolCookie, signinPath)
	}
	http.Redirect(w, r, signinPath+"/totp", http.StatusSeeOther)
}

// signinFailure words a failed sign-in step. The API's throttle (5 failures
// in 15 minutes per account, on every node) is surfaced as such, so an
// admin knows that waiting, not retyping, is what helps.
func signinFailure(err error, wrong string) (int, string) {
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests:
		return http.StatusTooManyRequests, "Too many failed sign-in attempts for this account. Sign-in is refused for up to 15 minutes, even with the right password and code; wait, then try again."
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		return http.StatusUnauthorized, wrong
	case errors.As(err, &ae) && ae.Status < 500:
		return ae.Status, ae.Message
	}
	return http.StatusInternalServerError, "Sign-in failed on the server; its log has the details."
}

// ticket returns the sign-in ticket and, on a first sign-in, the otpauth URL.
func ticket(r *http.Request) (tk, enrolURL string, ok bool) {
	ck, err := r.Cookie(ticketCookie)
	if err != nil || ck.Value == "" {
		return "", "", false
	}
	if e, err := r.Cookie(enrolCookie); err == nil {
		enrolURL = e.Value
	}
	return ck.Value, enrolURL, true
}

func (c *Console) totpForm(w http.ResponseWriter, r *http.Request) {
	c.totpPage(w, r, http.StatusOK, "")
}

func (c *Console) totpPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	_, enrol, ok := ticket(r)
	if !ok {
		c.setFlash(w, r, flash{Error: true, Text: "Your sign-in took longer than 5 minutes or was already used: start again."})
		http.Redirect(w, r, signinPath, http.StatusSeeOther)
		return
	}
	d := signinData{Error: msg}
	if enrol != "" {
		key, err := otp.NewKeyFromURL(enrol)
		if err == nil {
			d.Enrol, d.Secret = true, key.Secret()
		}
	}
	c.signinPage(w, r, status, "totp.html", d)
}

func (c *Console) signInTOTP(w http.ResponseWriter, r *http.Request) {
	c.secondFactor(w, r, "/api/v1/signin/totp", "code", "That code was not accepted. Codes change every 30 seconds and each works once: wait for the next one.")
}

func (c *Console) signInRecovery(w http.ResponseWriter, r *http.Request) {
	c.secondFactor(w, r, "/api/v1/signin/recovery", "recovery_code", "That recovery code was not accepted: each works once.")
}

// secondFactor spends the ticket with a TOTP or recovery code for a session.
func (c *Console) secondFactor(w http.ResponseWriter, r *http.Request, path, field, wrong string) {
	if !c.preForm(w, r, "totp.html") {
		return
	}
	tk, _, ok := ticket(r)
	if !ok {
		c.totpPage(w, r, http.StatusOK, "")
		return
	}
	var ans struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
		Admin     struct {
			Email    string `json:"email"`
			Role     string `json:"role"`
			TenantID int64  `json:"tenant_id"`
		} `json:"admin"`
		RecoveryCodes []string `json:"recovery_codes"`
	}
	code := strings.ReplaceAll(strings.TrimSpace(r.PostForm.Get(field)), " ", "")
	err := c.call(r.Context(), r, "", "POST", path, map[string]string{"ticket": tk, field: code}, &ans)
	if err != nil {
		status, msg := signinFailure(err, wrong)
		if status == http.StatusInternalServerError {
			c.opts.Logger.Error("console sign-in failed", "step", path, "err", err)
		}
		c.totpPage(w, r, status, msg)
		return
	}
	s := session{Token: ans.Token, Email: ans.Admin.Email, Operator: ans.Admin.Role == "operator",
		TenantID: ans.Admin.TenantID, Expires: ans.ExpiresAt}
	c.setCookie(w, r, sessionCookie, s.encode(c.key), Prefix, s.Expires.Sub(c.opts.Now()))
	c.clearCookie(w, r, ticketCookie, signinPath)
	c.clearCookie(w, r, enrolCookie, signinPath)
	if len(ans.RecoveryCodes) > 0 {
		// Shown once, now, and never stored by the console.
		c.render(w, r, http.StatusOK, "recovery.html", view{Title: "Your recovery codes", Me: &s, CSRF: csrfToken(s.Token),
			Data: ans.RecoveryCodes})
		return
	}
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

// enrolQR draws the enrolment QR code from the otpauth URL in the enrol
// cookie (only during a sign-in, next to its ticket).
func (c *Console) enrolQR(w http.ResponseWriter, r *http.Request) {
	_, enrol, ok := ticket(r)
	if !ok || enrol == "" {
		http.Error(w, "no TOTP enrolment in progress: sign in again", http.StatusNotFound)
		return
	}
	key, err := otp.NewKeyFromURL(enrol)
	if err != nil {
		http.Error(w, "the enrolment cookie is damaged: sign in again", http.StatusBadRequest)
		return
	}
	img, err := key.Image(240, 240)
	if err != nil {
		c.opts.Logger.Error("console: draw TOTP QR code", "err", err)
		http.Error(w, "could not draw the QR code; type the secret instead", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	if err := png.Encode(w, img); err != nil {
		c.opts.Logger.Warn("console: write TOTP QR code", "err", err)
	}
}

// signOut revokes the session token through the API, so the cookie is
// worthless even if it was copied, then forgets it.
func (c *Console) signOut(q *req) error {
	if id, ok := q.s.tokenID(); ok {
		err := q.api("DELETE", fmt.Sprintf("/api/v1/tokens/%d", id), nil, nil)
		if err != nil && !isStatus(err, http.StatusUnauthorized) && !isStatus(err, http.StatusNotFound) {
			return err
		}
	}
	c.clearCookie(q.w, q.r, sessionCookie, Prefix)
	c.setFlash(q.w, q.r, flash{Text: "You are signed out."})
	return q.redirect(signinPath)
}
