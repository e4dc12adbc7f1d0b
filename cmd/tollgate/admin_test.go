package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// devServer runs `tollgate serve --dev` in dir on free ports and returns the
// admin URL and a stop function that waits for a clean exit.
func devServer(t *testing.T, dir string) (string, func()) {
	t.Helper()
	url, _, stop := devServerRelay(t, dir)
	return url, stop
}

// devServerRelay is devServer that also returns the relay port's address,
// for tests that send mail as the demo tenant's connector (loopback).
func devServerRelay(t *testing.T, dir string) (string, string, func()) {
	t.Helper()
	return devServerArgs(t, dir)
}

// devServerArgs is devServerRelay with more serve flags (--config FILE).
func devServerArgs(t *testing.T, dir string, extra ...string) (string, string, func()) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		admin, relay := freePort(t), freePort(t)
		out := &syncBuffer{}
		cmd := exec.Command(binary(t), append([]string{"serve", "--dev", "--listen-relay", relay, "--listen-submission", "",
			"--listen-submissions", "", "--listen-admin", admin}, extra...)...)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		if !waitStarted(t, out, exited) {
			// A port freePort chose was taken by another process before
			// serve bound it: try fresh ones.
			if attempt == 3 || !strings.Contains(out.String(), "address already in use") {
				t.Fatalf("serve --dev did not start:\n%s", out.String())
			}
			continue
		}
		stopped := false
		stop := func() {
			if stopped {
				return
			}
			stopped = true
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-exited
				t.Errorf("server did not stop on SIGTERM:\n%s", out.String())
			}
		}
		t.Cleanup(stop)
		return "http://" + admin, relay, stop
	}
}

// admin runs `tollgate admin --server URL args...` in dir.
func admin(t *testing.T, dir, url string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"admin", "--server", url}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustAdmin(t *testing.T, dir, url string, args ...string) string {
	t.Helper()
	out, err := admin(t, dir, url, args...)
	if err != nil {
		t.Fatalf("tollgate admin %v: %v\n%s", args, err, out)
	}
	return out
}

// The CLI drives the directory through the API, and `admin audit verify`
// notices an audit entry edited in the database behind Tollgate's back.
func TestAdminCLI(t *testing.T) {
	dir := t.TempDir()
	url, stop := devServer(t, dir)

	out := mustAdmin(t, dir, url, "tenant-create", "--license", "licensed", "--seats", "5", "acme")
	if !strings.Contains(out, `created tenant`) {
		t.Fatalf("tenant-create: %s", out)
	}
	var ts struct {
		Tenants []struct {
			ID   int64
			Name string
		}
	}
	if err := json.Unmarshal([]byte(mustAdmin(t, dir, url, "--json", "tenants")), &ts); err != nil {
		t.Fatal(err)
	}
	var id int64
	for _, tn := range ts.Tenants {
		if tn.Name == "acme" {
			id = tn.ID
		}
	}
	if id == 0 {
		t.Fatalf("acme not listed: %+v", ts)
	}
	tid := fmt.Sprint(id)
	if out := mustAdmin(t, dir, url, "tenant-licence", "--tenant", tid, "--license", "expired"); !strings.Contains(out, "expired") {
		t.Fatalf("tenant-licence: %s", out)
	}
	if out, err := admin(t, dir, url, "tenant-licence", "--tenant", tid, "--license", "forever"); err == nil || !strings.Contains(out, "forever") {
		t.Fatalf("a bad licence must be refused naming it: %v %s", err, out)
	}
	if out := mustAdmin(t, dir, url, "domain-add", "--tenant", tid, "acme.test"); !strings.Contains(out, `acme.test. IN TXT "tollgate-verification=`) {
		t.Fatalf("domain-add does not print the record: %s", out)
	}
	if out := mustAdmin(t, dir, url, "domains", "--tenant", tid); !strings.Contains(out, "pending") {
		t.Fatalf("domains: %s", out)
	}
	out = mustAdmin(t, dir, url, "connector-create", "--tenant", tid, "--name", "onprem", "192.0.2.0/24", "198.51.100.7")
	var cid int64
	if _, err := fmt.Sscanf(out, "created connector %d", &cid); err != nil {
		t.Fatalf("connector-create: %s", out)
	}
	out = mustAdmin(t, dir, url, "connectors", "--tenant", tid)
	if !strings.Contains(out, "onprem") || !strings.Contains(out, "token:bootstrap") || !strings.Contains(out, "198.51.100.7/32") {
		t.Fatalf("connectors: %s", out)
	}
	mustAdmin(t, dir, url, "connector-delete", "--tenant", tid, fmt.Sprint(cid))
	if out := mustAdmin(t, dir, url, "connectors", "--tenant", tid); !strings.Contains(out, "deleted") {
		t.Fatalf("a deleted connector must stay listed: %s", out)
	}
	if out := mustAdmin(t, dir, url, "audit", "--action", "connector.create", "--days", "1"); !strings.Contains(out, fmt.Sprintf("connector:%d", cid)) {
		t.Fatalf("audit: %s", out)
	}
	// Bad input: a clear error naming the value, and a non-zero exit.
	if out, err := admin(t, dir, url, "connector-create", "--tenant", tid, "--name", "x", "nonsense"); err == nil || !strings.Contains(out, "ip_ranges[0]") {
		t.Fatalf("bad range: %v %s", err, out)
	}
	if out, err := admin(t, dir, url, "domains"); err == nil || !strings.Contains(out, "--tenant") {
		t.Fatalf("missing --tenant: %v %s", err, out)
	}
	// A tenant-scoped token from the CLI works for that tenant only.
	out = mustAdmin(t, dir, url, "token-create", "--tenant", tid, "ci")
	secret := strings.TrimSpace(out[strings.LastIndex(out, "\n\n")+2:])
	if !strings.HasPrefix(secret, "tg_") {
		t.Fatalf("token-create: %s", out)
	}
	if out := mustAdmin(t, dir, url, "--token", secret, "domains", "--tenant", tid); !strings.Contains(out, "acme.test") {
		t.Fatalf("tenant token on its tenant: %s", out)
	}
	if out, err := admin(t, dir, url, "--token", secret, "domains", "--tenant", "1"); err == nil || !strings.Contains(out, "404") {
		t.Fatalf("tenant token on another tenant: %v %s", err, out)
	}
	mustAdmin(t, dir, url, "admin-create", "--tenant", tid, "boss@acme.test")
	if out := mustAdmin(t, dir, url, "admins", "--tenant", tid); !strings.Contains(out, "boss@acme.test") || !strings.Contains(out, "not enrolled") {
		t.Fatalf("admins: %s", out)
	}
	if out := mustAdmin(t, dir, url, "audit", "verify"); !strings.Contains(out, "intact") {
		t.Fatalf("audit verify on a clean log: %s", out)
	}

	// Edit one entry behind Tollgate's back (an attacker with the database
	// would drop the append-only triggers first), restart, and verify.
	stop()
	db, err := sql.Open("sqlite", filepath.Join(dir, "tollgate-data", "tollgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET actor = 'someone-else' WHERE id = 2"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	url, _ = devServer(t, dir)
	out, err = admin(t, dir, url, "audit", "verify")
	if err == nil || !strings.Contains(out, "TAMPERED: entry 2") {
		t.Fatalf("audit verify after an edit: %v\n%s", err, out)
	}
}
