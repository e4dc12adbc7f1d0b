package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// IP reputation through the CLI: a trial tenant's unknown IP rates low; an
// exception granted with --ttl makes it excepted for that tenant alone
// until it is revoked; the deny and allow lists; and errors that name the
// bad prefix, duration or time.
func TestAdminReputation(t *testing.T) {
	dir := t.TempDir()
	url, _ := devServer(t, dir)
	var trialID int64
	out := mustAdmin(t, dir, url, "tenant-create", "trialco") // trial by default
	if _, err := fmt.Sscanf(out, "created tenant %d", &trialID); err != nil {
		t.Fatalf("tenant-create: %s", out)
	}

	const ip = "192.0.2.7"
	out = mustAdmin(t, dir, url, "ip", ip, "--tenant", "trialco")
	wantOut(t, "ip before", out, fmt.Sprintf("ip %s for tenant %d trialco", ip, trialID), "level:      unknown",
		"low:        yes", "5.7.708", "record:     never seen", "ip="+ip, "first_seen=never")
	if strings.Contains(out, "exception:") {
		t.Fatalf("ip before any exception shows one:\n%s", out)
	}

	before := time.Now()
	out = mustAdmin(t, dir, url, "exception-grant", "trialco", "192.0.2.0/24", "--ttl", "72h", "--reason", "new server, owner verified by phone")
	after := time.Now()
	var excID int64
	if _, err := fmt.Sscanf(out, "granted exception %d", &excID); err != nil {
		t.Fatalf("exception-grant: %s", out)
	}
	wantOut(t, "exception-grant", out, "tenant trialco may send from 192.0.2.0/24 until")

	// Listed with its tenant, prefix and an expiry 72 hours on.
	out = mustAdmin(t, dir, url, "exceptions")
	row := regexp.MustCompile(fmt.Sprintf(`(?m)^%d\s+%d trialco\s+192\.0\.2\.0/24\s+.*\sactive\s+new server, owner verified by phone$`, excID, trialID))
	if !row.MatchString(out) {
		t.Fatalf("exceptions: no active row for exception %d:\n%s", excID, out)
	}
	wantOut(t, "exceptions", out, "1 exception(s) live")
	var ex struct {
		Exceptions []struct {
			ID        int64     `json:"id"`
			TenantID  int64     `json:"tenant_id"`
			ExpiresAt time.Time `json:"expires_at"`
		}
	}
	if err := json.Unmarshal([]byte(mustAdmin(t, dir, url, "--json", "exceptions", "--tenant", fmt.Sprint(trialID))), &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Exceptions) != 1 || ex.Exceptions[0].ID != excID || ex.Exceptions[0].TenantID != trialID ||
		ex.Exceptions[0].ExpiresAt.Before(before.Add(72*time.Hour-time.Second)) || ex.Exceptions[0].ExpiresAt.After(after.Add(72*time.Hour+time.Second)) {
		t.Fatalf("exceptions --json: want exception %d of tenant %d expiring 72h after %s: %+v", excID, trialID, before, ex.Exceptions)
	}
	if out := mustAdmin(t, dir, url, "exceptions", "--tenant", "demo"); row.MatchString(out) || !strings.Contains(out, "0 exception(s)") {
		t.Fatalf("exceptions --tenant demo lists trialco's exception:\n%s", out)
	}

	// The IP rates excepted for trialco, and for no one else.
	out = mustAdmin(t, dir, url, "ip", ip, "--tenant", "trialco")
	wantOut(t, "ip excepted", out, "level:      excepted", "low:        no", fmt.Sprintf("exception:  #%d 192.0.2.0/24 for tenant %d", excID, trialID),
		"new server, owner verified by phone")
	for _, args := range [][]string{{"ip", ip, "--tenant", "demo"}, {"ip", ip}} {
		wantOut(t, fmt.Sprint(args), mustAdmin(t, dir, url, args...), "level:      unknown", "low:        yes")
	}
	wantOut(t, "audit grant", mustAdmin(t, dir, url, "audit", "--action", "reputation.exception.grant"), fmt.Sprintf("exception:%d", excID))

	// Revoked: gone from the live list, shown as revoked with --all, and
	// the IP is low for trialco again at once.
	wantOut(t, "exception-revoke", mustAdmin(t, dir, url, "exception-revoke", fmt.Sprint(excID)),
		fmt.Sprintf("revoked exception %d (tenant %d, 192.0.2.0/24)", excID, trialID))
	if out := mustAdmin(t, dir, url, "exceptions"); row.MatchString(out) || !strings.Contains(out, "0 exception(s) live") {
		t.Fatalf("a revoked exception is still listed as live:\n%s", out)
	}
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^%d\s+%d trialco\s+192\.0\.2\.0/24\s+.*\srevoked \S+ \S+ by \S+`, excID, trialID)).MatchString(
		mustAdmin(t, dir, url, "exceptions", "--all")) {
		t.Fatalf("exceptions --all: exception %d not shown as revoked", excID)
	}
	wantOut(t, "ip after revoke", mustAdmin(t, dir, url, "ip", ip, "--tenant", fmt.Sprint(trialID)), "level:      unknown", "low:        yes")
	wantFail(t, dir, url, []string{"404", fmt.Sprintf("no unrevoked exception %d", excID)}, "exception-revoke", fmt.Sprint(excID))

	// An exception with --expires ends exactly then.
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	out = mustAdmin(t, dir, url, "exception-grant", "--expires", until.Format(time.RFC3339), "--reason", "until the move", "trialco", "2001:db8::/48")
	if _, err := fmt.Sscanf(out, "granted exception %d", &excID); err != nil {
		t.Fatalf("exception-grant --expires: %s", out)
	}
	if err := json.Unmarshal([]byte(mustAdmin(t, dir, url, "--json", "exceptions")), &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Exceptions) != 1 || ex.Exceptions[0].ID != excID || !ex.Exceptions[0].ExpiresAt.Equal(until) {
		t.Fatalf("exceptions after grant --expires %s: %+v", until, ex.Exceptions)
	}
	wantOut(t, "ip v6 excepted", mustAdmin(t, dir, url, "ip", "2001:db8::25", "--tenant", "trialco"), "level:      excepted")

	// The operator lists.
	wantOut(t, "ip-deny", mustAdmin(t, dir, url, "ip-deny", "198.51.100.0/24", "--reason", "abuse reports"), "deny list: added 198.51.100.0/24")
	wantOut(t, "ip-allow", mustAdmin(t, dir, url, "ip-allow", "--reason", "our own relay", "203.0.113.5"), "allow list: added 203.0.113.5/32")
	out = mustAdmin(t, dir, url, "ip-lists")
	for _, re := range []string{`(?m)^\d+\s+deny\s+198\.51\.100\.0/24\s.*abuse reports$`, `(?m)^\d+\s+allow\s+203\.0\.113\.5/32\s.*our own relay$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Fatalf("ip-lists: no line matching %s:\n%s", re, out)
		}
	}
	wantOut(t, "ip denied", mustAdmin(t, dir, url, "ip", "198.51.100.9"), "level:      denied", "low:        yes", "list entry: deny 198.51.100.0/24 (abuse reports)")
	wantOut(t, "ip allowed", mustAdmin(t, dir, url, "ip", "203.0.113.5", "--tenant", "trialco"), "level:      allowed", "low:        no", "list entry: allow 203.0.113.5/32")
	wantOut(t, "ip-unlist", mustAdmin(t, dir, url, "ip-unlist", "198.51.100.0/24"), "unlisted 198.51.100.0/24")
	if out := mustAdmin(t, dir, url, "ip-lists"); strings.Contains(out, "198.51.100.0/24") || !strings.Contains(out, "203.0.113.5/32") {
		t.Fatalf("ip-lists after unlisting 198.51.100.0/24:\n%s", out)
	}
	wantOut(t, "ip unlisted", mustAdmin(t, dir, url, "ip", "198.51.100.9"), "level:      unknown")
	wantFail(t, dir, url, []string{"404", "198.51.100.0/24 is on no list"}, "ip-unlist", "198.51.100.0/24")

	// Errors name the bad value.
	for _, c := range []struct {
		want []string
		args []string
	}{
		{[]string{"10.1.2.3/8", "host bits", "10.0.0.0/8"}, []string{"exception-grant", "trialco", "10.1.2.3/8", "--ttl", "1h", "--reason", "r"}},
		{[]string{`"nonsense"`, "not an IP address or CIDR"}, []string{"exception-grant", "trialco", "nonsense", "--ttl", "1h", "--reason", "r"}},
		{[]string{`"192.0.2.300"`}, []string{"ip-deny", "192.0.2.300", "--reason", "r"}},
		{[]string{`"256.1.1.1/32"`}, []string{"ip-unlist", "256.1.1.1/32"}},
		{[]string{`--ttl "3x"`, "72h"}, []string{"exception-grant", "trialco", "192.0.2.0/24", "--ttl", "3x", "--reason", "r"}},
		{[]string{`--ttl "-5h"`}, []string{"exception-grant", "trialco", "192.0.2.0/24", "--ttl", "-5h", "--reason", "r"}},
		{[]string{`--expires "tomorrow"`, "RFC 3339"}, []string{"exception-grant", "trialco", "192.0.2.0/24", "--expires", "tomorrow", "--reason", "r"}},
		{[]string{"--expires 2020-01-01T00:00:00Z", "in the past"}, []string{"exception-grant", "trialco", "192.0.2.0/24", "--expires", "2020-01-01T00:00:00Z", "--reason", "r"}},
		{[]string{"--ttl", "--expires", "not both"}, []string{"exception-grant", "trialco", "192.0.2.0/24", "--ttl", "1h", "--expires", until.Format(time.RFC3339), "--reason", "r"}},
		{[]string{"--ttl DURATION", "--expires TIME"}, []string{"exception-grant", "trialco", "192.0.2.0/24", "--reason", "r"}},
		{[]string{"--reason"}, []string{"exception-grant", "trialco", "192.0.2.0/24", "--ttl", "1h"}},
		{[]string{"--reason"}, []string{"ip-allow", "192.0.2.0/24"}},
		{[]string{`"trialcoo"`}, []string{"exception-grant", "trialcoo", "192.0.2.0/24", "--ttl", "1h", "--reason", "r"}},
		{[]string{"TENANT", "PREFIX", "got 1"}, []string{"exception-grant", "trialco", "--ttl", "1h", "--reason", "r"}},
		{[]string{`"x1"`}, []string{"exception-revoke", "x1"}},
		{[]string{`"1.2.3"`, "not an IP address"}, []string{"ip", "1.2.3"}},
		{[]string{`"nosuch"`}, []string{"exceptions", "--tenant", "nosuch"}},
	} {
		wantFail(t, dir, url, c.want, c.args...)
	}
	if out := mustAdmin(t, dir, url, "exceptions", "--all"); strings.Contains(out, "10.0.0.0/8") || strings.Contains(out, " r\n") {
		t.Fatalf("a refused grant left an exception behind:\n%s", out)
	}

	// Reputation is the operators' business: a tenant token is told so.
	out = mustAdmin(t, dir, url, "token-create", "--tenant", fmt.Sprint(trialID), "trial-admin")
	tok := strings.TrimSpace(out[strings.LastIndex(out, "\n\n")+2:])
	wantFail(t, dir, url, []string{"404", "needs an operator token"}, "--token", tok, "ip", ip)
	wantFail(t, dir, url, []string{"404", "needs an operator token"}, "--token", tok, "exceptions")
}
