package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/tollgate-mail/tollgate/client"
)

// The access commands: API tokens, app passwords, tenant admins.
func init() {
	userFlags := func(fs *flag.FlagSet) any {
		return &userRef{tenant: fs.Int64("tenant", 0, "tenant `id`"), user: fs.Int64("user", 0, "user `id` (see tollgate admin user list)")}
	}
	adminCommands = append(adminCommands,
		adminCommand{"token list", "", "list API tokens (operators: operator tokens, or a tenant's with --tenant); --q searches names, creators, source addresses", func(fs *flag.FlagSet) any {
			return &tokenListOpts{tenant: fs.Int64("tenant", 0, "list this tenant's tokens"),
				search: addListSearch(fs, "name", "created", "created_by", "last_used", "revoked")}
		}, (*adminClient).tokens},
		adminCommand{"token create", "NAME", "create an API token; the secret is printed once", func(fs *flag.FlagSet) any {
			return fs.Int64("tenant", 0, "scope it to this tenant (default for operators: the operator role)")
		}, (*adminClient).tokenCreate},
		adminCommand{"token revoke", "ID", "revoke an API token; it stops working at once", nil, (*adminClient).tokenRevoke},
		adminCommand{"app-password list", "", "list a user's app passwords", userFlags, (*adminClient).appPasswords},
		adminCommand{"app-password create", "NAME", "create an app password for a user; printed once", userFlags, (*adminClient).appPasswordCreate},
		adminCommand{"app-password revoke", "ID", "revoke one app password; the user's other credentials keep working", userFlags, (*adminClient).appPasswordRevoke},
		adminCommand{"user password", "", "replace a user's SMTP password (read from standard input, or generated and printed)", userFlags, (*adminClient).userPassword},
		adminCommand{"user disable", "", "disable a user's SMTP sign-in (app passwords too); --enable undoes it", func(fs *flag.FlagSet) any {
			return &userToggle{userRef: userRef{tenant: fs.Int64("tenant", 0, "tenant `id`"), user: fs.Int64("user", 0, "user `id`")}, enable: fs.Bool("enable", false, "enable instead")}
		}, (*adminClient).userDisable},
		adminCommand{"admin list", "", "list a tenant's admins", func(fs *flag.FlagSet) any { return fs.Int64("tenant", 0, "tenant `id`") }, (*adminClient).admins},
		adminCommand{"admin create", "EMAIL", "add a tenant admin; the password is read from standard input or generated and printed", func(fs *flag.FlagSet) any {
			return &userOpts{tenant: fs.Int64("tenant", 0, "tenant `id`"), stdin: fs.Bool("password-stdin", false, "read the password from the first line of standard input")}
		}, (*adminClient).adminCreate},
	)
}

type userRef struct{ tenant, user *int64 }

func (u *userRef) path() (string, error) {
	base, err := tenantPath(u.tenant)
	if err != nil {
		return "", err
	}
	if *u.user <= 0 {
		return "", errors.New("give --user ID (see tollgate admin user list)")
	}
	return fmt.Sprintf("%s/users/%d/app-passwords", base, *u.user), nil
}

type tokenRow = client.Token

func scopeName(operator bool, tenant int64) string {
	if operator {
		return "operator"
	}
	return fmt.Sprintf("tenant %d", tenant)
}

// tokenListOpts is token list's flags.
type tokenListOpts struct {
	tenant *int64
	search *listSearch
}

func (c *adminClient) tokens(o any, _ []string) error {
	opts := o.(*tokenListOpts)
	v := url.Values{}
	if t := *opts.tenant; t > 0 {
		v.Set("tenant", strconv.FormatInt(t, 10))
	}
	var r struct {
		Tokens []tokenRow
		Total  int
	}
	if err := c.get("/api/v1/tokens"+opts.search.query(v), &r); err != nil {
		return printed(err)
	}
	defer opts.search.footer(c, len(r.Tokens), r.Total, "tokens")
	tw := c.table("ID\tNAME\tSCOPE\tCREATED BY\tCREATED\tLAST USED\tSTATE")
	for _, t := range r.Tokens {
		last, state := "-", "live"
		if t.LastUsed != nil {
			last = when(*t.LastUsed)
		}
		if t.Revoked {
			state = "revoked"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, scopeName(t.Operator, t.TenantID), t.CreatedBy, when(t.CreatedAt), last, state)
	}
	return tw.Flush()
}

func (c *adminClient) tokenCreate(o any, args []string) error {
	name, err := oneArg(args, "token NAME")
	if err != nil {
		return err
	}
	var t tokenRow
	if err := c.do("POST", "/api/v1/tokens", map[string]any{"name": name, "tenant_id": *o.(*int64)}, &t); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "created token %d %q for %s. The secret, shown once:\n\n  %s\n", t.ID, t.Name, scopeName(t.Operator, t.TenantID), t.Token)
	return nil
}

func (c *adminClient) tokenRevoke(_ any, args []string) error {
	id, err := oneArg(args, "token ID")
	if err != nil {
		return err
	}
	if err := c.do("DELETE", "/api/v1/tokens/"+id, nil, nil); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "revoked token %s\n", id)
	return nil
}

func (c *adminClient) appPasswords(o any, _ []string) error {
	path, err := o.(*userRef).path()
	if err != nil {
		return err
	}
	items, err := getList[client.AppPassword](c, path, "app_passwords")
	if err != nil {
		return printed(err)
	}
	tw := c.table("ID\tNAME\tCREATED\tLAST USED\tSTATE")
	for _, a := range items {
		last, state := "-", "live"
		if a.LastUsed != nil {
			last = when(*a.LastUsed)
		}
		if a.Revoked {
			state = "revoked"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", a.ID, a.Name, when(a.CreatedAt), last, state)
	}
	return tw.Flush()
}

func (c *adminClient) appPasswordCreate(o any, args []string) error {
	path, err := o.(*userRef).path()
	if err != nil {
		return err
	}
	name, err := oneArg(args, "app password NAME")
	if err != nil {
		return err
	}
	var a client.AppPassword
	if err := c.do("POST", path, map[string]any{"name": name}, &a); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "created app password %d %q. Use it as the SMTP password; shown once:\n\n  %s\n", a.ID, name, a.Password)
	return nil
}

func (c *adminClient) appPasswordRevoke(o any, args []string) error {
	path, err := o.(*userRef).path()
	if err != nil {
		return err
	}
	id, err := oneArg(args, "app password ID")
	if err != nil {
		return err
	}
	if err := c.do("DELETE", path+"/"+id, nil, nil); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "revoked app password %s\n", id)
	return nil
}

func (c *adminClient) admins(o any, _ []string) error {
	items, err := getTenantList[client.Admin](c, o.(*int64), "/admins", "admins")
	if err != nil {
		return printed(err)
	}
	tw := c.table("ID\tEMAIL\tROLE\tTOTP\tCREATED")
	for _, a := range items {
		totp := "not enrolled"
		if a.TOTPEnabled {
			totp = "enrolled"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", a.ID, a.Email, a.Role, totp, when(a.CreatedAt))
	}
	return tw.Flush()
}

func (c *adminClient) adminCreate(o any, args []string) error {
	opts := o.(*userOpts)
	base, err := tenantPath(opts.tenant)
	if err != nil {
		return err
	}
	email, err := oneArg(args, "admin EMAIL")
	if err != nil {
		return err
	}
	pw, generated, err := c.newPassword(*opts.stdin)
	if err != nil {
		return err
	}
	if err := c.do("POST", base+"/admins", map[string]any{"email": email, "password": pw}, nil); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "added admin %s; TOTP is enrolled at first sign-in\n", email)
	if generated {
		fmt.Fprintf(c.out, "password (shown once): %s\n", pw)
	}
	return nil
}

type userToggle struct {
	userRef
	enable *bool
}

func (u *userRef) userPath() (string, error) {
	p, err := u.path()
	return strings.TrimSuffix(p, "/app-passwords"), err
}

func (c *adminClient) userPassword(o any, _ []string) error {
	path, err := o.(*userRef).userPath()
	if err != nil {
		return err
	}
	fi, err := os.Stdin.Stat()
	pw, generated, err := c.newPassword(err == nil && fi.Mode()&os.ModeCharDevice == 0) // piped in, or generated
	if err != nil {
		return err
	}
	if err := c.do("PUT", path+"/password", map[string]any{"password": pw}, nil); err != nil {
		return printed(err)
	}
	fmt.Fprintln(c.out, "password changed")
	if generated {
		fmt.Fprintf(c.out, "new password (shown once): %s\n", pw)
	}
	return nil
}

func (c *adminClient) userDisable(o any, _ []string) error {
	opts := o.(*userToggle)
	path, err := opts.userPath()
	if err != nil {
		return err
	}
	if err := c.do("PUT", path+"/disabled", map[string]any{"disabled": !*opts.enable}, nil); err != nil {
		return printed(err)
	}
	if *opts.enable {
		fmt.Fprintln(c.out, "user enabled")
	} else {
		fmt.Fprintln(c.out, "user disabled: SMTP sign-in refused, app passwords included")
	}
	return nil
}
