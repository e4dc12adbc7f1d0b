package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// waitUntil polls cond until it holds, failing the test at the deadline
// with what cond last said.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last:\n%s", what, d, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The message trace through the CLI with real mail over SMTP: a message
// accepted and delivered, then (after an operator blocks the tenant) one
// refused with 5.7.705. Both are found by sender, recipient, message id,
// tenant and time; `trace ID` names the rule, the code, the help page and
// the figures the check saw.
func TestAdminTrace(t *testing.T) {
	dir := t.TempDir()
	url, relay, _ := devServerRelay(t, dir)
	var otherID int64
	if out := mustAdmin(t, dir, url, "tenant-create", "other"); func() error { _, err := fmt.Sscanf(out, "created tenant %d", &otherID); return err }() != nil {
		t.Fatalf("tenant-create: %s", out)
	}

	body := "From: ok@demo.test\r\nTo: bob@example.net\r\nSubject: Quarterly report\r\nMessage-ID: <q1.trace@demo.test>\r\n\r\n" +
		"Hi Bob, the quarterly report is attached. Regards, Ok\r\n"
	if err := plainSend(relay, "ok@demo.test", []string{"bob@example.net"}, body); err != nil {
		t.Fatalf("send the accepted message: %v", err)
	}
	// Let it be delivered before the block: a block that lands while a
	// message is queued bounces it instead (the queue's hold).
	waitUntil(t, 30*time.Second, "the accepted message delivered before the block", func() (bool, string) {
		out := mustAdmin(t, dir, url, "--json", "trace", "--sender", "ok@demo.test")
		return strings.Contains(out, `"status": "delivered"`), out
	})
	mustAdmin(t, dir, url, "block", "demo", "--reason", "trace test")
	c := dialRelay(t, relay)
	wantSMTP(t, c.Mail("bad@demo.test", nil), 5, 7, 705)
	c.Close()

	// The refused one: found by its sender, and only it.
	out := mustAdmin(t, dir, url, "trace", "--sender", "bad@demo.test")
	if !strings.HasPrefix(out, "TIME") || strings.Contains(out, "ok@demo.test") {
		t.Fatalf("trace --sender bad@demo.test: want a table of bad@demo.test's mail alone:\n%s", out)
	}
	m := regexp.MustCompile(`(?m)^\S+ \S+\s+(s:\S+)\s+bad@demo\.test\s+-\s+-\s+-\s+-\s+refused\s+550 5\.7\.705\s+tenant-threshold\s*$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("trace --sender bad@demo.test: no refused row with 550 5.7.705 and its rule:\n%s", out)
	}
	wantOut(t, "trace count", out, "1 message(s)")
	refused := m[1]

	out = mustAdmin(t, dir, url, "trace", refused)
	wantOut(t, "trace refused", out, "message "+refused, "tenant:      1 demo", "sender:      bad@demo.test",
		"status:      refused 550 5.7.705 by rule tenant-threshold", "help:        "+url+"/ndr/5.7.705")
	// The event line: stage, outcome, rule and the reply, then the figures.
	if !regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d\.\d{3}\s+mail\s+reject\s+tenant-threshold\s+550 5\.7\.705 \S`).MatchString(out) {
		t.Fatalf("trace %s: no MAIL event rejected by tenant-threshold with 550 5.7.705:\n%s", refused, out)
	}
	wantOut(t, "trace refused figures", out, `note="trace test"`, "reason=operator", "client_ip=127.0.0.1")

	// The accepted one is queued at once and delivered to the dev sink soon.
	type summary struct {
		ID, Status, Pool, Verdict, Subject, Code, Rule string
		QueueID                                        string `json:"queue_id"`
		Recipients                                     []string
	}
	var ok summary
	waitUntil(t, 30*time.Second, "the accepted message delivered in the trace", func() (bool, string) {
		out := mustAdmin(t, dir, url, "--json", "trace", "--sender", "ok@demo.test")
		var r struct{ Messages []summary }
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("trace --json: %v\n%s", err, out)
		}
		if len(r.Messages) != 1 {
			t.Fatalf("trace --json --sender ok@demo.test: want 1 message:\n%s", out)
		}
		ok = r.Messages[0]
		return ok.Status == "delivered", out
	})
	if ok.QueueID == "" || ok.ID != ok.QueueID || ok.Pool == "" || ok.Verdict == "" || ok.Subject != "Quarterly report" ||
		ok.Code != "" || ok.Rule != "" || strings.Join(ok.Recipients, ",") != "bob@example.net" {
		t.Fatalf("accepted message's summary: %+v", ok)
	}
	out = mustAdmin(t, dir, url, "trace", ok.ID)
	wantOut(t, "trace accepted", out, "message "+ok.ID, "recipients:  bob@example.net", "message-id:  <q1.trace@demo.test>",
		"subject:     Quarterly report", "pool:        "+ok.Pool, "verdict:     "+ok.Verdict, "status:      delivered")
	if strings.Contains(out, "help:") || strings.Contains(out, "reject") {
		t.Fatalf("trace %s: an accepted message shows a refusal:\n%s", ok.ID, out)
	}
	for _, re := range []string{`\s+rcpt\s+accept\s+-\s+<bob@example\.net>`, `\s+classify\s+ok\s+\S+\s+` + ok.Verdict,
		`\s+queued\s+ok\s`, `\s+delivered\s+ok\s+\S+\s+<bob@example\.net> 250 `} {
		if !regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d\.\d{3}` + re).MatchString(out) {
			t.Fatalf("trace %s: no event matching %s:\n%s", ok.ID, re, out)
		}
	}
	wantOut(t, "trace accepted attrs", out, "pool="+ok.Pool, `subject="Quarterly report"`)

	// The other search keys find the accepted message and only it.
	for _, args := range [][]string{{"--recipient", "BOB@example.net"}, {"--message-id", "q1.trace@demo.test"},
		{"--queue-id", ok.QueueID}, {"--sender", "ok@demo.test", "--since", "1h", "--until", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}} {
		out := mustAdmin(t, dir, url, append([]string{"trace"}, args...)...)
		if !strings.Contains(out, ok.ID) || !strings.Contains(out, "delivered") || strings.Contains(out, refused) || !strings.Contains(out, "1 message(s)") {
			t.Fatalf("trace %v: want the accepted message alone:\n%s", args, out)
		}
	}
	// Tenant and time narrow the search: both messages are demo's and recent.
	out = mustAdmin(t, dir, url, "trace", "--tenant", "demo", "--since", "10m")
	wantOut(t, "trace --tenant demo", out, ok.ID, refused, "2 message(s)")
	out = mustAdmin(t, dir, url, "trace", "--tenant", "demo", "--limit", "1")
	wantOut(t, "trace --limit 1", out, refused, "1 message(s) (the limit")
	for _, args := range [][]string{{"--tenant", "other"}, {"--until", "1h"}, {"--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)},
		{"--sender", "nobody@demo.test"}} {
		if out := mustAdmin(t, dir, url, append([]string{"trace"}, args...)...); !strings.Contains(out, "0 message(s)") {
			t.Fatalf("trace %v: want no messages:\n%s", args, out)
		}
	}

	// Errors name what is wrong.
	wantFail(t, dir, url, []string{`--since "2x"`, "RFC 3339"}, "trace", "--since", "2x")
	wantFail(t, dir, url, []string{`--until "yesterday"`}, "trace", "--until", "yesterday")
	wantFail(t, dir, url, []string{"--until", "not after --since"}, "trace", "--since", "1h", "--until", "2h")
	wantFail(t, dir, url, []string{"--limit 0", "1..500"}, "trace", "--limit", "0")
	wantFail(t, dir, url, []string{`"nosuch"`}, "trace", "--tenant", "nosuch")
	wantFail(t, dir, url, []string{"404", "s:nosuch", "--sender"}, "trace", "s:nosuch")
	wantFail(t, dir, url, []string{"not both"}, "trace", ok.ID, "--sender", "ok@demo.test")
	wantFail(t, dir, url, []string{"at most one"}, "trace", ok.ID, refused)

	// A tenant admin's token sees its own tenant's mail, not another's.
	out = mustAdmin(t, dir, url, "token-create", "--tenant", fmt.Sprint(otherID), "other-admin")
	otherTok := strings.TrimSpace(out[strings.LastIndex(out, "\n\n")+2:])
	if out := mustAdmin(t, dir, url, "--token", otherTok, "trace"); !strings.Contains(out, "0 message(s)") {
		t.Fatalf("another tenant's admin sees demo's mail:\n%s", out)
	}
	wantFail(t, dir, url, []string{"404", fmt.Sprintf("message %s is not in the trace", ok.ID)}, "--token", otherTok, "trace", ok.ID)
}
