package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/dnstest"
)

// docExample is one command line from a code block of the README or docs/.
type docExample struct {
	where string // file:line
	args  []string
	stdin string // the file a "<" redirection names, if any
}

// docExamples extracts every line that starts with "tollgate " (after an
// optional "$ ") inside a fenced code block, joining "\" continuations and
// dropping "# comments" and a "< file" redirection.
func docExamples(t *testing.T) []docExample {
	t.Helper()
	files, _ := filepath.Glob("../../docs/*.md")
	files = append([]string{"../../README.md"}, files...)
	var out []docExample
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		in, n := false, 0
		for sc.Scan() {
			n++
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "```") {
				in = !in
				continue
			}
			line = strings.TrimPrefix(line, "$ ")
			if !in || !strings.HasPrefix(line, "tollgate ") {
				continue
			}
			where := filepath.Base(f) + ":" + strconv.Itoa(n)
			for strings.HasSuffix(line, `\`) && sc.Scan() {
				n++
				line = strings.TrimSuffix(line, `\`) + " " + strings.TrimSpace(sc.Text())
			}
			words, err := shellWords(line)
			if err != nil {
				t.Errorf("%s: %v: %s", where, err, line)
				continue
			}
			ex := docExample{where: where}
			for i := 0; i < len(words); i++ {
				if words[i] == "<" && i+1 < len(words) {
					ex.stdin = words[i+1]
					i++
					continue
				}
				ex.args = append(ex.args, words[i])
			}
			ex.args = ex.args[1:] // "tollgate"
			out = append(out, ex)
		}
		fh.Close()
	}
	return out
}

// shellWords splits a command line as sh would for these examples: single
// and double quotes, a comment from an unquoted " #" on.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, errors.New("unterminated quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			i = len(s)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// Every CLI example in the docs names a command that exists; every
// `tollgate admin` example parses with that command's flags (the same
// dispatch as a real run, without the request). TestDocExamplesRun runs
// the directory examples against a dev gateway.
func TestDocExamplesParse(t *testing.T) {
	exs := docExamples(t)
	if len(exs) < 50 {
		t.Fatalf("only %d examples found in the docs", len(exs))
	}
	for _, ex := range exs {
		if len(ex.args) == 0 {
			t.Errorf("%s: a bare tollgate", ex.where)
			continue
		}
		known := false
		for _, c := range commands {
			known = known || c.name == ex.args[0]
		}
		if !known {
			t.Errorf("%s: tollgate %s: no such command", ex.where, ex.args[0])
			continue
		}
		if ex.args[0] != "admin" {
			continue
		}
		if err := parseAdminLine(ex.args[1:]); err != nil {
			t.Errorf("%s: tollgate %s: %v", ex.where, strings.Join(ex.args, " "), err)
		}
	}
}

// adminCommandOf is the name of the command an admin command line runs,
// "" if none.
func adminCommandOf(args []string) string {
	pre := flag.NewFlagSet("admin", flag.ContinueOnError)
	pre.SetOutput(io.Discard)
	new(adminGlobals).register(pre)
	if pre.Parse(args) != nil || pre.NArg() == 0 {
		return ""
	}
	if cmd, _ := lookupAdmin(pre.Args()); cmd != nil {
		return cmd.name
	}
	return ""
}

// parseAdminLine does what runAdmin does up to the request: find the
// command and parse its flags.
func parseAdminLine(args []string) error {
	pre := flag.NewFlagSet("admin", flag.ContinueOnError)
	pre.SetOutput(io.Discard)
	new(adminGlobals).register(pre)
	if err := pre.Parse(args); err != nil {
		return err
	}
	rest := pre.Args()
	if len(rest) == 0 {
		return errors.New("no command")
	}
	if rest[0] == "help" {
		return nil
	}
	cmd, words := lookupAdmin(rest)
	if cmd == nil {
		return errors.New("unknown admin command " + rest[0])
	}
	if _, ok := deprecatedAdminNames[strings.Join(rest[:words], " ")]; ok && words == 1 {
		return errors.New("the docs use the deprecated name " + rest[0] + "; write " + deprecatedAdminNames[rest[0]])
	}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	new(adminGlobals).register(fs)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	tenantFlagOf(fs, cmd)
	userFlagOf(fs)
	_, err := parseInterspersed(fs, append(append([]string{}, args[:len(args)-len(rest)]...), rest[words:]...))
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// docSkip are the examples TestDocExamplesRun does not run, and why.
var docSkip = map[string]string{
	"login":             "interactive: a password and a fresh TOTP code (TestAdminLoginAndOperator signs in for real)",
	"connector confirm": "needs an admin session and a fresh TOTP code (the API's tests confirm connectors)",
}

// docPlaceholder matches the API answers an example may get because a
// number in it stands for an object of the reader's own (user 5, token 7,
// restriction 12): the command and its flags were right, the object is not
// in a fresh dev gateway.
var docPlaceholder = regexp.MustCompile(`\((404|409)\)(;|$)`)

// placeholderAnswer reports whether msg is the API's one-line answer about
// an object the example names: a 404 or 409 whose text names one of the
// example's arguments (the id, name or address the reader would put in
// their own). A 404 that names none of them (a route that went away, a
// command that calls the wrong path) is not a placeholder answer.
func placeholderAnswer(args []string, msg string) bool {
	if strings.Contains(msg, "\n") || !docPlaceholder.MatchString(msg) {
		return false
	}
	text := msg[:docPlaceholder.FindStringIndex(msg)[0]] // without "(404)"
	for i, a := range args {
		if a == "" || strings.HasPrefix(a, "-") {
			continue
		}
		if prev := ""; i > 0 {
			prev = args[i-1]
			if strings.HasPrefix(prev, "--") && !docBoolFlag[prev] && !docObjectFlag[prev] {
				continue // a flag's value that names no object (--reason, --pool)
			}
		}
		if !strings.ContainsAny(a, "0123456789@.") && i != len(args)-1 {
			continue // a command word ("user", "password")
		}
		if regexp.MustCompile(`(^|\W)` + regexp.QuoteMeta(a) + `(\W|$)`).MatchString(text) {
			return true
		}
	}
	return false
}

// docBoolFlag are the examples' flags that take no value, so the word after
// them is an argument.
var docBoolFlag = map[string]bool{"--not-spam": true, "--spam": true, "--json": true, "--all": true, "--password-stdin": true}

// docObjectFlag are the flags whose value names an object of the reader's.
var docObjectFlag = map[string]bool{"--tenant": true, "--user": true}

// The `tollgate admin` examples of the docs run, in the docs' order,
// against a dev gateway set up as the docs' reader has it: tenant 2 acme
// with acme.example verified (the TXT record "published" by marking it in
// the database), and tenant freshstart. Each example succeeds, or fails
// only with an API answer about a placeholder id or name of the reader's
// (404 or 409, one error line), or is one of docSkip. A usage error (an
// unknown command or flag, a bad argument) or any other refusal fails the
// test.
func TestDocExamplesRun(t *testing.T) {
	dir := t.TempDir()
	// DKIM on, as the DKIM section's reader has it, with a resolver that
	// answers (nothing is published) so dkim-check gets a real answer.
	dns := dnstest.Start(t)
	cfg := filepath.Join(dir, "tollgate.toml")
	if err := os.WriteFile(cfg, []byte("[dkim]\nenabled = true\n[delivery]\nresolver = \""+dns.Addr+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url, _, stop := devServerArgs(t, dir, "--config", cfg)
	mustAdmin(t, dir, url, "tenant", "create", "acme", "--license", "licensed", "--seats", "25")
	mustAdmin(t, dir, url, "domain", "add", "--tenant", "acme", "acme.example")
	mustAdmin(t, dir, url, "tenant", "create", "freshstart")
	stop()
	db, err := sql.Open("sqlite", filepath.Join(dir, "tollgate-data", "tollgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE domains SET verified = TRUE WHERE name = 'acme.example'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// The key the dkim-upload example names, in the examples' directory.
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "own.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	url, _, _ = devServerArgs(t, dir, "--config", cfg)
	ran, placeholders := 0, 0
	for _, ex := range docExamples(t) {
		if len(ex.args) < 2 || ex.args[0] != "admin" {
			continue
		}
		line := strings.Join(ex.args, " ")
		if strings.Contains(line, "$SESSION") || docSkip[adminCommandOf(ex.args[1:])] != "" {
			t.Logf("%s: not run: %s", ex.where, line)
			continue
		}
		stdin := ""
		if ex.stdin != "" {
			stdin = "a long enough password\n"
		}
		out, errOut, err := adminSplit(t, dir, url, stdin, ex.args[1:]...)
		ran++
		if err == nil {
			continue
		}
		msg := strings.TrimSpace(errOut)
		switch {
		case strings.Contains(line, "domain verify") && strings.Contains(out, "is not verified yet"):
			// The docs show it before and after publishing the record;
			// nothing is published here.
		case placeholderAnswer(ex.args[1:], msg):
			placeholders++
			t.Logf("%s: %s: %s", ex.where, line, msg)
		default:
			t.Errorf("%s: tollgate %s: %v\n%s%s", ex.where, line, err, out, errOut)
		}
	}
	if ran < 40 {
		t.Errorf("ran only %d examples", ran)
	}
	t.Logf("ran %d examples, %d answered about a placeholder", ran, placeholders)
}

// A placeholder answer names the example's object; a 404 that names none of
// its arguments, a 5xx, or a usage error is a failed example.
func TestPlaceholderAnswer(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
		want bool
	}{
		{[]string{"user", "password", "--tenant", "2", "--user", "5"}, "tollgate: user 5 of tenant 2: not found (404)", true},
		{[]string{"queue", "hold", "0G6Q2X8J5RZ4M1ABCDEF", "--reason", "complaint"}, "tollgate: message 0G6Q2X8J5RZ4M1ABCDEF is not in the queue (404)", true},
		{[]string{"operator", "create", "--password-stdin", "ops@provider.example"}, `tollgate: create admin "ops@provider.example": an admin with that email exists (409)`, true},
		{[]string{"queue", "hold", "0G6Q2X8J5RZ4M1ABCDEF", "--reason", "complaint"}, "tollgate: no such message in the queue (404)", false},
		{[]string{"token", "revoke", "7"}, "tollgate: 404 page not found (404)", false},
		{[]string{"token", "revoke", "7"}, "tollgate: token 7: internal error (500)", false},
		{[]string{"exception", "grant", "acme", "--reason", "x"}, "tollgate: no reason x (404)", false},
		{[]string{"token", "revoke", "7"}, "tollgate: token 7 not found (404)\nmore", false},
	} {
		if got := placeholderAnswer(c.args, c.msg); got != c.want {
			t.Errorf("placeholderAnswer(%q, %q) = %v, want %v", c.args, c.msg, got, c.want)
		}
	}
}
