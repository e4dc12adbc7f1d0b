package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func init() {
	adminCommands = append(adminCommands,
		adminCommand{"password change", "", "change your own admin password: needs your session token (tollgate admin login) and a fresh TOTP code; reads the current and the new password, one per line, from standard input; ends every session of yours", func(fs *flag.FlagSet) any {
			return fs.String("code", "", "a fresh TOTP `code` from your authenticator")
		}, (*adminClient).passwordChange},
		adminCommand{"admin mfa-reset", "ADMIN_ID", "clear an admin's TOTP so they enrol again at the next sign-in, and end their sessions (operators)", nil, (*adminClient).adminMFAReset},
	)
}

func (c *adminClient) passwordChange(o any, args []string) error {
	code := strings.TrimSpace(*o.(*string))
	if code == "" {
		return errors.New("give --code: a fresh TOTP code from your authenticator")
	}
	if len(args) != 0 {
		return fmt.Errorf("unexpected argument %q: the passwords are read from standard input", args[0])
	}
	in := bufio.NewScanner(os.Stdin)
	var lines []string
	for len(lines) < 2 && in.Scan() {
		lines = append(lines, strings.TrimRight(in.Text(), "\r"))
	}
	if len(lines) < 2 || lines[0] == "" || lines[1] == "" {
		return errors.New("give the current password on the first line of standard input and the new one on the second")
	}
	var out struct {
		SessionsEnded int64 `json:"sessions_ended"`
	}
	if err := c.do("PUT", "/api/v1/me/password", map[string]any{"current_password": lines[0], "new_password": lines[1], "code": code}, &out); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "password changed; %d session(s) ended: sign in again\n", out.SessionsEnded)
	return nil
}

func (c *adminClient) adminMFAReset(_ any, args []string) error {
	arg, err := oneArg(args, "ADMIN_ID")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("admin id %q: give the number from tollgate admin admin list", arg)
	}
	var out struct {
		Admin         string `json:"admin"`
		SessionsEnded int64  `json:"sessions_ended"`
	}
	if err := c.do("DELETE", fmt.Sprintf("/api/v1/admins/%d/mfa", id), nil, &out); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "MFA of %s cleared; %d session(s) ended; they enrol a new authenticator at the next sign-in\n", out.Admin, out.SessionsEnded)
	return nil
}
