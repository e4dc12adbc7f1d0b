package counters

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Op is one count in a batch: add N to Key's window, and, when Limit > 0,
// only if the total after adding stays at or below Limit.
type Op struct {
	Key    string
	N      int64
	Limit  int64 // 0: no limit, always add
	Window time.Duration
	// PlusNew, in a Record only: when i > 0, the new members of the
	// record's sets[i-1] are added to N.
	PlusNew int
	// At, when set, is the time this op counts at instead of the call's
	// now: a reader with its own clock (the delivery feedback) can ride
	// in another caller's batch and read exactly what it would alone
	// (TestOpAtReadsAtItsOwnTime). Like any op it is exact while its key's
	// clock moves forward by less than a window: the embedded store
	// expires a shard's idle keys by the latest now (or At) its shard has
	// seen, and on Redis a read prunes the buckets its own window has
	// left, so the callers sharing a key must share a clock — as the
	// feedback's writers and readers do (both time.Now).
	At time.Time
}

// Batch is the result of AddAll.
type Batch struct {
	// Totals are the ops' totals within their windows: after adding when
	// the batch was added, as they stand when it was not.
	Totals []int64
	// Failed is the index of the first op whose limit would be exceeded,
	// or -1 when every op was added.
	Failed int
}

// Batcher counts several keys in one atomic step: either every op is
// added, or (when one would exceed its limit) none is. On Redis this is
// one round trip however many keys, which is what keeps a decision that
// touches five counters fast on a fleet.
type Batcher interface {
	AddAll(ctx context.Context, ops []Op, now time.Time) (Batch, error)
}

// AddAll runs ops on c in one step if c is a Batcher, else op by op (then
// without the all-or-nothing guarantee across keys).
func AddAll(ctx context.Context, c Counter, ops []Op, now time.Time) (Batch, error) {
	if b, ok := c.(Batcher); ok {
		return b.AddAll(ctx, ops, now)
	}
	res := Batch{Totals: make([]int64, len(ops)), Failed: -1}
	for i, op := range ops {
		if op.Limit <= 0 {
			t, err := c.Add(ctx, op.Key, op.N, op.Window, op.at(now))
			if err != nil {
				return Batch{}, err
			}
			res.Totals[i] = t
			continue
		}
		t, ok, err := c.AddIfBelow(ctx, op.Key, op.N, op.Limit, op.Window, op.at(now))
		if err != nil {
			return Batch{}, err
		}
		res.Totals[i] = t
		if !ok {
			res.Failed = i
			return res, nil
		}
	}
	return res, nil
}

// at is when op counts: its own At, else the call's now.
func (op Op) at(now time.Time) time.Time {
	if op.At.IsZero() {
		return now
	}
	return op.At
}

func checkOps(ops []Op, now time.Time) ([]span, error) {
	spans := make([]span, len(ops))
	for i, op := range ops {
		sp, err := opSpan(op.Key, op.N, op.Limit, op.Window, op.at(now))
		if err != nil {
			return nil, err
		}
		spans[i] = sp
	}
	return spans, nil
}

// AddAll implements Batcher: the shards involved are locked in index
// order (no deadlock between batches), checked, then added.
func (c *memory) AddAll(_ context.Context, ops []Op, now time.Time) (Batch, error) {
	spans, err := checkOps(ops, now)
	if err != nil {
		return Batch{}, err
	}
	idx := make([]int, 0, len(ops))
	for _, op := range ops {
		idx = append(idx, c.shardIndex(op.Key))
	}
	order := slices.Clone(idx)
	slices.Sort(order)
	order = slices.Compact(order)
	for _, i := range order {
		c.shards[i].mu.Lock()
	}
	defer func() {
		for _, i := range order {
			c.shards[i].mu.Unlock()
		}
	}()
	nowMs := now.UnixMilli()
	sers := make([]*series, len(ops))
	res := Batch{Totals: make([]int64, len(ops)), Failed: -1}
	for i, op := range ops {
		sh := &c.shards[idx[i]]
		if nowMs > sh.clock {
			sh.clock = nowMs
		}
		sers[i] = sh.getOrCreate(memKey{op.Key, spans[i].width}, spans[i], op.Window)
		res.Totals[i] = sers[i].sum(spans[i])
	}
	// Two ops on one key see each other's adds, as they would one by one.
	stand := slices.Clone(res.Totals)
	pending := map[*series]int64{}
	for i, op := range ops {
		total := stand[i] + pending[sers[i]]
		if op.Limit > 0 && total+op.N > op.Limit {
			res.Totals, res.Failed = stand, i
			res.Totals[i] = total
			return res, nil
		}
		pending[sers[i]] += op.N
		res.Totals[i] = total + op.N
	}
	for i, op := range ops {
		sers[i].add(spans[i], op.N)
	}
	for _, i := range order {
		c.shards[i].sweep()
	}
	return res, nil
}

// AddAll implements Batcher in one Lua script: Redis runs it atomically,
// so nodes sharing the keys never overshoot any of the limits.
func (c *redisCounter) AddAll(ctx context.Context, ops []Op, now time.Time) (Batch, error) {
	spans, err := checkOps(ops, now)
	if err != nil {
		return Batch{}, err
	}
	keys := make([]string, len(ops))
	args := make([]any, 0, 5*len(ops))
	for i, op := range ops {
		keys[i] = c.hashKey(op.Key, spans[i])
		args = append(args, spans[i].cur, spans[i].lo, op.N, spans[i].ttl(op.Window).Milliseconds(), op.Limit)
	}
	res, err := addAllScript.Run(ctx, c.client, keys, args...).Int64Slice()
	if err != nil {
		return Batch{}, fmt.Errorf("counters: redis add-all (%d keys, first %q): %w", len(ops), ops[0].Key, err)
	}
	if len(res) != len(ops)+1 {
		return Batch{}, fmt.Errorf("counters: redis add-all: unexpected reply %v", res)
	}
	return Batch{Totals: res[:len(ops)], Failed: int(res[len(ops)])}, nil
}
