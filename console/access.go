package console

import (
	"fmt"
	"net/http"

	"github.com/tollgate-mail/tollgate/client"
)

// The tenant's credentials pages: its admins (MFA, last sign-in, a forced
// password change, an MFA reset for operators) and its API tokens (who
// made each, when and from where it was last used, revoke). After a
// compromise these are where a stolen credential is found and ended.

// admin is the API's admin as the pages show it.
type admin = client.Admin

// apiToken is the API's token with what the console adds.
type apiToken struct {
	client.Token

	// Recent is set by the console: created or used in the last week, the
	// window the unblock checklist looks at.
	Recent bool `json:"-"`
}

func (c *Console) adminsPage(q *req) error {
	as, lv, err := listPage[admin](q, q.apiT("/admins"), "admins", "admins", adminSorts, "", nil)
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "admins.html", "Admins", "admins", adminsData{as, lv})
}

// requirePasswordChange makes an admin of the tenant set a new password
// before anything else (their open sessions included).
func (c *Console) requirePasswordChange(q *req) error {
	id, err := pathID(q.r, "admin")
	if err != nil {
		return err
	}
	var a admin
	if err := q.api("POST", q.apiT("/admins/%d/password-change", id), nil, &a); err != nil {
		return q.back(q.tpath("admins"), err)
	}
	return q.done(q.tpath("admins"), flash{ID: a.ID,
		Text: fmt.Sprintf("%s must change their password before doing anything else, in every session.", a.Email)})
}

// resetMFA clears an admin's authenticator (operators: the API refuses
// others): every session of theirs ends and they enrol again at sign-in.
func (c *Console) resetMFA(q *req) error {
	id, err := pathID(q.r, "admin")
	if err != nil {
		return err
	}
	as, err := q.tenantAdmins()
	if err != nil {
		return err
	}
	a, ok := as[id]
	if !ok {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("admin %d of tenant %d: not found", id, q.tenant.ID)}
	}
	if err := q.api("DELETE", fmt.Sprintf("/api/v1/admins/%d/mfa", id), nil, nil); err != nil {
		return q.back(q.tpath("admins"), err)
	}
	return q.done(q.tpath("admins"), flash{ID: id,
		Text: fmt.Sprintf("Cleared the authenticator of %s: their sessions ended, and they enrol a new one at the next sign-in.", a.Email)})
}

// tenantAdmins is the tenant's admins by id, so an operator's action on
// one names an admin of this tenant and not of another.
func (q *req) tenantAdmins() (map[int64]admin, error) {
	var as struct{ Admins []admin }
	if err := q.api("GET", q.apiT("/admins"), nil, &as); err != nil {
		return nil, err
	}
	out := make(map[int64]admin, len(as.Admins))
	for _, a := range as.Admins {
		out[a.ID] = a
	}
	return out, nil
}

// tokens lists the tenant's API tokens, live ones first, marking those
// created or used in the last week.
func (q *req) tokens() ([]apiToken, error) {
	var ts struct{ Tokens []apiToken }
	if err := q.api("GET", q.apiT("/tokens"), nil, &ts); err != nil {
		return nil, err
	}
	var live, gone []apiToken
	for _, t := range q.markRecent(ts.Tokens) {
		if t.Revoked {
			gone = append(gone, t)
		} else {
			live = append(live, t)
		}
	}
	return append(live, gone...), nil
}

// markRecent marks the live tokens created or used in the last week.
func (q *req) markRecent(ts []apiToken) []apiToken {
	now := q.c.opts.Now()
	for i, t := range ts {
		ts[i].Recent = !t.Revoked && (now.Sub(t.CreatedAt) < newFor || (t.LastUsed != nil && now.Sub(*t.LastUsed) < newFor))
	}
	return ts
}

// tokensData and adminsData are one page of their lists.
type tokensData struct {
	Rows []apiToken
	List listView
}

type adminsData struct {
	Rows []admin
	List listView
}

var (
	tokenSorts = []listSort{{"revoked", "State (live first)"}, {"name", "Name"}, {"created", "Created"},
		{"created_by", "Creator"}, {"last_used", "Last used"}}
	adminSorts = []listSort{{"email", "Email"}, {"mfa", "MFA (off first)"}, {"last_sign_in", "Last sign-in"},
		{"password_changed", "Password changed"}, {"created", "Created"}}
)

func (c *Console) tokensPage(q *req) error {
	ts, lv, err := listPage[apiToken](q, q.apiT("/tokens"), "tokens", "API tokens", tokenSorts, "revoked", nil)
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "tokens.html", "API tokens", "tokens", tokensData{q.markRecent(ts), lv})
}

// revokeToken ends one of the tenant's API tokens at once. The token is
// looked up among this tenant's first, so the id in the form cannot name
// another tenant's (the API would refuse it too).
func (c *Console) revokeToken(q *req) error {
	id, err := pathID(q.r, "token")
	if err != nil {
		return err
	}
	ts, err := q.tokens()
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.ID != id {
			continue
		}
		if err := q.api("DELETE", fmt.Sprintf("/api/v1/tokens/%d", id), nil, nil); err != nil {
			return q.back(q.tpath("tokens"), err)
		}
		return q.done(q.tpath("tokens"), flash{ID: id,
			Text: fmt.Sprintf("Revoked API token %s: it no longer authenticates anything. The revocation is in the audit log.", t.Name)})
	}
	return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("API token %d of tenant %d: not found", id, q.tenant.ID)}
}
