package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// The dry run on a node's data directory, without the API or a token:
// while the node runs (a read-only snapshot beside its writer) and after
// it stopped, the same report; the node's files are not written. A
// directory that is not a data directory, and --data-dir with --server,
// are named.
func TestSimulatePolicyDataDir(t *testing.T) {
	dir := t.TempDir()
	url, relay, stop := devServerRelay(t, dir)
	for i := 1; i <= 3; i++ {
		body := fmt.Sprintf("From: ok@demo.test\r\nTo: bob@example.net\r\nSubject: Report %d\r\nMessage-ID: <d%d.dry@demo.test>\r\n\r\nHi Bob, the report is attached.\r\n", i, i)
		if err := plainSend(relay, "ok@demo.test", []string{"bob@example.net"}, body); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	waitUntil(t, 30*time.Second, "the messages delivered", func() (bool, string) {
		out := mustAdmin(t, dir, url, "--json", "trace", "--sender", "ok@demo.test")
		return strings.Count(out, `"status": "delivered"`) == 3, out
	})
	data := filepath.Join(dir, "tollgate-data")
	local := func(args ...string) (string, error) {
		cmd := exec.Command(binary(t), append([]string{"simulate", "policy", "--data-dir", data}, args...)...)
		cmd.Dir = t.TempDir() // no token, no tollgate-data here
		cmd.Env = append(os.Environ(), "TOLLGATE_TOKEN=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	type report struct {
		Tenants []struct {
			Tenant, Outcome string
			Transactions    int
		}
	}
	read := func(when string) report {
		t.Helper()
		var rep report
		// The trace is written in batches: wait until all three are there.
		waitUntil(t, 10*time.Second, "three transactions in the "+when+" dry run", func() (bool, string) {
			out, err := local("--json", "--set", "tenant_spam_ratio=0.2", "--since", "1h", "--tenant", "demo")
			if err != nil {
				t.Fatalf("simulate policy --data-dir (%s): %v\n%s", when, err, out)
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("decode: %v\n%s", err, out)
			}
			return len(rep.Tenants) == 1 && rep.Tenants[0].Transactions == 3, out
		})
		if d := rep.Tenants[0]; d.Tenant != "demo" || d.Outcome != "unchanged" {
			t.Fatalf("%s: %+v", when, d)
		}
		return rep
	}
	read("running node")
	stop()
	before := dirState(t, data)
	read("stopped node")
	out, err := local("--set", "tenant_spam_ratio=0.2", "--since", "1h")
	if err != nil {
		t.Fatalf("table: %v\n%s", err, out)
	}
	wantOut(t, "the table", out, "TENANT", "demo", "unchanged")
	if after := dirState(t, data); after != before {
		t.Fatalf("the dry run changed the data directory:\nbefore %s\nafter  %s", before, after)
	}

	for _, c := range []struct{ args, want []string }{
		{[]string{"simulate", "policy", "--data-dir", t.TempDir()}, []string{"tollgate.db", "data directory"}},
		{[]string{"simulate", "policy", "--data-dir", data, "--server", url}, []string{"--data-dir", "--server"}},
		{[]string{"simulate", "policy", "--config", "x.toml"}, []string{"--config", "--data-dir"}},
		{[]string{"simulate", "policy", "--data-dir", data, "--set", "tenant_spam_ratio=2"}, []string{"tenant_spam_ratio"}},
		{[]string{"simulate", "policy", "--data-dir", data, "--tenant", "nobody"}, []string{"nobody"}},
	} {
		out, err := exec.Command(binary(t), c.args...).CombinedOutput()
		if err == nil {
			t.Fatalf("%v succeeded:\n%s", c.args, out)
		}
		wantOut(t, fmt.Sprint(c.args), string(out), c.want...)
	}
}

// dirState is the sizes and modification times of the databases in dir
// and their write-ahead logs: what a read-only dry run must leave as it
// found them.
func dirState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	for _, name := range []string{"tollgate.db", "tollgate.db-wal", "trace.db", "trace.db-wal"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || (strings.HasSuffix(name, "-wal") && fi.Size() == 0) {
			// SQLite makes an empty -wal (and -shm) beside a WAL database
			// that is read while no writer has it open: nothing written.
			fmt.Fprintf(&b, "%s: empty; ", name)
			continue
		}
		fmt.Fprintf(&b, "%s: %d %s; ", name, fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
	}
	return b.String()
}
