package main

import (
	"os"
	"strings"
	"testing"
)

// TestMain makes the race-built tollgate processes the tests start exit at
// once. The race runtime sleeps atexit_sleep_ms (1 s by default) before a
// process exits, so it can report races in goroutines still running; the
// tests start a few hundred CLI processes, and that sleep was most of the
// package's wall time. Races are still reported: a child that finds one
// exits with status 66, which the tests see as a failed command.
func TestMain(m *testing.M) {
	if !strings.Contains(os.Getenv("GORACE"), "atexit_sleep_ms") {
		os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	os.Exit(m.Run())
}
