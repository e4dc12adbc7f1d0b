package counters

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

const redisAddr = "127.0.0.1:6379"

// impl builds a fresh Counter for one test; every call for the same test
// shares state (two Redis "nodes" see the same keys).
type impl struct {
	name string
	new  func(t testing.TB) Counter
}

var prefixSeq atomic.Int64

// uniquePrefix keeps concurrent and repeated runs from sharing Redis keys.
func uniquePrefix(t testing.TB) string {
	return fmt.Sprintf("tollgate-test:%s:%d:%d:", t.Name(), time.Now().UnixNano(), prefixSeq.Add(1))
}

// impls returns both implementations; the Redis one skips, naming the
// address and the error, when the server is unreachable.
func impls(t testing.TB) []impl {
	prefix := uniquePrefix(t)
	return []impl{
		{"memory", func(t testing.TB) Counter { return NewMemory() }},
		{"file", func(t testing.TB) Counter {
			c, err := OpenFile(filepath.Join(t.TempDir(), "counters"), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		}},
		{"redis", func(t testing.TB) Counter {
			c, err := NewRedis(&redis.Options{Addr: redisAddr}, prefix)
			if err != nil {
				t.Skipf("redis not reachable at %s, skipping the Redis half: %v", redisAddr, err)
			}
			t.Cleanup(func() {
				cleanupPrefix(t, prefix)
				c.Close()
			})
			return c
		}},
	}
}

// cleanupPrefix deletes this test's keys, which would otherwise live for a
// whole (wall-clock) window.
func cleanupPrefix(t testing.TB, prefix string) {
	rc := redis.NewClient(&redis.Options{Addr: redisAddr,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	defer rc.Close()
	ctx := context.Background()
	iter := rc.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		rc.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Logf("cleanup %s: %v", prefix, err)
	}
}

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func mustAdd(t *testing.T, c Counter, key string, n int64, w time.Duration, now time.Time) int64 {
	t.Helper()
	got, err := c.Add(context.Background(), key, n, w, now)
	if err != nil {
		t.Fatalf("Add(%q, %d): %v", key, n, err)
	}
	return got
}

func mustCount(t *testing.T, c Counter, key string, w time.Duration, now time.Time) int64 {
	t.Helper()
	got, err := c.Count(context.Background(), key, w, now)
	if err != nil {
		t.Fatalf("Count(%q): %v", key, err)
	}
	return got
}

// wantAdd adds n to key at now and fails unless the window's total is then want.
func wantAdd(t *testing.T, c Counter, key string, n int64, w time.Duration, now time.Time, want int64) {
	t.Helper()
	if got := mustAdd(t, c, key, n, w, now); got != want {
		t.Fatalf("Add(%q, %d) at t0%+v = %d, want %d", key, n, now.Sub(t0), got, want)
	}
}

// wantCount fails unless key's total in the window at now is want.
func wantCount(t *testing.T, c Counter, key string, w time.Duration, now time.Time, want int64) {
	t.Helper()
	if got := mustCount(t, c, key, w, now); got != want {
		t.Fatalf("Count(%q) at t0%+v = %d, want %d", key, now.Sub(t0), got, want)
	}
}

func TestCountsWithinWindow(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			c := im.new(t)
			w := time.Minute // 1 s buckets
			wantCount(t, c, "u1", w, t0, 0)
			wantAdd(t, c, "u1", 3, w, t0, 3)
			wantAdd(t, c, "u1", 2, w, t0.Add(10*time.Second), 5)
			wantAdd(t, c, "u1", 0, w, t0.Add(20*time.Second), 5)
			wantCount(t, c, "u1", w, t0.Add(59*time.Second), 5)
		})
	}
}

func TestExpiryAfterWindow(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			c := im.new(t)
			w := time.Minute
			mustAdd(t, c, "u1", 3, w, t0)
			mustAdd(t, c, "u1", 2, w, t0.Add(30*time.Second))
			// At +60 s the first add has left the window.
			wantCount(t, c, "u1", w, t0.Add(60*time.Second), 2)
			wantCount(t, c, "u1", w, t0.Add(90*time.Second), 0)
			// A much later add starts from zero, even though the ring slots
			// still hold old buckets.
			wantAdd(t, c, "u1", 1, w, t0.Add(24*time.Hour), 1)
			// Rolling 24 h: an add 23 h ago still counts, 25 h ago does not.
			d := 24 * time.Hour
			mustAdd(t, c, "day", 10, d, t0)
			wantAdd(t, c, "day", 1, d, t0.Add(23*time.Hour), 11)
			wantCount(t, c, "day", d, t0.Add(25*time.Hour), 1)
		})
	}
}

// TestGranularity pins the documented error: a bucket leaves the window
// whole, as soon as its start is at or before now-window, so an event may stop
// counting up to one bucket width (window/60) early, never late.
func TestGranularity(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			c := im.new(t)
			w := time.Minute // 1 s buckets
			mustAdd(t, c, "g", 1, w, t0.Add(100*time.Millisecond))
			// The bucket starting at t0 is in the window until now-window reaches t0.
			wantCount(t, c, "g", w, t0.Add(59*time.Second+999*time.Millisecond), 1)
			// At +60.05 s the event is only 59.95 s old, but its bucket started
			// at t0 <= now-window, so it no longer counts.
			wantCount(t, c, "g", w, t0.Add(60*time.Second+50*time.Millisecond), 0)
		})
	}
}

func TestKeysIndependent(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			c := im.new(t)
			w := time.Hour
			mustAdd(t, c, "tenant:a", 4, w, t0)
			mustAdd(t, c, "tenant:b", 7, w, t0)
			wantCount(t, c, "tenant:a", w, t0, 4)
			wantCount(t, c, "tenant:b", w, t0, 7)
			wantCount(t, c, "tenant:c", w, t0, 0)
		})
	}
}

func TestAddIfBelow(t *testing.T) {
	ctx := context.Background()
	w := time.Hour
	cases := []struct {
		name      string
		have, n   int64
		wantTotal int64
		wantAdded bool
	}{
		{"just under", 5, 4, 9, true},
		{"exactly at", 5, 5, 10, true},
		{"just over", 5, 6, 5, false},
	}
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			c := im.new(t)
			for _, tc := range cases {
				key := "k:" + tc.name
				mustAdd(t, c, key, tc.have, w, t0)
				total, added, err := c.AddIfBelow(ctx, key, tc.n, 10, w, t0)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if total != tc.wantTotal || added != tc.wantAdded {
					t.Fatalf("%s: got (%d, %v), want (%d, %v)", tc.name, total, added, tc.wantTotal, tc.wantAdded)
				}
				if got := mustCount(t, c, key, w, t0); got != tc.wantTotal {
					t.Fatalf("%s: count after = %d, want %d", tc.name, got, tc.wantTotal)
				}
			}
		})
	}
}

// hammer runs 50 goroutines × 20 AddIfBelow(1, limit 500) on one key,
// spread over the given counters, and checks exactly 500 were added.
func hammer(t *testing.T, cs []Counter) {
	t.Helper()
	const goroutines, each, limit = 50, 20, 500
	var added atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		c := cs[g%len(cs)]
		wg.Go(func() {
			for range each {
				_, ok, err := c.AddIfBelow(context.Background(), "hot", 1, limit, time.Hour, t0)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					added.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := added.Load(); got != limit {
		t.Fatalf("added %d times, want exactly %d", got, limit)
	}
	for i, c := range cs {
		if got := mustCount(t, c, "hot", time.Hour, t0); got != limit {
			t.Fatalf("counter %d: count = %d, want %d", i, got, limit)
		}
	}
}

func TestAddIfBelowConcurrent(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			hammer(t, []Counter{im.new(t)})
		})
	}
}

// TestTwoNodesShareLimit uses two Redis clients as two gateway nodes.
func TestTwoNodesShareLimit(t *testing.T) {
	for _, im := range impls(t) {
		if im.name != "redis" {
			continue
		}
		t.Run(im.name, func(t *testing.T) {
			a, b := im.new(t), im.new(t)
			mustAdd(t, a, "shared", 3, time.Hour, t0)
			if got := mustCount(t, b, "shared", time.Hour, t0); got != 3 {
				t.Fatalf("node b sees %d, want 3", got)
			}
			hammer(t, []Counter{a, b})
		})
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			c := im.new(t)
			check := func(what, wantWord string, err error) {
				t.Helper()
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), wantWord) {
					t.Errorf("%s: err = %v, want ErrInvalid naming %q", what, err, wantWord)
				}
			}
			_, err := c.Add(ctx, "k", -1, time.Minute, t0)
			check("Add n<0", "n ", err)
			_, err = c.Add(ctx, "k", 1, 0, t0)
			check("Add window 0", "window", err)
			_, err = c.Add(ctx, "k", 1, -time.Second, t0)
			check("Add window<0", "window", err)
			_, err = c.Add(ctx, "", 1, time.Minute, t0)
			check("Add empty key", "key", err)
			_, err = c.Count(ctx, "", time.Minute, t0)
			check("Count empty key", "key", err)
			_, err = c.Count(ctx, "k", 0, t0)
			check("Count window 0", "window", err)
			_, _, err = c.AddIfBelow(ctx, "k", -1, 5, time.Minute, t0)
			check("AddIfBelow n<0", "n ", err)
			_, _, err = c.AddIfBelow(ctx, "k", 1, -1, time.Minute, t0)
			check("AddIfBelow limit<0", "limit", err)
			_, _, err = c.AddIfBelow(ctx, "k", 1, 5, 0, t0)
			check("AddIfBelow window 0", "window", err)
			_, _, err = c.AddIfBelow(ctx, "", 1, 5, time.Minute, t0)
			check("AddIfBelow empty key", "key", err)
			if got := mustCount(t, c, "k", time.Minute, t0); got != 0 {
				t.Errorf("rejected calls changed the count to %d", got)
			}
		})
	}
}

func TestNewRedisUnreachable(t *testing.T) {
	_, err := NewRedis(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1}, "x:")
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("err = %v, want an error naming 127.0.0.1:1", err)
	}
}

// TestMemorySweep checks idle keys are dropped once the callers' clock moves on.
func TestMemorySweep(t *testing.T) {
	c := NewMemory().(*memory)
	ctx := context.Background()
	for i := range 100 {
		if _, err := c.Add(ctx, fmt.Sprintf("k%d", i), 1, time.Minute, t0); err != nil {
			t.Fatal(err)
		}
	}
	// Touch every shard well after the window so each sweeps.
	later := t0.Add(time.Hour)
	for i := range 1000 {
		if _, err := c.Add(ctx, fmt.Sprintf("late%d", i), 1, time.Minute, later); err != nil {
			t.Fatal(err)
		}
	}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for k := range sh.m {
			if strings.HasPrefix(k.key, "k") {
				t.Errorf("idle key %q not swept", k.key)
			}
		}
		sh.mu.Unlock()
	}
}

func BenchmarkAdd(b *testing.B) {
	for _, im := range impls(b) {
		b.Run(im.name, func(b *testing.B) {
			c := im.new(b)
			ctx := context.Background()
			now := t0
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				now = now.Add(time.Millisecond)
				if _, err := c.Add(ctx, fmt.Sprintf("k%d", i%1000), 1, time.Minute, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
