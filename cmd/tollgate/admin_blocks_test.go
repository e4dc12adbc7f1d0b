package main

import (
	"strings"
	"testing"
)

// `admin blocks list` shows every tenant's live blocks with the tenant's
// name, searched, sorted and paged by the API; `block list TENANT --q`
// searches one tenant's; bad values fail naming them; a suppression list
// says how many entries match in all.
func TestAdminBlocksList(t *testing.T) {
	dir := t.TempDir()
	url, _ := devServer(t, dir)
	for _, n := range []string{"blk-acme", "blk-labs", "blk-globex"} {
		mustAdmin(t, dir, url, "tenant-create", n)
		mustAdmin(t, dir, url, "block", "add", n, "--reason", "abuse report about "+n)
	}
	mustAdmin(t, dir, url, "unblock", "blk-globex", "--note", "cleaned up")

	out := mustAdmin(t, dir, url, "blocks", "list", "--sort", "tenant")
	if !strings.Contains(out, "blk-acme") || !strings.Contains(out, "blk-labs") || strings.Contains(out, "blk-globex") || !strings.Contains(out, "live block(s)") {
		t.Fatalf("blocks list (live):\n%s", out)
	}
	if strings.Index(out, "blk-acme") > strings.Index(out, "blk-labs") {
		t.Fatalf("blocks list --sort tenant is not by tenant:\n%s", out)
	}
	out = mustAdmin(t, dir, url, "blocks", "list", "--state", "all", "--q", "GLOBEX")
	if !strings.Contains(out, "blk-globex") || !strings.Contains(out, "released") || !strings.Contains(out, `1 of 1 blocks matching "GLOBEX"`) {
		t.Fatalf("blocks list --state all --q GLOBEX:\n%s", out)
	}
	out = mustAdmin(t, dir, url, "blocks", "list", "--state", "all", "--q", "blk-", "--sort", "tenant", "--order", "desc", "--limit", "1")
	if !strings.Contains(out, "blk-labs") || !strings.Contains(out, "1 of 3 blocks") {
		t.Fatalf("blocks list, one page:\n%s", out)
	}
	wantFail(t, dir, url, []string{"--state", "stuck"}, "blocks", "list", "--state", "stuck")
	wantFail(t, dir, url, []string{"sort", "seats"}, "blocks", "list", "--sort", "seats")
	wantFail(t, dir, url, []string{"limit", "5000"}, "blocks", "list", "--limit", "5000")

	out = mustAdmin(t, dir, url, "block", "list", "blk-acme", "--q", "ABUSE")
	if !strings.Contains(out, "abuse report about blk-acme") || !strings.Contains(out, "1 of 1 blocks") {
		t.Fatalf("block list blk-acme --q ABUSE:\n%s", out)
	}
	if out := mustAdmin(t, dir, url, "block", "list", "blk-acme", "--q", "nothing"); !strings.Contains(out, "0 of 0 blocks") {
		t.Fatalf("block list --q nothing:\n%s", out)
	}

	for _, a := range []string{"a@x.example", "b@x.example", "c@y.example"} {
		mustAdmin(t, dir, url, "suppression-add", "--global", a)
	}
	out = mustAdmin(t, dir, url, "suppressions", "--global", "--sort", "address", "--order", "desc", "--limit", "2")
	if !strings.Contains(out, "2 of 3 suppressed") || strings.Index(out, "c@y.example") > strings.Index(out, "b@x.example") || strings.Contains(out, "a@x.example") {
		t.Fatalf("suppressions --sort address --order desc --limit 2:\n%s", out)
	}
	wantFail(t, dir, url, []string{"sort", "detail"}, "suppressions", "--global", "--sort", "detail")
}
