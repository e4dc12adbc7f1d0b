package main

import (
	"strings"
	"testing"
)

// The suppression commands: add, search, remove, on a tenant's list and
// the global one, and bad input named.
func TestAdminSuppressions(t *testing.T) {
	dir := t.TempDir()
	url, stop := devServer(t, dir)
	defer stop()
	if out := mustAdmin(t, dir, url, "suppression-add", "--tenant", "1", "--detail", "asked to stop", "Gone@Example.net"); !strings.Contains(out, "gone@example.net suppressed (manual)") {
		t.Fatalf("suppression-add: %s", out)
	}
	if out := mustAdmin(t, dir, url, "suppressions", "--tenant", "1", "--search", "gone"); !strings.Contains(out, "gone@example.net") || !strings.Contains(out, "asked to stop") {
		t.Fatalf("suppressions: %s", out)
	}
	mustAdmin(t, dir, url, "suppression-add", "--global", "trap@example.org")
	if out := mustAdmin(t, dir, url, "suppressions", "--global"); !strings.Contains(out, "trap@example.org") {
		t.Fatalf("global list: %s", out)
	}
	if out := mustAdmin(t, dir, url, "suppression-remove", "--tenant", "1", "gone@example.net"); !strings.Contains(out, "removed") {
		t.Fatalf("suppression-remove: %s", out)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"suppressions"}, "--tenant"},
		{[]string{"suppressions", "--tenant", "1", "--global"}, "not both"},
		{[]string{"suppression-add", "--tenant", "1", "nope"}, "nope"},
		{[]string{"suppression-remove", "--tenant", "1", "gone@example.net"}, "404"},
	} {
		if out, err := admin(t, dir, url, bad.args...); err == nil || !strings.Contains(out, bad.want) {
			t.Errorf("%v: %v %s, want an error naming %q", bad.args, err, out, bad.want)
		}
	}
}
