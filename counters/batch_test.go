package counters

import (
	"context"
	"sync"
	"testing"
	"time"
)

// AddAll adds every op or none: one op over its limit leaves every key as
// it was, and reports which op it was.
func TestAddAllAllOrNothing(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			c := im.new(t)
			ctx := context.Background()
			ops := []Op{
				{Key: "a", N: 1, Limit: 3, Window: time.Minute},
				{Key: "b", N: 2, Limit: 0, Window: time.Hour}, // no limit
				{Key: "c", N: 1, Limit: 2, Window: time.Minute},
			}
			for i := range 2 {
				res, err := AddAll(ctx, c, ops, t0)
				if err != nil || res.Failed != -1 {
					t.Fatalf("batch %d: %+v %v", i, res, err)
				}
				if res.Totals[0] != int64(i+1) || res.Totals[1] != int64(2*(i+1)) || res.Totals[2] != int64(i+1) {
					t.Fatalf("batch %d totals %v", i, res.Totals)
				}
			}
			// c is at its limit of 2: the third batch adds nothing anywhere.
			res, err := AddAll(ctx, c, ops, t0)
			if err != nil || res.Failed != 2 {
				t.Fatalf("over the limit: %+v %v, want op 2 failed", res, err)
			}
			if got := mustCount(t, c, "a", time.Minute, t0); got != 2 {
				t.Fatalf("a = %d after a refused batch, want 2", got)
			}
			if got := mustCount(t, c, "b", time.Hour, t0); got != 4 {
				t.Fatalf("b = %d after a refused batch, want 4", got)
			}
			// A key named twice sees the first op's add.
			res, err = AddAll(ctx, c, []Op{{Key: "d", N: 2, Limit: 3, Window: time.Minute}, {Key: "d", N: 2, Limit: 3, Window: time.Minute}}, t0)
			if err != nil || res.Failed != 1 {
				t.Fatalf("same key twice: %+v %v", res, err)
			}
			if got := mustCount(t, c, "d", time.Minute, t0); got != 0 {
				t.Fatalf("d = %d, want 0 (the batch was refused)", got)
			}
			if _, err := AddAll(ctx, c, []Op{{Key: "", N: 1, Window: time.Minute}}, t0); err == nil {
				t.Fatal("an empty key was accepted")
			}
		})
	}
}

// Many goroutines racing batches that share a limited key never push it
// over its limit.
func TestAddAllConcurrent(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			c := im.new(t)
			ctx := context.Background()
			var wg sync.WaitGroup
			var mu sync.Mutex
			added := 0
			for g := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 20 {
						res, err := AddAll(ctx, c, []Op{{Key: "shared", N: 1, Limit: 50, Window: time.Hour},
							{Key: "own", N: 1, Window: time.Hour}}, t0)
						if err != nil {
							t.Error(err)
							return
						}
						if res.Failed == -1 {
							mu.Lock()
							added++
							mu.Unlock()
						}
					}
					_ = g
				}()
			}
			wg.Wait()
			if added != 50 {
				t.Fatalf("%d batches added, want exactly the limit 50", added)
			}
			if got := mustCount(t, c, "shared", time.Hour, t0); got != 50 {
				t.Fatalf("shared = %d, want 50", got)
			}
			if got := mustCount(t, c, "own", time.Hour, t0); got != 50 {
				t.Fatalf("own = %d, want 50 (added only with shared)", got)
			}
		})
	}
}
