package trace

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
)

// privatePG is a PostgreSQL cluster of the test's own, so it may be stopped
// and started (the shared server never is). It skips, saying why, where
// initdb cannot run.
type privatePG struct {
	pgCtl, dataDir, port, log string
	as                        *syscall.Credential
}

func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("no initdb in /usr/lib/postgresql/*/bin: a PostgreSQL restart needs a private cluster")
	}
	dir := t.TempDir()
	pg := &privatePG{pgCtl: filepath.Join(filepath.Dir(bins[len(bins)-1]), "pg_ctl"), dataDir: filepath.Join(dir, "pgdata"), log: filepath.Join(dir, "pg.log")}
	if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root without a postgres user to run a private cluster as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.as = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		// The test's temp dirs are 0700: let the postgres user through.
		_ = os.Chmod(filepath.Dir(dir), 0o711)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Skip("cannot give the postgres user the temp dir: ", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, pg.port, _ = net.SplitHostPort(ln.Addr().String())
	ln.Close()
	if out, err := pg.run(bins[len(bins)-1], "-D", pg.dataDir, "-A", "trust", "-U", "postgres", "--no-sync"); err != nil {
		t.Skipf("initdb: %v: %s", err, out)
	}
	pg.ctl(t, "start")
	t.Cleanup(func() { _, _ = pg.run(pg.pgCtl, "stop", "-D", pg.dataDir, "-w", "-m", "immediate") })
	return pg
}

func (pg *privatePG) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	if pg.as != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.as}
	}
	return cmd.CombinedOutput()
}

func (pg *privatePG) ctl(t *testing.T, action string) {
	t.Helper()
	args := []string{action, "-D", pg.dataDir, "-w", "-t", "60", "-l", pg.log}
	if action == "start" {
		args = append(args, "-o", fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1 -c fsync=off", pg.port, filepath.Dir(pg.dataDir)))
	} else {
		args = append(args, "-m", "fast")
	}
	if out, err := pg.run(pg.pgCtl, args...); err != nil {
		t.Fatalf("pg_ctl %s: %v: %s", action, err, out)
	}
}

func (pg *privatePG) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable", pg.port)
}

func storedEvents(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.Read.QueryRow(`SELECT count(*) FROM trace_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Events recorded while PostgreSQL restarts are kept and written once it
// is back, none dropped; when it stays down past the retry bound, the kept
// events are dropped and counted in Dropped, and the writer goes on with
// the next ones.
func TestTraceSurvivesPostgresRestart(t *testing.T) {
	pg := startPrivatePG(t)
	ctx := context.Background()
	db, err := store.OpenPostgres(ctx, pg.dsn())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := openStore(ctx, db, 0, nil, nil, retryPolicy{For: 30 * time.Second, MaxPending: 1000, First: 50 * time.Millisecond, Max: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	record := func(from, n int) {
		for i := from; i < from+n; i++ {
			s.Record(ctx, Event{Time: time.Now(), Session: fmt.Sprintf("S%d", i), TenantID: 7, Stage: "mail", Outcome: "accept"})
		}
	}
	record(0, 10)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := storedEvents(t, db); n != 10 {
		t.Fatalf("before the restart: %d events stored, want 10", n)
	}

	pg.ctl(t, "stop")
	record(10, 50) // the writer's batches fail while the server is down
	flushCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_ = s.Flush(flushCtx) // an attempt now: it fails, and the events are kept
	cancel()
	pg.ctl(t, "start")
	record(60, 5)
	waitFor(t, "the events of the outage to be written", 20*time.Second, func() bool { return storedEvents(t, db) == 65 })
	if d := s.Dropped(); d != 0 {
		t.Fatalf("%d events dropped over a restart within the retry bound", d)
	}

	// Down for longer than the bound: those are dropped and counted.
	short, err := openStore(ctx, db, 0, nil, nil, retryPolicy{For: 300 * time.Millisecond, MaxPending: 1000, First: 50 * time.Millisecond, Max: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	pg.ctl(t, "stop")
	for i := range 20 {
		short.Record(ctx, Event{Time: time.Now(), Session: fmt.Sprintf("L%d", i), TenantID: 7, Stage: "mail", Outcome: "accept"})
	}
	waitFor(t, "the kept events to be given up and counted", 20*time.Second, func() bool { return short.Dropped() == 20 })
	pg.ctl(t, "start")
	short.Record(ctx, Event{Time: time.Now(), Session: "after", TenantID: 7, Stage: "mail", Outcome: "accept"})
	waitFor(t, "the writer to go on after giving up", 20*time.Second, func() bool { return storedEvents(t, db) == 66 })
}
