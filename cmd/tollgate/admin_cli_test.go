package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// adminSplit runs `tollgate admin --server URL args...` in dir with its own
// config directory (for login's session) and returns stdout and stderr
// apart.
func adminSplit(t *testing.T, dir, url, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"admin", "--server", url}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "TOLLGATE_TOKEN=")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// The CLI behaves like one: noun–verb names with the old ones still
// working, flags anywhere, a tenant by name or id, help on stdout, one
// error line naming the value and the status.
func TestAdminCLINounVerb(t *testing.T) {
	dir := t.TempDir()
	url, _ := devServer(t, dir)
	run := func(args ...string) string {
		t.Helper()
		out, errOut, err := adminSplit(t, dir, url, "", args...)
		if err != nil {
			t.Fatalf("tollgate admin %v: %v\n%s%s", args, err, out, errOut)
		}
		return out
	}
	run("tenant", "create", "acme", "--license", "licensed", "--seats", "5")
	// --json after the command, and after its arguments.
	var ts struct {
		Tenants []struct {
			ID   int64
			Name string
		}
	}
	if err := json.Unmarshal([]byte(run("tenant", "list", "--json")), &ts); err != nil || len(ts.Tenants) != 2 {
		t.Fatalf("tenant list --json: %v %+v", err, ts)
	}
	var acme int64
	for _, tn := range ts.Tenants {
		if tn.Name == "acme" {
			acme = tn.ID
		}
	}
	var msgs struct{ Messages []any }
	if err := json.Unmarshal([]byte(run("messages", "--json")), &msgs); err != nil {
		t.Fatalf("messages --json: %v", err)
	}
	// The tenant by name and by id, before or after the arguments.
	run("domain", "add", "acme.test", "--tenant", "acme")
	if out := run("domain", "list", "--tenant", fmt.Sprint(acme)); !strings.Contains(out, "acme.test") {
		t.Fatalf("domain list by id: %s", out)
	}
	if out := run("connector", "create", "--tenant", "acme", "--name", "office", "192.0.2.0/28"); !strings.HasPrefix(out, "created connector") {
		t.Fatalf("connector create by name: %s", out)
	}
	if out := run("connectors", "--tenant=acme"); !strings.Contains(out, "office") {
		t.Fatalf("the deprecated connectors with --tenant=acme: %s", out)
	}
	if out := run("status", "--tenant", "acme"); !strings.Contains(out, "acme") {
		t.Fatalf("status --tenant acme: %s", out)
	}
	// A user by address as well as by id, in the tenant --tenant names
	// (demo.test is the dev tenant's verified domain).
	var ann struct{ ID int64 }
	if err := json.Unmarshal([]byte(run("user", "create", "--json", "--tenant", "demo", "ann@demo.test")), &ann); err != nil || ann.ID == 0 {
		t.Fatalf("user create --json: %v %+v", err, ann)
	}
	run("app-password", "create", "--tenant", "demo", "--user", "Ann@Demo.test", "phone")
	if out := run("app-password", "list", "--tenant", "demo", "--user", fmt.Sprint(ann.ID)); !strings.Contains(out, "phone") {
		t.Fatalf("app-password list by id after create by address: %s", out)
	}
	for _, c := range []struct{ args, want []string }{
		{[]string{"app-password", "list", "--tenant", "demo", "--user", "bob@demo.test"}, []string{`"bob@demo.test"`, "user list --tenant"}},
		{[]string{"app-password", "list", "--tenant", "acme", "--user", "ann@demo.test"}, []string{`"ann@demo.test"`}}, // another tenant's user
		{[]string{"app-password", "list", "--tenant", "demo", "--user", "ann"}, []string{`"ann"`, "id or address"}},
		{[]string{"app-password", "list", "--user", "ann@demo.test"}, []string{"--tenant"}},
	} {
		_, errOut, err := adminSplit(t, dir, url, "", c.args...)
		if err == nil || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Fatalf("%v: %v %q, want one error line", c.args, err, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Fatalf("%v: %q does not name %s", c.args, errOut, w)
			}
		}
	}
	// One error line: what, the value, the status; no repetition.
	out, errOut, err := adminSplit(t, dir, url, "", "connector", "create", "--tenant", "demo", "--name", "x", "192.0.2.0/24")
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if err == nil || len(lines) != 1 || !strings.HasPrefix(lines[0], "tollgate: ") || !strings.HasSuffix(lines[0], "(409)") ||
		!strings.Contains(lines[0], `"x"`) || strings.Contains(errOut, "Conflict") || strings.Count(errOut, "conflict") > 1 || out != "" {
		t.Fatalf("an overlapping connector: %v\nstdout %q\nstderr %q", err, out, errOut)
	}
	_, errOut, err = adminSplit(t, dir, url, "", "domain", "list", "--tenant", "nosuch")
	if err == nil || !strings.Contains(errOut, `"nosuch"`) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("an unknown tenant name: %v %q", err, errOut)
	}
	_, errOut, err = adminSplit(t, dir, url, "", "connector", "list", "--tenant", "acme", "--colour", "red")
	if err == nil || !strings.Contains(errOut, "-colour") || !strings.Contains(errOut, "connector list --help") {
		t.Fatalf("an unknown flag: %v %q", err, errOut)
	}
	// An argument a command does not take is an error, not ignored.
	_, errOut, err = adminSplit(t, dir, url, "", "connectors", "demo")
	if err == nil || !strings.Contains(errOut, "--tenant demo") {
		t.Fatalf("connectors demo: %v %q, want the hint to give --tenant demo", err, errOut)
	}
	// Help on stdout, exit 0, flags listed.
	out, errOut, err = adminSplit(t, dir, url, "", "connector", "create", "--help")
	if err != nil || !strings.Contains(out, "Usage: tollgate admin connector create") || !strings.Contains(out, "-cert-domain") || errOut != "" {
		t.Fatalf("connector create --help: %v\n%s\n%s", err, out, errOut)
	}
}

// Operators are created and sign in from the CLI: login enrols TOTP at the
// first sign-in, keeps the session in a 0600 file, and later commands use
// it without any other token.
func TestAdminLoginAndOperator(t *testing.T) {
	dir := t.TempDir()
	url, _ := devServer(t, dir)
	const pw = "a long operator password"
	if out, errOut, err := adminSplit(t, dir, url, pw+"\n", "operator", "create", "--password-stdin", "ops@example.net"); err != nil || !strings.Contains(out, "created operator") {
		t.Fatalf("operator create: %v\n%s%s", err, out, errOut)
	}

	elsewhere := t.TempDir() // no tollgate-data here: only the session can authenticate
	cmd := exec.Command(binary(t), "admin", "--server", url, "login", "ops@example.net")
	cmd.Dir = elsewhere
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(elsewhere, "config"), "TOLLGATE_TOKEN=")
	in, _ := cmd.StdinPipe()
	outPipe, _ := cmd.StdoutPipe()
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(in, pw+"\n")
	sc := bufio.NewScanner(outPipe)
	var rest strings.Builder
	for sc.Scan() {
		line := sc.Text()
		rest.WriteString(line + "\n")
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "secret: "); ok {
			code, err := totp.GenerateCode(s, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(in, code+"\n")
			in.Close()
		}
	}
	if err := cmd.Wait(); err != nil || !strings.Contains(rest.String(), "signed in as ops@example.net") || !strings.Contains(rest.String(), "Recovery codes") {
		t.Fatalf("login: %v\n%s\n%s", err, rest.String(), errb.String())
	}
	path := filepath.Join(elsewhere, "config", "tollgate", "session.json")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session file %s: %v %v, want mode 0600", path, err, fi)
	}
	out, errOut, err := adminSplit(t, elsewhere, url, "", "operator", "list")
	if err != nil || !strings.Contains(out, "ops@example.net") || !strings.Contains(out, "TOTP") {
		t.Fatalf("operator list with the session: %v\n%s%s", err, out, errOut)
	}
	if out, _, err := adminSplit(t, elsewhere, url, "", "logout"); err != nil || !strings.Contains(out, "signed out") {
		t.Fatalf("logout: %v %s", err, out)
	}
	if _, errOut, err := adminSplit(t, elsewhere, url, "", "operator", "list"); err == nil || !strings.Contains(errOut, "tollgate admin login") {
		t.Fatalf("after logout: %v %q, want the no-token error", err, errOut)
	}
}
