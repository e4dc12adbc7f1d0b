package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Cookies. The session cookie carries the API session token itself rather
// than a key into server-side state: any node of a fleet can serve any
// request, and revocation and the 12-hour expiry stay the API's job. The
// sign-in cookies live only on /console/signin for the five minutes a
// sign-in ticket is good for.
const (
	sessionCookie = "tg_session"
	preCookie     = "tg_pre"    // random; the CSRF secret before sign-in
	ticketCookie  = "tg_ticket" // the API's sign-in ticket, between the two steps
	enrolCookie   = "tg_enrol"  // the otpauth URL during first sign-in, for the QR code
	flashCookie   = "tg_flash"  // a one-shot message for the next page (post/redirect/get)
	signinPath    = Prefix + "signin"
	ticketTTL     = 5 * time.Minute
)

// session is a signed-in admin: the API token, and what the sign-in answer
// said about its owner (for the page header and the home page; the API
// decides what the token may do, whatever this says).
type session struct {
	Token    string    `json:"-"`
	Email    string    `json:"e"`
	Operator bool      `json:"o,omitempty"`
	TenantID int64     `json:"t,omitempty"`
	Expires  time.Time `json:"x"`
}

// tokenID is the API token's id ("tg_<id>_<secret>"), for signing out.
func (s session) tokenID() (int64, bool) {
	rest, ok := strings.CutPrefix(s.Token, "tg_")
	if !ok {
		return 0, false
	}
	num, _, _ := strings.Cut(rest, "_")
	id, err := strconv.ParseInt(num, 10, 64)
	return id, err == nil && id > 0
}

// encode is "<token>.<fields>.<mac>": the fields (who, which tenant, until
// when) are signed with the install's cookie key together with the token,
// so a browser (or whoever can plant a cookie in it) cannot change what the
// page header and home page believe about the session, nor move fields onto
// another token. The API still decides what the token may do.
func (s session) encode(key []byte) string {
	meta, _ := json.Marshal(s)
	v := s.Token + "." + base64.RawURLEncoding.EncodeToString(meta)
	return v + "." + sign(key, "session", v)
}

func decodeSession(key []byte, v string) (session, bool) {
	signed, mac, ok := cutLast(v, ".")
	if !ok || !verify(key, "session", signed, mac) {
		return session{}, false
	}
	tok, meta, ok := strings.Cut(signed, ".")
	if !ok || !strings.HasPrefix(tok, "tg_") {
		return session{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(meta)
	var s session
	if err != nil || json.Unmarshal(b, &s) != nil {
		return session{}, false
	}
	s.Token = tok
	return s, true
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// sign is the MAC of a cookie value: HMAC-SHA256 under the install's
// cookie key, with the cookie's purpose in it so one cookie's value and
// MAC cannot be replayed as another's.
func sign(key []byte, purpose, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("tollgate console cookie v1\x00" + purpose + "\x00" + value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func verify(key []byte, purpose, value, mac string) bool {
	return len(key) > 0 && hmac.Equal([]byte(sign(key, purpose, value)), []byte(mac))
}

// sessionOf reads the session cookie. A session past its expiry is gone
// here already; the API would refuse its token anyway.
func (c *Console) sessionOf(r *http.Request) (session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	s, ok := decodeSession(c.key, ck.Value)
	if !ok || !c.opts.Now().Before(s.Expires) {
		return session{}, false
	}
	return s, true
}

// csrfToken is the form token for a secret only the browser's HttpOnly
// cookie holds (the session token, or the pre-sign-in value): a page of
// another site can neither read the cookie nor compute the token. Being
// derived, it works on every node without server-side state.
func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("tollgate console csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func checkCSRF(secret, got string) bool {
	return secret != "" && hmac.Equal([]byte(csrfToken(secret)), []byte(got))
}

// preSecret returns the pre-sign-in CSRF secret, setting its cookie on the
// first visit.
func (c *Console) preSecret(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(preCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	c.setCookie(w, r, preCookie, v, Prefix, 0)
	return v
}

// setCookie sets an HttpOnly, SameSite=Strict cookie; maxAge 0 makes a
// browser-session cookie, a negative one deletes it.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge time.Duration) {
	ck := &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.opts.SecureCookies || r.TLS != nil}
	switch {
	case maxAge < 0:
		ck.MaxAge = -1
	case maxAge > 0:
		ck.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, ck)
}

func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	c.setCookie(w, r, name, "", path, -1)
}

// flash is a message carried to the next page in a short-lived cookie, so
// a form can redirect after it posts (reloading never posts twice) and the
// message cannot be forged with a link.
type flash struct {
	Error bool     `json:"err,omitempty"`
	Text  string   `json:"t"`
	Lines []string `json:"l,omitempty"`  // details: e.g. the TXT records DNS answered
	ID    int64    `json:"id,omitempty"` // the object just made, to highlight
}

func (c *Console) setFlash(w http.ResponseWriter, r *http.Request, f flash) {
	b, _ := json.Marshal(f)
	v := base64.RawURLEncoding.EncodeToString(b)
	c.setCookie(w, r, flashCookie, v+"."+sign(c.key, "flash", v), Prefix, time.Minute)
}

// takeFlash reads and clears the flash cookie.
func (c *Console) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	c.clearCookie(w, r, flashCookie, Prefix)
	v, mac, ok := strings.Cut(ck.Value, ".")
	if !ok || !verify(c.key, "flash", v, mac) {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	var f flash
	if err != nil || json.Unmarshal(b, &f) != nil || f.Text == "" {
		return nil
	}
	return &f
}
