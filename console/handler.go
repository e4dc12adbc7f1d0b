package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// req is one request to a signed-in page: the admin's session, and on
// tenant pages the tenant as the API showed it to this admin.
type req struct {
	c      *Console
	w      http.ResponseWriter
	r      *http.Request
	s      session
	tenant *tenant
}

// handler serves a signed-in page. An error it returns becomes the page the
// admin sees: an API error with its status and message, anything else a 500
// whose details go to the log.
type handler func(q *req) error

// api calls the API as the signed-in admin.
func (q *req) api(method, path string, in, out any) error {
	return q.c.call(q.r.Context(), q.r, q.s.Token, method, path, in, out)
}

// tpath is a path under the current tenant's pages.
func (q *req) tpath(sub string) string { return tenantPath(q.tenant.ID, sub) }

// apiT is an /api/v1 path under the current tenant.
func (q *req) apiT(format string, a ...any) string {
	return fmt.Sprintf("/api/v1/tenants/%d", q.tenant.ID) + fmt.Sprintf(format, a...)
}

func (q *req) redirect(path string) error {
	http.Redirect(q.w, q.r, path, http.StatusSeeOther)
	return nil
}

// done redirects to path with a message for the next page.
func (q *req) done(path string, f flash) error {
	q.c.setFlash(q.w, q.r, f)
	return q.redirect(path)
}

// back reports a refused change on the page the form came from: an API
// answer such as 400 or 409 becomes an error message above the form. Other
// errors (a 401, a 500) are returned to be handled as on any page.
func (q *req) back(path string, err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status != http.StatusUnauthorized && ae.Status < 500 {
		return q.done(path, flash{Error: true, Text: ae.Message})
	}
	return err
}

func (q *req) render(status int, name, title, section string, data any) error {
	return q.c.render(q.w, q.r, status, name, view{Title: title, Me: &q.s, Tenant: q.tenant, Section: section,
		CSRF: csrfToken(q.s.Token), Flash: q.c.takeFlash(q.w, q.r), Data: data})
}

// maxForm bounds a posted form: the console's forms are small.
const maxForm = 64 << 10

// signed wraps a page that needs a signed-in admin: without a live session
// it sends the browser to sign in; a POST must carry the session's CSRF
// token.
func (c *Console) signed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.sessionOf(r)
		if !ok {
			c.sessionEnded(w, r)
			return
		}
		q := &req{c: c, w: w, r: r, s: s}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				c.errorPage(w, r, &s, http.StatusBadRequest, "The form could not be read: "+err.Error())
				return
			}
			if !checkCSRF(s.Token, r.PostForm.Get("csrf")) {
				c.errorPage(w, r, &s, http.StatusForbidden, "This form is stale or did not come from this console: reload the page and try again.")
				return
			}
		}
		c.run(q, h)
	}
}

// tenantPage wraps a page of one tenant, /console/t/{tenant}/…. The tenant
// comes from the API, so a tenant admin asking for another tenant's pages
// gets the API's 404, the same as for a tenant that does not exist.
func (c *Console) tenantPage(h handler) http.HandlerFunc {
	return c.signed(func(q *req) error {
		id, err := strconv.ParseInt(q.r.PathValue("tenant"), 10, 64)
		if err != nil || id <= 0 {
			return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such tenant: " + q.r.PathValue("tenant")}
		}
		var t tenant
		if err := q.api("GET", fmt.Sprintf("/api/v1/tenants/%d", id), nil, &t); err != nil {
			return err
		}
		q.tenant = &t
		return h(q)
	})
}

// operatorPage wraps an operator's page. The API would scope a tenant
// admin's answer to their own tenant anyway; the console answers 404, as
// the API does for operator routes, so the page does not pretend to be
// "all tenants".
func (c *Console) operatorPage(h handler) http.HandlerFunc {
	return c.signed(func(q *req) error {
		if !q.s.Operator {
			return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "There is no console page at " + q.r.URL.Path + "."}
		}
		return h(q)
	})
}

// run calls h and turns its error into a page.
func (c *Console) run(q *req, h handler) {
	err := h(q)
	if err == nil {
		return
	}
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		// The API no longer takes the token: expired or revoked.
		c.clearCookie(q.w, q.r, sessionCookie, Prefix)
		c.sessionEnded(q.w, q.r)
	case isCode(err, "password_change_required") && q.r.URL.Path != "/console/account":
		// Another admin required a new password: the account page is
		// the one thing this session may still use.
		c.setFlash(q.w, q.r, flash{Error: true, Text: "Your password must be changed before anything else (another admin of your tenant, or an operator, asked for it)."})
		http.Redirect(q.w, q.r, "/console/account", http.StatusSeeOther)
	case errors.As(err, &ae) && ae.Status < 500:
		c.errorPage(q.w, q.r, &q.s, ae.Status, ae.Message)
	case errors.Is(err, context.Canceled):
		// The browser went away; nobody to answer.
	default:
		c.opts.Logger.Error("console page failed", "method", q.r.Method, "path", q.r.URL.Path, "err", err)
		c.errorPage(q.w, q.r, &q.s, http.StatusInternalServerError, "Something went wrong on the server; its log has the details.")
	}
}

// sessionEnded sends the browser to the sign-in page, saying why when a
// session cookie was there (an expired or revoked session).
func (c *Console) sessionEnded(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(sessionCookie); err == nil {
		c.clearCookie(w, r, sessionCookie, Prefix)
		c.setFlash(w, r, flash{Error: true, Text: "Your session has ended (sessions last 12 hours, and end when you sign out). Sign in again."})
	}
	http.Redirect(w, r, signinPath, http.StatusSeeOther)
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	v := view{Title: http.StatusText(status), Me: s, Data: errorData{Status: status, Message: msg}}
	if s != nil {
		v.CSRF = csrfToken(s.Token)
	}
	c.render(w, r, status, "error.html", v)
}

type errorData struct {
	Status  int
	Message string
}

// home sends an admin to where their work is: operators to all tenants,
// tenant admins to their tenant's overview.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	s, ok := c.sessionOf(r)
	switch {
	case !ok:
		c.sessionEnded(w, r)
	case s.Operator:
		http.Redirect(w, r, Prefix+"tenants", http.StatusSeeOther)
	default:
		http.Redirect(w, r, tenantPath(s.TenantID, ""), http.StatusSeeOther)
	}
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	s, ok := c.sessionOf(r)
	sp := &s
	if !ok {
		sp = nil
	}
	c.errorPage(w, r, sp, http.StatusNotFound, "There is no console page at "+r.URL.Path+".")
}

func tenantPath(id int64, sub string) string {
	return fmt.Sprintf("%st/%d/%s", Prefix, id, sub)
}

// pathID parses a positive id from a path value, as a 404 if it is not one
// (ids go into API paths, so nothing else may pass).
func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("no such %s: %q", name, v)}
	}
	return id, nil
}
