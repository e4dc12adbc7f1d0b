package queue

import (
	"errors"
	"strings"
	"testing"
)

// The floor trips on bytes or on percent, and a file system that cannot be
// asked counts as low.
func TestSpaceGuard(t *testing.T) {
	for _, c := range []struct {
		name         string
		minB         int64
		minPct       float64
		free, total  uint64
		err          error
		low          bool
		reasonSubstr string
	}{
		{"plenty", 1 << 20, 1, 10 << 30, 100 << 30, nil, false, ""},
		{"bytes", 1 << 30, 0, 512 << 20, 100 << 30, nil, true, "queue.min_free_bytes"},
		{"percent", 0, 5, 4 << 30, 100 << 30, nil, true, "queue.min_free_percent"},
		{"off", 0, 0, 0, 100 << 30, nil, false, ""},
		{"unknown", 1, 0, 0, 0, errors.New("statfs: no such file"), true, "free space unknown"},
	} {
		g := NewSpaceGuard(t.TempDir(), c.minB, c.minPct)
		g.statfs = func(string) (uint64, uint64, error) { return c.free, c.total, c.err }
		reason, low := g.Low()
		if low != c.low || !strings.Contains(reason, c.reasonSubstr) {
			t.Errorf("%s: Low() = %q %v, want low %v with %q", c.name, reason, low, c.low, c.reasonSubstr)
		}
	}
	// The real file system of a temporary directory has more than a byte.
	if reason, low := NewSpaceGuard(t.TempDir(), 1, 0).Low(); low {
		t.Fatalf("a temporary directory is low: %s", reason)
	}
}
