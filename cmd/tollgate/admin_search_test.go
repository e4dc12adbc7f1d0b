package main

import (
	"strings"
	"testing"
)

// The operators' global list commands search, sort and page through the
// API's q, sort, order, limit and offset, say how many matched, and pass
// on the server's error naming a bad value.
func TestAdminListSearch(t *testing.T) {
	dir := t.TempDir()
	url, _ := devServer(t, dir)
	for _, n := range []string{"acme", "acme-labs", "globex"} {
		mustAdmin(t, dir, url, "tenant-create", n)
	}
	out := mustAdmin(t, dir, url, "tenant", "list", "--q", "ACME", "--sort", "name", "--order", "desc")
	if !strings.Contains(out, "2 of 2 tenants matching \"ACME\"") || strings.Contains(out, "globex") {
		t.Fatalf("tenant list --q ACME --sort name --order desc:\n%s", out)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 4 || !strings.Contains(lines[1], "acme-labs") {
		t.Fatalf("want the header, acme-labs, acme and the count:\n%s", out)
	}
	out = mustAdmin(t, dir, url, "tenant", "list", "--limit", "1", "--offset", "1", "--sort", "name")
	if !strings.Contains(out, "1 of ") || strings.Count(strings.TrimSpace(out), "\n") != 2 {
		t.Fatalf("tenant list --limit 1 --offset 1:\n%s", out)
	}
	wantFail(t, dir, url, []string{"sort", "seats"}, "tenant", "list", "--sort", "seats")
	wantFail(t, dir, url, []string{"limit"}, "operator", "list", "--limit", "5000")
	if out := mustAdmin(t, dir, url, "operator", "list", "--q", "no-such-operator"); !strings.Contains(out, "0 of 0 operators matching") {
		t.Fatalf("operator list --q:\n%s", out)
	}
	if out := mustAdmin(t, dir, url, "token", "list", "--q", "no-such-token"); !strings.Contains(out, "0 of 0 tokens matching") {
		t.Fatalf("token list --q:\n%s", out)
	}
	if out := mustAdmin(t, dir, url, "unblock-request", "list", "--status", "all", "--q", "phished"); !strings.Contains(out, "0 of 0 requests matching") {
		t.Fatalf("unblock-request list --q:\n%s", out)
	}
	if out := mustAdmin(t, dir, url, "audit", "--q", "TENANT.create"); strings.Count(out, "tenant.create") != 3 {
		t.Fatalf("audit --q TENANT.create, want the 3 tenants created:\n%s", out)
	}
	// Without search flags the output is as before: no count line.
	if out := mustAdmin(t, dir, url, "tenant", "list"); strings.Contains(out, " of ") {
		t.Fatalf("plain tenant list has a count line:\n%s", out)
	}
}
