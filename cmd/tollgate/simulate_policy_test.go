package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// simulatePolicy runs `tollgate simulate policy` against the dev server.
func simulatePolicy(t *testing.T, dir, url string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"simulate", "policy", "--server", url}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The dry run end to end through the CLI: mail relayed over SMTP, then a
// block the operator made; the dry run (which replays no operator action)
// says the tenant would not have been stopped, and names the message the
// block refused as unjudged. Bad flags and settings are named.
func TestSimulatePolicyCLI(t *testing.T) {
	dir := t.TempDir()
	url, relay, _ := devServerRelay(t, dir)
	for i := 1; i <= 3; i++ {
		body := fmt.Sprintf("From: ok@demo.test\r\nTo: bob@example.net\r\nSubject: Report %d\r\nMessage-ID: <r%d.dry@demo.test>\r\n\r\nHi Bob, the report is attached.\r\n", i, i)
		if err := plainSend(relay, "ok@demo.test", []string{"bob@example.net"}, body); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	waitUntil(t, 30*time.Second, "the messages delivered before the block", func() (bool, string) {
		out := mustAdmin(t, dir, url, "--json", "trace", "--sender", "ok@demo.test")
		return strings.Count(out, `"status": "delivered"`) == 3, out
	})
	mustAdmin(t, dir, url, "block", "demo", "--reason", "dry run test")
	c := dialRelay(t, relay)
	wantSMTP(t, c.Mail("late@demo.test", nil), 5, 7, 705)
	c.Close()

	var rep struct {
		Tenants []struct {
			Tenant, Outcome string
			Transactions    int
			Unjudged        int
			Actual          struct{ Stopped *struct{ Message int } }
		}
	}
	waitUntil(t, 10*time.Second, "the refused MAIL in the dry run", func() (bool, string) {
		out, err := simulatePolicy(t, dir, url, "--json", "--set", "tenant_spam_ratio=0.2", "--since", "1h")
		if err != nil {
			t.Fatalf("simulate policy: %v\n%s", err, out)
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("decode: %v\n%s", err, out)
		}
		return len(rep.Tenants) == 1 && rep.Tenants[0].Transactions == 4, out
	})
	d := rep.Tenants[0]
	if d.Tenant != "demo" || d.Outcome != "would not be stopped" || d.Actual.Stopped == nil || d.Actual.Stopped.Message != 4 || d.Unjudged != 1 {
		t.Fatalf("report: %+v", d)
	}
	out, err := simulatePolicy(t, dir, url, "--set", "tenant_spam_ratio=0.2", "--since", "1h")
	if err != nil {
		t.Fatalf("simulate policy: %v\n%s", err, out)
	}
	wantOut(t, "the table", out, "TENANT", "demo", "would not be stopped", "5.7.705 at #4", "cannot reproduce")

	for _, c := range []struct{ args, want []string }{
		{[]string{"--set", "tenant_spam_ration=0.2"}, []string{"tenant_spam_ration"}},
		{[]string{"--set", "tenant_spam_ratio=2"}, []string{"tenant_spam_ratio"}},
		{[]string{"--set", "nonsense"}, []string{"KEY=VALUE"}},
		{[]string{"--since", "last week"}, []string{"--since", "last week"}},
		{[]string{"--tenant", "nobody"}, []string{"nobody"}},
	} {
		out, err := simulatePolicy(t, dir, url, c.args...)
		if err == nil {
			t.Fatalf("simulate policy %v succeeded:\n%s", c.args, out)
		}
		wantOut(t, fmt.Sprint(c.args), out, c.want...)
	}
}
