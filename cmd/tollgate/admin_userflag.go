package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// userFlag lets a command with an int64 --user flag take the user by
// address as well as by id: an admin knows ann@acme.example, not that she
// is user 5. It stands in front of the command's own flag and, once the
// tenant is known, looks the address up among that tenant's users.
type userFlag struct {
	orig    flag.Value
	address string
}

func (u *userFlag) String() string {
	if u == nil {
		return ""
	}
	return u.address
}

func (u *userFlag) Set(s string) error {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		u.address = ""
		return u.orig.Set(s)
	}
	if !strings.Contains(s, "@") {
		return fmt.Errorf("user %q: give the user's id or address", s)
	}
	u.address = s
	return nil
}

// userFlagOf installs the address form on fs's --user flag; nil when the
// command has no int64 --user flag.
func userFlagOf(fs *flag.FlagSet) *userFlag {
	f := fs.Lookup("user")
	if f == nil {
		return nil
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return nil
	}
	if _, isID := g.Get().(int64); !isID {
		return nil
	}
	u := &userFlag{orig: f.Value}
	f.Value = u
	f.Usage = "user `id or address` (see tollgate admin user list)"
	return u
}

// resolve sets the command's user id from an address, among the users of
// the tenant the command's --tenant (already resolved) names.
func (u *userFlag) resolve(c *adminClient, fs *flag.FlagSet) error {
	if u == nil || u.address == "" {
		return nil
	}
	tenant := int64(0)
	if f := fs.Lookup("tenant"); f != nil {
		if t, ok := f.Value.(*tenantFlag); ok && t.orig != nil {
			f = &flag.Flag{Value: t.orig}
		}
		if g, ok := f.Value.(flag.Getter); ok {
			tenant, _ = g.Get().(int64)
		}
	}
	if tenant <= 0 {
		return fmt.Errorf("--user %s: give --tenant NAME or ID too", u.address)
	}
	users, err := c.api.Users(c.ctx, tenant)
	if err != nil {
		return err
	}
	for _, usr := range users {
		if strings.EqualFold(usr.Address, u.address) {
			return u.orig.Set(strconv.FormatInt(usr.ID, 10))
		}
	}
	return fmt.Errorf("no user %q in tenant %d (see tollgate admin user list --tenant %d)", u.address, tenant, tenant)
}
