package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tollgate-mail/tollgate/client"
)

// Sign-in and operators from the CLI, so nobody needs curl: login signs an
// admin in (password, then TOTP, enrolling at the first sign-in) and keeps
// the session token in a 0600 file under the user's config directory, for
// this server only; later commands use it when no --token or
// $TOLLGATE_TOKEN is given.
func init() {
	adminCommands = append(adminCommands,
		adminCommand{"login", "EMAIL", "sign in as an admin or operator (the password, and the TOTP code when not given as --code, are read from standard input) and keep the session for this server", func(fs *flag.FlagSet) any {
			return &loginOpts{code: fs.String("code", "", "the TOTP `code` (else asked for)"), print: fs.Bool("print", false, "print the session token instead of storing it")}
		}, (*adminClient).login},
		adminCommand{"logout", "", "forget the session tollgate admin login kept for this server", nil, (*adminClient).logout},
		adminCommand{"operator list", "", "list the operators (operators); --q searches emails", func(fs *flag.FlagSet) any {
			return addListSearch(fs, "email", "created", "mfa", "last_sign_in", "password_changed")
		}, (*adminClient).operators},
		adminCommand{"operator create", "EMAIL", "add an operator; the password is read from standard input or generated and printed (operators)", func(fs *flag.FlagSet) any {
			return fs.Bool("password-stdin", false, "read the password from the first line of standard input")
		}, (*adminClient).operatorCreate},
	)
}

type loginOpts struct {
	code  *string
	print *bool
}

// session is what login keeps: the token and the server it belongs to.
type session struct {
	Server    string    `json:"server"`
	Token     string    `json:"token"`
	Email     string    `json:"email"`
	ExpiresAt time.Time `json:"expires_at"`
}

// sessionFile is where login keeps the session: tollgate/session.json in
// the user's config directory ($XDG_CONFIG_HOME, ~/.config on Linux).
func sessionFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory for the session: %w", err)
	}
	return filepath.Join(dir, "tollgate", "session.json"), nil
}

// storedToken is the kept session's token if it is for server and not
// expired, else "".
func storedToken(server string) string {
	path, err := sessionFile()
	if err != nil {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var s session
	if json.Unmarshal(b, &s) != nil || s.Server != server || (!s.ExpiresAt.IsZero() && time.Now().After(s.ExpiresAt)) {
		return ""
	}
	return s.Token
}

func (c *adminClient) login(o any, args []string) error {
	opts := o.(*loginOpts)
	email, err := oneArg(args, "admin EMAIL")
	if err != nil {
		return err
	}
	fmt.Fprint(os.Stderr, "password: ")
	pw, err := c.stdinLine()
	if err != nil {
		return err
	}
	api := client.New(c.server, "")
	step, sess, err := api.SignIn(c.ctx, client.SignIn{Email: email, Password: pw, Code: *opts.code})
	if err != nil {
		return err
	}
	if sess == nil {
		if step.Next == "enroll" {
			fmt.Fprintf(c.out, "First sign-in: add this secret to your authenticator app, then give its current code.\n  secret: %s\n  %s\n", step.Secret, step.OTPAuthURL)
		}
		code := *opts.code
		if code == "" || step.Next == "enroll" {
			fmt.Fprint(os.Stderr, "TOTP code: ")
			if code, err = c.stdinLine(); err != nil {
				return err
			}
		}
		s, err := api.SignInTOTP(c.ctx, step.Ticket, code)
		if err != nil {
			return err
		}
		sess = &s
	}
	if len(sess.RecoveryCodes) > 0 {
		fmt.Fprintln(c.out, "Recovery codes (shown once; keep them somewhere safe):")
		for _, rc := range sess.RecoveryCodes {
			fmt.Fprintln(c.out, "  "+rc)
		}
	}
	if *opts.print {
		fmt.Fprintln(c.out, sess.Token)
		return nil
	}
	path, err := sessionFile()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("keep the session: %w", err)
	}
	b, _ := json.Marshal(session{Server: c.server, Token: sess.Token, Email: sess.Admin.Email, ExpiresAt: sess.ExpiresAt})
	if err := writeFile0600(path, b); err != nil {
		return fmt.Errorf("keep the session: %w", err)
	}
	fmt.Fprintf(c.out, "signed in as %s (%s) until %s; the session is in %s\n", sess.Admin.Email, sess.Admin.Role, when(sess.ExpiresAt), path)
	return nil
}

// writeFile0600 replaces path with b, readable by the user alone.
func writeFile0600(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".session-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func (c *adminClient) logout(_ any, args []string) error {
	path, err := sessionFile()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	fmt.Fprintln(c.out, "signed out: no session kept")
	return nil
}

func (c *adminClient) operators(o any, args []string) error {
	ls, _ := o.(*listSearch)
	var r struct {
		Operators []client.Admin `json:"operators"`
		Total     int            `json:"total"`
	}
	if err := c.get("/api/v1/operators"+ls.query(nil), &r); err != nil {
		return printed(err)
	}
	items := r.Operators
	defer ls.footer(c, len(items), r.Total, "operators")
	tw := c.table("ID\tEMAIL\tMFA\tCREATED")
	for _, a := range items {
		mfa := "not enrolled"
		if a.TOTPEnabled {
			mfa = "TOTP"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", a.ID, a.Email, mfa, when(a.CreatedAt))
	}
	return tw.Flush()
}

func (c *adminClient) operatorCreate(o any, args []string) error {
	email, err := oneArg(args, "operator EMAIL")
	if err != nil {
		return err
	}
	pw, generated, err := c.newPassword(*o.(*bool))
	if err != nil {
		return err
	}
	a, err := c.api.CreateOperator(c.ctx, client.AdminCreate{Email: email, Password: pw})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "created operator %d %s; TOTP enrolment at the first sign-in (tollgate admin login %s)\n", a.ID, a.Email, a.Email)
	if generated {
		fmt.Fprintf(c.out, "password (shown once): %s\n", pw)
	}
	return nil
}
