package counters

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// memShards spreads keys over independently locked maps so unrelated keys
// do not contend on one mutex.
const memShards = 64

// sweepEvery is how far a shard's clock must advance between sweeps of idle
// keys; it bounds the amortised cost of expiry to one pass per interval.
const sweepEvery = time.Minute

type memKey struct {
	key   string
	width int64
}

type bucket struct {
	idx int64
	n   int64
}

// series is one key's ring of buckets; slot i%len holds bucket i.
type series struct {
	ring   []bucket
	newest int64 // newest bucket index written
	ttlMs  int64 // how long after newest's start the series is dead
}

type shard struct {
	mu        sync.Mutex
	m         map[memKey]*series
	clock     int64 // latest now seen, Unix ms: expiry follows the caller's clock, not the wall clock
	lastSweep int64
	sets      map[string]*memSet // Record's sets, created on first use
}

type memory struct {
	seed   maphash.Seed
	shards [memShards]shard
}

// NewMemory returns an in-process Counter for a single node. Idle keys are
// dropped by a sweep that runs on writes once the callers' clock (the now
// arguments) has advanced by a minute, so no goroutine is needed and Close
// is a no-op.
//
// The ring is exact as long as now does not jump back more than a window per
// key; an older now than that overwrites the ring slot it lands in.
func NewMemory() Counter {
	c := &memory{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[memKey]*series)
	}
	return c
}

func (c *memory) shard(key string) *shard { return &c.shards[c.shardIndex(key)] }

func (c *memory) shardIndex(key string) int { return int(maphash.String(c.seed, key) % memShards) }

// getOrCreate returns mk's series, creating an empty one; caller holds sh.mu.
func (sh *shard) getOrCreate(mk memKey, sp span, window time.Duration) *series {
	s := sh.m[mk]
	if s == nil {
		s = &series{ring: make([]bucket, sp.slots), newest: sp.cur, ttlMs: sp.ttl(window).Milliseconds()}
		for i := range s.ring {
			s.ring[i].idx = -1 << 62 // never in any window
		}
		sh.m[mk] = s
	}
	return s
}

// sum totals the in-window buckets of s.
func (s *series) sum(sp span) int64 {
	var total int64
	for _, b := range s.ring {
		if b.idx > sp.lo && b.idx <= sp.cur {
			total += b.n
		}
	}
	return total
}

func (s *series) add(sp span, n int64) {
	b := &s.ring[floorMod(sp.cur, int64(len(s.ring)))]
	if b.idx != sp.cur {
		*b = bucket{idx: sp.cur}
	}
	b.n += n
	s.newest = max(s.newest, sp.cur)
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// update runs fn on key's series under the shard lock, creating it if
// create is set (fn gets nil otherwise when absent). Stale buckets need no
// eager clearing: sum ignores indices outside the window.
func (c *memory) update(key string, sp span, window time.Duration, now time.Time, create bool, fn func(*series)) {
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	nowMs := now.UnixMilli()
	if nowMs > sh.clock {
		sh.clock = nowMs
	}
	mk := memKey{key, sp.width}
	s := sh.m[mk]
	if s == nil && create {
		s = sh.getOrCreate(mk, sp, window)
	}
	fn(s)
	if create {
		sh.sweep()
	}
}

// sweep drops series idle for longer than their TTL; caller holds sh.mu.
func (sh *shard) sweep() {
	if sh.clock-sh.lastSweep < sweepEvery.Milliseconds() {
		return
	}
	sh.lastSweep = sh.clock
	sh.sweepSets()
	for k, s := range sh.m {
		if sh.clock-s.newest*k.width > s.ttlMs {
			delete(sh.m, k)
		}
	}
}

func (c *memory) Add(_ context.Context, key string, n int64, window time.Duration, now time.Time) (int64, error) {
	sp, err := opSpan(key, n, 0, window, now)
	if err != nil {
		return 0, err
	}
	var total int64
	c.update(key, sp, window, now, true, func(s *series) {
		s.add(sp, n)
		total = s.sum(sp)
	})
	return total, nil
}

func (c *memory) Count(_ context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	sp, err := newSpan(key, window, now)
	if err != nil {
		return 0, err
	}
	var total int64
	c.update(key, sp, window, now, false, func(s *series) {
		if s != nil {
			total = s.sum(sp)
		}
	})
	return total, nil
}

func (c *memory) AddIfBelow(_ context.Context, key string, n, limit int64, window time.Duration, now time.Time) (int64, bool, error) {
	sp, err := opSpan(key, n, limit, window, now)
	if err != nil {
		return 0, false, err
	}
	var total int64
	var added bool
	c.update(key, sp, window, now, true, func(s *series) {
		total = s.sum(sp)
		if total+n <= limit {
			s.add(sp, n)
			total += n
			added = true
		}
	})
	return total, added, nil
}

func (c *memory) Close() error { return nil }
