package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestSoakShort is the soak in CI: the short mode (two minutes of load,
// every fault once) on the real binary, a private Redis and PostgreSQL. It
// fails on what the soak fails on: a message that got 250 lost or
// delivered twice outside a kill's window, a bounce that should not exist,
// the fleet limit or the compromised tenant's stop exceeded, memory or
// goroutines growing.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak runs three gateways for two minutes; skipped with -short")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed: the soak needs a private Redis it can restart")
	}
	o, err := parseFlags([]string{"-short"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if initdb, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(initdb) == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, o.sharedPG)
		cancel()
		if err != nil {
			t.Skipf("no PostgreSQL: no initdb for a private cluster and %s is unreachable: %v", redactDSN(o.sharedPG), err)
		}
		conn.Close(context.Background())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	w := &testWriter{t: t}
	rep, err := run(ctx, o, w)
	w.flush()
	if err != nil {
		t.Fatal(err)
	}
	if rep.accepted < 500 {
		t.Errorf("only %d messages accepted in the short soak: the load did not run", rep.accepted)
	}
	ran := 0
	for _, f := range rep.faults {
		if !f.start.IsZero() && f.skippedWhy == "" {
			ran++
			if f.err != nil {
				t.Errorf("fault %s %s: %v", f.kind, f.target, f.err)
			}
		}
	}
	if ran < 3 {
		t.Errorf("only %d faults ran", ran)
	}
	for _, f := range rep.failures {
		t.Error(f)
	}
}

// testWriter logs the soak's output line by line.
type testWriter struct {
	t   *testing.T
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			return len(p), nil
		}
		w.t.Log(strings.TrimRight(line, "\n"))
	}
}

func (w *testWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() > 0 {
		w.t.Log(w.buf.String())
	}
}
