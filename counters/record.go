package counters

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// SetOp remembers Members in the set named Key: each member is kept for TTL
// after it was last seen, and the set keeps at most Max members (the least
// recently seen leave first). It answers how many of Members were new: not
// in the set, or expired from it. The tenant's recipient novelty is one.
type SetOp struct {
	Key     string
	Members []string
	TTL     time.Duration
	Max     int
}

// Recorded is the result of Record.
type Recorded struct {
	New    []int64 // per set op: how many of its members were new
	Totals []int64 // per op: the total in its window after adding
}

// Recorder remembers set members and counts windows in one step; on Redis
// one round trip (one script), which keeps the evidence a decision reads
// to one network call per message.
type Recorder interface {
	Record(ctx context.Context, sets []SetOp, ops []Op, now time.Time) (Recorded, error)
}

// Record runs sets and ops on c, which must be a Recorder (both
// implementations are). An op whose PlusNew is i > 0 also adds the new
// members of sets[i-1] to its N. Ops in a record have no limits.
func Record(ctx context.Context, c Counter, sets []SetOp, ops []Op, now time.Time) (Recorded, error) {
	r, ok := c.(Recorder)
	if !ok {
		return Recorded{}, fmt.Errorf("%w: counter %T cannot record sets", ErrInvalid, c)
	}
	return r.Record(ctx, sets, ops, now)
}

func checkRecord(sets []SetOp, ops []Op, now time.Time) ([]span, error) {
	for _, s := range sets {
		switch {
		case s.Key == "":
			return nil, fmt.Errorf("%w: set key is empty", ErrInvalid)
		case s.TTL < time.Millisecond:
			return nil, fmt.Errorf("%w: set %q: ttl %v must be at least 1ms", ErrInvalid, s.Key, s.TTL)
		case s.Max < 1:
			return nil, fmt.Errorf("%w: set %q: max %d must be at least 1", ErrInvalid, s.Key, s.Max)
		}
	}
	for _, op := range ops {
		if op.Limit != 0 {
			return nil, fmt.Errorf("%w: op %q: a record takes no limits", ErrInvalid, op.Key)
		}
		if op.PlusNew < 0 || op.PlusNew > len(sets) {
			return nil, fmt.Errorf("%w: op %q: plus-new %d names no set", ErrInvalid, op.Key, op.PlusNew)
		}
	}
	return checkOps(ops, now)
}

// memSet is one set of the embedded counter: member → last seen, Unix ms.
type memSet struct {
	seen  map[string]int64
	ttlMs int64
	max   int
}

// add records members at nowMs and returns how many were new.
func (s *memSet) add(members []string, nowMs int64) int64 {
	var n int64
	for _, m := range members {
		if last, ok := s.seen[m]; !ok || nowMs-last > s.ttlMs {
			n++
		}
		s.seen[m] = nowMs
	}
	if len(s.seen) > s.max {
		s.trim(nowMs)
	}
	return n
}

// trim drops expired members, then the least recently seen down to max.
func (s *memSet) trim(nowMs int64) {
	type ms struct {
		m    string
		last int64
	}
	for m, last := range s.seen {
		if nowMs-last > s.ttlMs {
			delete(s.seen, m)
		}
	}
	if len(s.seen) <= s.max {
		return
	}
	all := make([]ms, 0, len(s.seen))
	for m, last := range s.seen {
		all = append(all, ms{m, last})
	}
	slices.SortFunc(all, func(a, b ms) int { return int(a.last - b.last) })
	for _, x := range all[:len(all)-s.max] {
		delete(s.seen, x.m)
	}
}

// Record implements Recorder: the sets under their shards' locks, then
// the ops as one AddAll batch.
func (c *memory) Record(ctx context.Context, sets []SetOp, ops []Op, now time.Time) (Recorded, error) {
	if _, err := checkRecord(sets, ops, now); err != nil {
		return Recorded{}, err
	}
	nowMs := now.UnixMilli()
	out := Recorded{New: make([]int64, len(sets))}
	for i, so := range sets {
		sh := c.shard(so.Key)
		sh.mu.Lock()
		if nowMs > sh.clock {
			sh.clock = nowMs
		}
		if sh.sets == nil {
			sh.sets = map[string]*memSet{}
		}
		s := sh.sets[so.Key]
		if s == nil {
			s = &memSet{seen: map[string]int64{}}
			sh.sets[so.Key] = s
		}
		s.ttlMs, s.max = so.TTL.Milliseconds(), so.Max
		out.New[i] = s.add(so.Members, nowMs)
		sh.mu.Unlock()
	}
	resolved := slices.Clone(ops)
	for i, op := range resolved {
		if op.PlusNew > 0 {
			resolved[i].N += out.New[op.PlusNew-1]
		}
	}
	b, err := c.AddAll(ctx, resolved, now)
	if err != nil {
		return Recorded{}, err
	}
	out.Totals = b.Totals
	return out, nil
}

// sweepSets drops expired members and empty sets; caller holds sh.mu.
func (sh *shard) sweepSets() {
	for k, s := range sh.sets {
		s.trim(sh.clock)
		if len(s.seen) == 0 {
			delete(sh.sets, k)
		}
	}
}

// recordScript: KEYS are the set keys then the op hash keys. ARGV: the
// number of sets, now ms; per set ttl ms, max, member count, members; per
// op cur, lo, n, ttl ms, plus-new. Returns the new counts, then the totals.
var recordScript = redis.NewScript(luaSum + `
local nsets, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local a = 3
local out = {}
for s = 1, nsets do
  local key = KEYS[s]
  local ttl, max, nm = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  a = a + 3
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (now - ttl))
  local added = 0
  if nm > 0 then
    local args = {}
    for i = 0, nm - 1 do
      args[#args + 1] = now
      args[#args + 1] = ARGV[a + i]
    end
    added = redis.call('ZADD', key, unpack(args))
    redis.call('PEXPIRE', key, ttl)
    local card = redis.call('ZCARD', key)
    if card > max then
      redis.call('ZREMRANGEBYRANK', key, 0, card - max - 1)
    end
  end
  a = a + nm
  out[s] = added
end
for i = nsets + 1, #KEYS do
  local cur, lo, n, plus = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 4])
  local ttl = ARGV[a + 3]
  a = a + 5
  if plus > 0 then n = n + out[plus] end
  local total = sum(KEYS[i], lo, cur, true)
  if n > 0 then
    redis.call('HINCRBY', KEYS[i], cur, n)
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
  out[#out + 1] = total + n
end
return out
`)

// Record implements Recorder in one Lua script (one round trip). Sets are
// sorted sets scored by last sighting.
func (c *redisCounter) Record(ctx context.Context, sets []SetOp, ops []Op, now time.Time) (Recorded, error) {
	spans, err := checkRecord(sets, ops, now)
	if err != nil {
		return Recorded{}, err
	}
	keys := make([]string, 0, len(sets)+len(ops))
	args := []any{len(sets), now.UnixMilli()}
	for _, s := range sets {
		keys = append(keys, c.prefix+"set:"+s.Key)
		args = append(args, s.TTL.Milliseconds(), s.Max, len(s.Members))
		for _, m := range s.Members {
			args = append(args, m)
		}
	}
	for i, op := range ops {
		keys = append(keys, c.hashKey(op.Key, spans[i]))
		args = append(args, spans[i].cur, spans[i].lo, op.N, spans[i].ttl(op.Window).Milliseconds(), op.PlusNew)
	}
	res, err := recordScript.Run(ctx, c.client, keys, args...).Int64Slice()
	if err != nil {
		return Recorded{}, fmt.Errorf("counters: redis record (%d sets, %d ops): %w", len(sets), len(ops), err)
	}
	if len(res) != len(sets)+len(ops) {
		return Recorded{}, fmt.Errorf("counters: redis record: unexpected reply %v", res)
	}
	return Recorded{New: res[:len(sets)], Totals: res[len(sets):]}, nil
}
