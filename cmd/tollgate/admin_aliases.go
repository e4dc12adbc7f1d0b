package main

import (
	"flag"
	"fmt"

	"github.com/tollgate-mail/tollgate/client"
)

// The sender-binding commands: a tenant's binding of logins to their own
// address, and the aliases a user may send as besides its login.
func init() {
	userFlags := func(fs *flag.FlagSet) any {
		return &userRef{tenant: fs.Int64("tenant", 0, "tenant `id`"), user: fs.Int64("user", 0, "user `id` (see tollgate admin user list)")}
	}
	adminCommands = append(adminCommands,
		adminCommand{"tenant sender-binding", "off|login", "login: the tenant's SMTP AUTH users may send only as their login and aliases (550 5.7.60); off: as any address", func(fs *flag.FlagSet) any {
			return fs.Int64("tenant", 0, "tenant `id`")
		}, (*adminClient).senderBinding},
		adminCommand{"alias list", "", "list the addresses a user may send as besides its login", userFlags, (*adminClient).aliases},
		adminCommand{"alias add", "ADDRESS", "let a user send as ADDRESS (in one of the tenant's verified domains)", userFlags, (*adminClient).aliasAdd},
		adminCommand{"alias remove", "ID", "take an alias away from a user", userFlags, (*adminClient).aliasRemove},
	)
}

func (u *userRef) aliasPath() (string, error) {
	p, err := u.userPath()
	return p + "/aliases", err
}

func (c *adminClient) senderBinding(o any, args []string) error {
	base, err := tenantPath(o.(*int64))
	if err != nil {
		return err
	}
	mode, err := oneArg(args, "mode, off or login")
	if err != nil {
		return err
	}
	var t client.Tenant
	if err := c.do("PUT", base+"/sender-binding", map[string]any{"mode": mode}, &t); err != nil {
		return printed(err)
	}
	if t.SenderBinding == "login" {
		fmt.Fprintf(c.out, "tenant %s: SMTP AUTH users may send only as their login and its aliases\n", t.Name)
	} else {
		fmt.Fprintf(c.out, "tenant %s: SMTP AUTH users may send as any address (sender binding off)\n", t.Name)
	}
	return nil
}

func (c *adminClient) aliases(o any, _ []string) error {
	path, err := o.(*userRef).aliasPath()
	if err != nil {
		return err
	}
	items, err := getList[client.Alias](c, path, "aliases")
	if err != nil {
		return printed(err)
	}
	tw := c.table("ID\tADDRESS\tCREATED BY\tCREATED")
	for _, a := range items {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", a.ID, a.Address, a.CreatedBy, when(a.CreatedAt))
	}
	return tw.Flush()
}

func (c *adminClient) aliasAdd(o any, args []string) error {
	path, err := o.(*userRef).aliasPath()
	if err != nil {
		return err
	}
	address, err := oneArg(args, "ADDRESS")
	if err != nil {
		return err
	}
	var a client.Alias
	if err := c.do("POST", path, map[string]any{"address": address}, &a); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "added alias %d %s\n", a.ID, a.Address)
	return nil
}

func (c *adminClient) aliasRemove(o any, args []string) error {
	path, err := o.(*userRef).aliasPath()
	if err != nil {
		return err
	}
	id, err := oneArg(args, "alias ID")
	if err != nil {
		return err
	}
	if err := c.do("DELETE", path+"/"+id, nil, nil); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "removed alias %s\n", id)
	return nil
}
