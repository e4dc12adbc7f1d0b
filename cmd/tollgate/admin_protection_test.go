package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// wantOut fails the test unless out contains every one of want.
func wantOut(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("%s: missing %q in:\n%s", what, w, out)
		}
	}
}

// wantFail runs a command that must fail with output naming every one of
// want: the bad value, the missing flag, the server's reason.
func wantFail(t *testing.T, dir, url string, want []string, args ...string) {
	t.Helper()
	out, err := admin(t, dir, url, args...)
	if err == nil {
		t.Fatalf("tollgate admin %v succeeded, want an error:\n%s", args, out)
	}
	wantOut(t, fmt.Sprintf("tollgate admin %v", args), out, want...)
}

// The unblock workflow end to end through the CLI: an operator blocks a
// tenant, its admin asks for an unblock (the checklist flags the admin
// without MFA), a tenant token cannot approve its own request, the
// operator approves, and the tenant is on probation.
func TestAdminProtectionUnblock(t *testing.T) {
	dir := t.TempDir()
	url, _ := devServer(t, dir)

	mustAdmin(t, dir, url, "tenant-create", "--license", "licensed", "--seats", "5", "acme")
	var ts struct{ Tenants []tenantRow }
	if err := json.Unmarshal([]byte(mustAdmin(t, dir, url, "--json", "tenants")), &ts); err != nil {
		t.Fatal(err)
	}
	var tid string
	for _, tn := range ts.Tenants {
		if tn.Name == "acme" {
			tid = fmt.Sprint(tn.ID)
		}
	}
	mustAdmin(t, dir, url, "admin-create", "--tenant", tid, "boss@acme.test")
	// The operator can clear an admin's MFA; a bad id is named.
	var admins struct{ Admins []struct{ ID int64 } }
	if err := json.Unmarshal([]byte(mustAdmin(t, dir, url, "--json", "admins", "--tenant", tid)), &admins); err != nil || len(admins.Admins) != 1 {
		t.Fatalf("admins: %+v %v", admins, err)
	}
	wantOut(t, "mfa reset", mustAdmin(t, dir, url, "admin-mfa-reset", fmt.Sprint(admins.Admins[0].ID)), "MFA of boss@acme.test cleared")
	wantFail(t, dir, url, []string{`"x1"`}, "admin-mfa-reset", "x1")
	wantFail(t, dir, url, []string{"--code"}, "password-change")
	wantOut(t, "status before", mustAdmin(t, dir, url, "status", "acme"), "state:  sending", "restrictions: none")
	wantFail(t, dir, url, []string{`"acmee"`}, "status", "acmee")
	wantFail(t, dir, url, []string{"--reason"}, "block", "acme")
	wantFail(t, dir, url, []string{"--bogus"}, "status", "acme", "--bogus")

	out := mustAdmin(t, dir, url, "block", "acme", "--reason", "abuse desk: phishing from acme") // flag after the tenant
	var blockID int64
	if _, err := fmt.Sscanf(out, "blocked: block %d", &blockID); err != nil {
		t.Fatalf("block: %s", out)
	}
	wantFail(t, dir, url, []string{"already blocked"}, "block", "--reason", "again", tid)
	wantOut(t, "status blocked", mustAdmin(t, dir, url, "status", tid),
		"state:  blocked", "an operator blocked the tenant", "note=abuse desk: phishing from acme", "unblock-request create acme --cause")
	wantOut(t, "blocks", mustAdmin(t, dir, url, "blocks", "acme"), fmt.Sprint(blockID), "operator", "live")

	// The tenant admin's side, with a token scoped to the tenant.
	out = mustAdmin(t, dir, url, "token-create", "--tenant", tid, "acme-admin")
	tenantTok := strings.TrimSpace(out[strings.LastIndex(out, "\n\n")+2:])
	wantFail(t, dir, url, []string{"--fix"}, "--token", tenantTok, "unblock-request", "acme", "--cause", "phished password")
	out = mustAdmin(t, dir, url, "--token", tenantTok, "unblock-request", "acme",
		"--cause", "phished admin password", "--fix", "password reset, connector removed")
	var reqID int64
	if _, err := fmt.Sscanf(out, "submitted unblock request %d", &reqID); err != nil {
		t.Fatalf("unblock-request: %s", out)
	}
	wantOut(t, "unblock-request checklist", out, "[CHECK] mfa-for-every-admin: admins without MFA: boss@acme.test", "[ok   ] no-recent-connectors")
	wantFail(t, dir, url, []string{"already pending"}, "--token", tenantTok, "unblock-request", "acme", "--cause", "x", "--fix", "y")
	// Operator endpoints answer a tenant token 404 (the API hides them); the
	// CLI says why.
	wantFail(t, dir, url, []string{"404", "needs an operator token"}, "--token", tenantTok, "unblock-approve", fmt.Sprint(reqID))
	wantOut(t, "status pending", mustAdmin(t, dir, url, "--token", tenantTok, "status", "acme"),
		fmt.Sprintf("pending unblock request %d", reqID))

	// The operator's side.
	out = mustAdmin(t, dir, url, "unblock-requests")
	wantOut(t, "queue", out, fmt.Sprintf("request %d  tenant %s acme  pending", reqID, tid), "cause: phished admin password",
		"fix:   password reset, connector removed", fmt.Sprintf("block %d", blockID), "[CHECK] mfa-for-every-admin", "1 pending request(s)")
	wantFail(t, dir, url, []string{`"maybe"`}, "unblock-requests", "--status", "maybe")
	wantFail(t, dir, url, []string{`"x1"`}, "unblock-approve", "x1")
	out = mustAdmin(t, dir, url, "unblock-approve", fmt.Sprint(reqID), "--note", "MFA next time")
	wantOut(t, "approve", out, fmt.Sprintf("approved unblock request %d; tenant acme sends again on probation: 200 messages", reqID))
	wantFail(t, dir, url, []string{"already approved"}, "unblock-deny", fmt.Sprint(reqID))

	wantOut(t, "status after", mustAdmin(t, dir, url, "status", "acme"), "state:  probation", "at most 200 messages per 24 hours")
	var st struct{ State string }
	if err := json.Unmarshal([]byte(mustAdmin(t, dir, url, "--json", "status", "acme")), &st); err != nil || st.State != "probation" {
		t.Fatalf("status --json: %v %+v", err, st)
	}
	wantOut(t, "queue approved", mustAdmin(t, dir, url, "unblock-requests", "--status", "approved"),
		"approved", "MFA next time", "1 approved request(s)")
	wantOut(t, "queue pending after", mustAdmin(t, dir, url, "unblock-requests"), "0 pending request(s)")
	wantOut(t, "blocks after", mustAdmin(t, dir, url, "blocks", "acme"), "released", "probation 200/day, 5 days")

	out = mustAdmin(t, dir, url, "stats", "acme", "--days", "3")
	if rows := strings.Count(strings.TrimSpace(out), "\n"); rows != 3 || !strings.HasPrefix(out, "DAY") {
		t.Fatalf("stats --days 3: want a header and 3 days:\n%s", out)
	}
	wantFail(t, dir, url, []string{"days"}, "stats", "acme", "--days", "0")

	// A second manual block, lifted directly by the operator: no request,
	// no probation; the note is required.
	mustAdmin(t, dir, url, "block", "acme", "--reason", "second report")
	wantFail(t, dir, url, []string{"--note"}, "unblock", "acme")
	wantFail(t, dir, url, []string{"404", "needs an operator token"}, "--token", tenantTok, "unblock", "acme", "--note", "me")
	wantOut(t, "unblock", mustAdmin(t, dir, url, "unblock", "acme", "--note", "the report was a mistake"), "is lifted", "without probation")
	wantOut(t, "status after unblock", mustAdmin(t, dir, url, "status", "acme"), "state:  sending")
	wantFail(t, dir, url, []string{"not blocked"}, "unblock", "acme", "--note", "again")
}

// Policy overrides through policy-set, and a restriction created by real
// mail over SMTP, listed and released with the CLI.
func TestAdminProtectionPolicyAndRestrictions(t *testing.T) {
	dir := t.TempDir()
	url, relay, _ := devServerRelay(t, dir)

	wantFail(t, dir, url, []string{`"bogus_key"`, "user_spam_per_hour"}, "policy-set", "demo", "bogus_key=1")
	wantFail(t, dir, url, []string{"tenant_spam_ratio=abc"}, "policy-set", "demo", "tenant_spam_ratio=abc")
	wantFail(t, dir, url, []string{"tenant_spam_ratio must be in (0, 1]"}, "policy-set", "demo", "tenant_spam_ratio=5")
	wantFail(t, dir, url, []string{"KEY=VALUE"}, "policy-set", "demo")
	out := mustAdmin(t, dir, url, "policy-set", "demo", "user_external_per_hour=1", "restrict_action=restrict", "tenant_spam_ratio=0.5",
		"connector_ipv4_addresses=65536")
	for _, re := range []string{`user_external_per_hour\s+1\s+tenant override`,
		`connector_ipv4_addresses\s+65536\s+tenant override`, `connector_ipv6_64s\s+65536\s+default`, `restrict_action\s+restrict\s+tenant override`,
		`tenant_spam_ratio\s+0.5\s+tenant override`, `user_internal_per_hour\s+1000\s+default`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Fatalf("policy-set: no line matching %s in:\n%s", re, out)
		}
	}

	// The second external recipient within the hour crosses the per-user
	// limit: the sender is restricted (5.1.8) until an admin releases it.
	c := dialRelay(t, relay)
	if err := c.Mail("a@demo.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("one@example.net", nil); err != nil {
		t.Fatal(err)
	}
	wantSMTP(t, c.Rcpt("two@example.net", nil), 5, 1, 8)
	c.Close()

	out = mustAdmin(t, dir, url, "restrictions", "demo")
	m := regexp.MustCompile(`(?m)^(\d+)\s+sender\s+a@demo\.test\s.*released by an admin\s+active`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("restrictions: no active restriction of a@demo.test:\n%s", out)
	}
	wantOut(t, "status with restriction", mustAdmin(t, dir, url, "status", "demo"), "a@demo.test", "active")
	c = dialRelay(t, relay)
	wantSMTP(t, c.Mail("a@demo.test", nil), 5, 1, 8)
	c.Close()

	wantFail(t, dir, url, []string{`"nine"`}, "release", "demo", "nine")
	wantOut(t, "release", mustAdmin(t, dir, url, "release", "demo", m[1]), "released restriction "+m[1]+" (sender a@demo.test)")
	if out := mustAdmin(t, dir, url, "restrictions", "demo"); strings.Contains(out, "a@demo.test") {
		t.Fatalf("a released restriction is still listed as active:\n%s", out)
	}
	wantOut(t, "restrictions --all", mustAdmin(t, dir, url, "restrictions", "--all", "demo"), "a@demo.test", "released ")
	// Released at once: the sender may send again (to a colleague: the
	// external hour is still used up).
	c = dialRelay(t, relay)
	if err := c.Mail("a@demo.test", nil); err != nil {
		t.Fatalf("MAIL after release: %v", err)
	}
	if err := c.Rcpt("colleague@demo.test", nil); err != nil {
		t.Fatalf("RCPT after release: %v", err)
	}
	c.Close()

	// KEY= removes one override and keeps the others.
	out = mustAdmin(t, dir, url, "policy-set", "demo", "user_external_per_hour=")
	if !regexp.MustCompile(`user_external_per_hour\s+500\s+default`).MatchString(out) ||
		!regexp.MustCompile(`restrict_action\s+restrict\s+tenant override`).MatchString(out) {
		t.Fatalf("policy-set KEY=: %s", out)
	}
	wantOut(t, "policy", mustAdmin(t, dir, url, "policy", "demo"), "tenant_spam_ratio")
}

func dialRelay(t *testing.T, addr string) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	c.CommandTimeout = 30 * time.Second
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	return c
}

// wantSMTP fails unless err is an SMTP refusal with this enhanced code.
func wantSMTP(t *testing.T, err error, class, subject, detail int) {
	t.Helper()
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.EnhancedCode != (smtp.EnhancedCode{class, subject, detail}) {
		t.Fatalf("got %v, want a %d.%d.%d refusal", err, class, subject, detail)
	}
}
