package console

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/password"
)

// secretData is a page that shows a new secret once (a user's password, an
// app password): it is rendered in the answer to the form, never carried
// in a cookie or a URL, and the page is not cached.
type secretData struct {
	What, Secret, Back, BackLabel string
	// Note replaces the "kept only as a hash" line for a secret Tollgate
	// keeps (sealed), such as a webhook's signing secret.
	Note string
}

func (c *Console) users(q *req) error {
	us, lv, err := listPage[user](q, q.apiT("/users"), "users", "users", userSorts, "", nil)
	if err != nil {
		return err
	}
	rs, err := q.restrictions()
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "users.html", "Users", "users", usersData{Users: us, Restrictions: rs, List: lv})
}

// usersData is the users page: the users, and the live restrictions
// (restricted senders first, with the reason and a release button).
type usersData struct {
	Users        []user
	Restrictions []client.Restriction
	List         listView
}

var userSorts = []listSort{{"address", "Address"}, {"created", "Created"}, {"disabled", "Sign-in"}}

// createUser adds a user. With the password left empty the console
// generates one and shows it once.
func (c *Console) createUser(q *req) error {
	addr := strings.TrimSpace(q.r.PostForm.Get("address"))
	pw := q.r.PostForm.Get("password")
	generated := pw == ""
	if generated {
		pw = password.Random(20)
	}
	var u user
	if err := q.api("POST", q.apiT("/users"), map[string]string{"address": addr, "password": pw}, &u); err != nil {
		return q.back(q.tpath("users"), err)
	}
	if !generated {
		return q.done(q.tpath("users"), flash{ID: u.ID, Text: "Added user " + u.Address + "."})
	}
	return q.render(http.StatusCreated, "secret.html", "New user", "users", secretData{
		What: "The password of " + u.Address, Secret: pw, Back: q.tpath("users"), BackLabel: "Back to users"})
}

// findUser resolves {user} among the tenant's users (the API has no
// single-user read; the list is scoped the same way).
func (q *req) findUser() (user, error) {
	id, err := pathID(q.r, "user")
	if err != nil {
		return user{}, err
	}
	var us struct{ Users []user }
	if err := q.api("GET", q.apiT("/users"), nil, &us); err != nil {
		return user{}, err
	}
	for _, u := range us.Users {
		if u.ID == id {
			return u, nil
		}
	}
	return user{}, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("user %d of tenant %d: not found", id, q.tenant.ID)}
}

// setUserDisabled stops or restores a user's SMTP sign-in.
func (c *Console) setUserDisabled(q *req) error {
	u, err := q.findUser()
	if err != nil {
		return err
	}
	disable := q.r.PostForm.Get("disabled") == "true"
	if err := q.api("PUT", q.apiT("/users/%d/disabled", u.ID), map[string]bool{"disabled": disable}, nil); err != nil {
		return q.back(q.tpath("users"), err)
	}
	what := "can sign in to send mail again"
	if disable {
		what = "can no longer sign in to send mail (app passwords included)"
	}
	return q.done(q.tpath("users"), flash{ID: u.ID, Text: u.Address + " " + what + "."})
}

// resetUserPassword gives a user a new generated password, shown once.
func (c *Console) resetUserPassword(q *req) error {
	u, err := q.findUser()
	if err != nil {
		return err
	}
	pw := password.Random(20)
	if err := q.api("PUT", q.apiT("/users/%d/password", u.ID), map[string]string{"password": pw}, nil); err != nil {
		return q.back(q.tpath("users"), err)
	}
	return q.render(http.StatusOK, "secret.html", "New password", "users", secretData{
		What: "The new password of " + u.Address, Secret: pw, Back: q.tpath("users"), BackLabel: "Back to users"})
}

type appPasswordsData struct {
	User         user
	AppPasswords []appPassword
}

func (c *Console) appPasswords(q *req) error {
	u, err := q.findUser()
	if err != nil {
		return err
	}
	var ap struct {
		AppPasswords []appPassword `json:"app_passwords"`
	}
	if err := q.api("GET", q.apiT("/users/%d/app-passwords", u.ID), nil, &ap); err != nil {
		return err
	}
	return q.render(http.StatusOK, "apppasswords.html", "App passwords of "+u.Address, "users", appPasswordsData{u, ap.AppPasswords})
}

func (c *Console) createAppPassword(q *req) error {
	u, err := q.findUser()
	if err != nil {
		return err
	}
	back := q.tpath(fmt.Sprintf("users/%d/app-passwords", u.ID))
	var ap appPassword
	if err := q.api("POST", q.apiT("/users/%d/app-passwords", u.ID), map[string]string{"name": strings.TrimSpace(q.r.PostForm.Get("name"))}, &ap); err != nil {
		return q.back(back, err)
	}
	return q.render(http.StatusCreated, "secret.html", "New app password", "users", secretData{
		What: fmt.Sprintf("App password %q of %s", ap.Name, u.Address), Secret: ap.Password, Back: back, BackLabel: "Back to app passwords"})
}

func (c *Console) revokeAppPassword(q *req) error {
	u, err := q.findUser()
	if err != nil {
		return err
	}
	id, err := pathID(q.r, "app_password")
	if err != nil {
		return err
	}
	back := q.tpath(fmt.Sprintf("users/%d/app-passwords", u.ID))
	if err := q.api("DELETE", q.apiT("/users/%d/app-passwords/%d", u.ID, id), nil, nil); err != nil {
		return q.back(back, err)
	}
	return q.done(back, flash{ID: id, Text: "Revoked the app password: it no longer signs in."})
}
