package counters

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Counts survive a restart of the embedded counter: a limit half used
// before the restart is half used after it, and still expires on time.
func TestFileSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counters")
	c, err := OpenFile(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 7 {
		if _, _, err := c.AddIfBelow(ctx, "user:a", 1, 10, time.Minute, t0); err != nil {
			t.Fatal(err)
		}
	}
	mustAdd(t, c, "tenant:b", 5, 24*time.Hour, t0)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c, err = OpenFile(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := mustCount(t, c, "user:a", time.Minute, t0.Add(time.Second)); got != 7 {
		t.Fatalf("after restart user:a = %d, want 7", got)
	}
	total, added, err := c.AddIfBelow(ctx, "user:a", 4, 10, time.Minute, t0.Add(time.Second))
	if err != nil || added || total != 7 {
		t.Fatalf("AddIfBelow past the limit after restart: total %d added %v err %v; want 7 false nil", total, added, err)
	}
	if got := mustCount(t, c, "user:a", time.Minute, t0.Add(2*time.Minute)); got != 0 {
		t.Fatalf("user:a two windows later = %d, want 0", got)
	}
	if got := mustCount(t, c, "tenant:b", 24*time.Hour, t0.Add(time.Hour)); got != 5 {
		t.Fatalf("tenant:b after restart = %d, want 5", got)
	}
}

// A file that is not a counters snapshot is refused with an error naming
// it, rather than silently starting from zero (which would reset limits).
func TestFileRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counters")
	if err := os.WriteFile(path, []byte("not gob"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(path, time.Hour); err == nil {
		t.Fatal("OpenFile accepted a garbage file")
	}
}
