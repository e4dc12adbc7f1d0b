package counters

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func mustRecord(t *testing.T, c Counter, sets []SetOp, ops []Op, now time.Time) Recorded {
	t.Helper()
	r, err := Record(context.Background(), c, sets, ops, now)
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	return r
}

// A set answers how many members are new, forgets a member TTL after it
// was last seen (a sighting refreshes it), keeps at most Max members, and
// an op's PlusNew adds the new count in the same step. Same answers on
// every implementation.
func TestRecordSets(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			c := im.new(t)
			rcpts := func(m ...string) []SetOp { return []SetOp{{Key: "t:1:rcpts", Members: m, TTL: 24 * time.Hour, Max: 3}} }
			ops := []Op{{Key: "t:1:new1h", PlusNew: 1, Window: time.Hour}, {Key: "t:1:msgs1h", N: 1, Window: time.Hour}}
			r := mustRecord(t, c, rcpts("a", "b"), ops, t0)
			if r.New[0] != 2 || r.Totals[0] != 2 || r.Totals[1] != 1 {
				t.Fatalf("first: %+v, want new 2, totals [2 1]", r)
			}
			r = mustRecord(t, c, rcpts("a", "c"), ops, t0.Add(time.Minute))
			if r.New[0] != 1 || r.Totals[0] != 3 || r.Totals[1] != 2 {
				t.Fatalf("second: %+v, want new 1 (c), totals [3 2]", r)
			}
			// b was last seen at t0: gone after 24 h; a was refreshed at t0+1m.
			r = mustRecord(t, c, rcpts("a", "b"), nil, t0.Add(24*time.Hour+30*time.Second))
			if r.New[0] != 1 {
				t.Fatalf("after b's ttl: new %d, want 1 (b again, a refreshed)", r.New[0])
			}
			// Max 3: a fourth and fifth member push out the least recent.
			mustRecord(t, c, rcpts("d"), nil, t0.Add(25*time.Hour))
			mustRecord(t, c, rcpts("e"), nil, t0.Add(25*time.Hour+time.Second))
			r = mustRecord(t, c, rcpts("d", "e"), nil, t0.Add(25*time.Hour+2*time.Second))
			if r.New[0] != 0 {
				t.Fatalf("recent members forgotten: new %d", r.New[0])
			}
			r = mustRecord(t, c, rcpts("c"), nil, t0.Add(25*time.Hour+3*time.Second))
			if r.New[0] != 1 {
				t.Fatalf("c should have been pushed out by max 3: new %d", r.New[0])
			}
			// Read-only: no members, N 0.
			r = mustRecord(t, c, nil, []Op{{Key: "t:1:msgs1h", Window: time.Hour}}, t0.Add(2*time.Minute))
			if len(r.New) != 0 || r.Totals[0] != 2 {
				t.Fatalf("read: %+v", r)
			}
		})
	}
}

func TestRecordBadInput(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			c := im.new(t)
			for name, tc := range map[string]struct {
				sets []SetOp
				ops  []Op
			}{
				"empty set key": {sets: []SetOp{{TTL: time.Hour, Max: 1}}},
				"no ttl":        {sets: []SetOp{{Key: "k", Max: 1}}},
				"no max":        {sets: []SetOp{{Key: "k", TTL: time.Hour}}},
				"limit":         {ops: []Op{{Key: "k", N: 1, Limit: 3, Window: time.Hour}}},
				"plus-new":      {ops: []Op{{Key: "k", PlusNew: 1, Window: time.Hour}}},
			} {
				if _, err := Record(context.Background(), c, tc.sets, tc.ops, t0); err == nil {
					t.Errorf("%s: accepted", name)
				}
			}
		})
	}
}

// The embedded counter's sets survive a restart like its windows.
func TestFileKeepsSets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counters")
	c, err := OpenFile(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	set := []SetOp{{Key: "t:9:rcpts", Members: []string{"x", "y"}, TTL: time.Hour, Max: 10}}
	mustRecord(t, c, set, []Op{{Key: "t:9:msgs", N: 1, Window: time.Hour}}, t0)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = OpenFile(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := mustRecord(t, c, set, []Op{{Key: "t:9:msgs", Window: time.Hour}}, t0.Add(time.Minute))
	if r.New[0] != 0 || r.Totals[0] != 1 {
		t.Fatalf("after restart: %+v, want no new members and 1 message", r)
	}
}
