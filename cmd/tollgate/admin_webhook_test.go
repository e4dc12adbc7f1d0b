package main

import (
	"strings"
	"testing"
)

// A tenant admin's delivery-event webhook from the CLI: set prints the
// secret, show repeats it, rotate-secret replaces it, clear stops it; a bad
// URL is one error line that says why; another tenant's token cannot read
// or change it.
func TestAdminEventWebhook(t *testing.T) {
	dir := t.TempDir()
	url, _ := devServer(t, dir)
	mustAdmin(t, dir, url, "tenant", "create", "acme")
	secretOf := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			if s, ok := strings.CutPrefix(l, "secret:  "); ok {
				return s
			}
		}
		t.Fatalf("no secret in:\n%s", out)
		return ""
	}
	out := mustAdmin(t, dir, url, "event-webhook", "set", "--tenant", "demo", "http://127.0.0.1:8099/hook")
	wantOut(t, "set", out, "url:     http://127.0.0.1:8099/hook", "source:  api")
	secret := secretOf(out)
	if len(secret) != 64 {
		t.Fatalf("secret %q: want 64 hex digits", secret)
	}
	if got := secretOf(mustAdmin(t, dir, url, "event-webhook", "show", "--tenant", "demo")); got != secret {
		t.Fatalf("show: secret %q, want %q", got, secret)
	}
	if rotated := secretOf(mustAdmin(t, dir, url, "event-webhook", "rotate-secret", "--tenant", "demo")); rotated == secret {
		t.Fatal("rotate-secret kept the secret")
	}

	// Bad URLs, each named with the rule it broke.
	for _, c := range []struct{ url, want string }{
		{"ftp://hooks.example/x", "must be https"},
		{"https://u:p@hooks.example/x", "no user name or password"},
	} {
		_, errOut, err := adminSplit(t, dir, url, "", "event-webhook", "set", "--tenant", "demo", c.url)
		if err == nil || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "(400)") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Fatalf("set %q: %v %q, want one line saying %q", c.url, err, errOut, c.want)
		}
	}

	// acme's admin token sees only acme.
	out = mustAdmin(t, dir, url, "token", "create", "--tenant", "acme", "acme-admin")
	tok := strings.TrimSpace(out[strings.LastIndex(out, "\n\n")+2:])
	for _, args := range [][]string{
		{"event-webhook", "show", "--tenant", "1"},
		{"event-webhook", "set", "--tenant", "1", "https://evil.example/x"},
		{"event-webhook", "clear", "--tenant", "1"},
	} {
		wantFail(t, dir, url, []string{"404"}, append([]string{"--token", tok}, args...)...)
	}

	// Failed events: none yet; a redelivery names what it needs; an
	// unknown id is a 404 naming it; another tenant's token gets 404.
	wantOut(t, "failed", mustAdmin(t, dir, url, "event-webhook", "failed", "--tenant", "demo"), "ID", "0 failed event(s)")
	wantFail(t, dir, url, []string{"give the ids"}, "event-webhook", "redeliver", "--tenant", "demo")
	wantFail(t, dir, url, []string{"not both"}, "event-webhook", "redeliver", "--tenant", "demo", "--all", "abc")
	wantFail(t, dir, url, []string{"--limit 0"}, "event-webhook", "failed", "--tenant", "demo", "--limit", "0")
	wantFail(t, dir, url, []string{"404", "nosuchid"}, "event-webhook", "redeliver", "--tenant", "demo", "nosuchid")
	wantOut(t, "redeliver --all", mustAdmin(t, dir, url, "event-webhook", "redeliver", "--tenant", "demo", "--all"), "0 event(s) queued")
	wantFail(t, dir, url, []string{"404"}, "--token", tok, "event-webhook", "failed", "--tenant", "1")
	wantFail(t, dir, url, []string{"404"}, "--token", tok, "event-webhook", "redeliver", "--tenant", "1", "--all")

	wantOut(t, "clear", mustAdmin(t, dir, url, "event-webhook", "clear", "--tenant", "demo"), "event webhook cleared")
	wantFail(t, dir, url, []string{"404"}, "event-webhook", "show", "--tenant", "demo")
}
