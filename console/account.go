package console

import (
	"errors"
	"net/http"
)

// account is the signed-in admin's own page: change the password. It is
// what the unblock checklist's "every admin changed their password after
// the block" asks of a tenant's admins.
func (c *Console) account(q *req) error {
	return q.render(http.StatusOK, "account.html", "Your account", "account", nil)
}

// changePassword asks the API to replace the password, with the current
// password and a fresh TOTP code. The API ends every session of the
// admin, this one included, so the browser goes to sign in again.
func (c *Console) changePassword(q *req) error {
	f := q.r.PostForm
	if f.Get("new_password") != f.Get("new_password_again") {
		return q.done("/console/account", flash{Error: true, Text: "The two new passwords differ: type the same one twice."})
	}
	body := map[string]string{"current_password": f.Get("current_password"), "new_password": f.Get("new_password"), "code": f.Get("code")}
	if err := q.api("PUT", "/api/v1/me/password", body, nil); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Code == "bad_credentials" {
			// A 401 here is the current password or the code, not the
			// session: say so instead of signing the admin out.
			return q.done("/console/account", flash{Error: true,
				Text: "The current password or the authenticator code is wrong (a code works once: wait for the next one)."})
		}
		return q.back("/console/account", err)
	}
	c.clearCookie(q.w, q.r, sessionCookie, Prefix)
	c.setFlash(q.w, q.r, flash{Text: "Your password was changed and every session of yours has ended. Sign in with the new password."})
	http.Redirect(q.w, q.r, signinPath, http.StatusSeeOther)
	return nil
}
