package counters

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// luaSum totals the in-window fields of the hash KEYS[1] (bucket index →
// count) and, when prune is set, deletes fields at or below lo so the hash
// stays at about one window of buckets. Indices are Unix ms / width, below
// 2^53, so Lua's doubles hold them exactly.
const luaSum = `
local function sum(key, lo, cur, prune)
  local vals = redis.call('HGETALL', key)
  local total = 0
  local stale = {}
  for i = 1, #vals, 2 do
    local idx = tonumber(vals[i])
    if idx <= lo then
      stale[#stale + 1] = vals[i]
    elseif idx <= cur then
      total = total + tonumber(vals[i + 1])
    end
  end
  if prune and #stale > 0 then
    redis.call('HDEL', key, unpack(stale))
  end
  return total
end
`

// ARGV: cur, lo, n, ttl ms.
var addScript = redis.NewScript(luaSum + `
local n = tonumber(ARGV[3])
local total = sum(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[1]), true)
if n > 0 then
  redis.call('HINCRBY', KEYS[1], ARGV[1], n)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return total + n
`)

// ARGV: cur, lo. Read-only, so it never prunes.
var countScript = redis.NewScript(luaSum + `
return sum(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[1]), false)
`)

// ARGV: cur, lo, n, ttl ms, limit. The check and the add run in one script,
// which Redis executes atomically, so nodes sharing the key cannot overshoot.
var addIfBelowScript = redis.NewScript(luaSum + `
local n = tonumber(ARGV[3])
local total = sum(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[1]), true)
if total + n > tonumber(ARGV[5]) then
  return {total, 0}
end
if n > 0 then
  redis.call('HINCRBY', KEYS[1], ARGV[1], n)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return {total + n, 1}
`)

// KEYS: one hash per op; ARGV: cur, lo, n, ttl ms, limit per op. Sums
// every key first (an op on a key named twice sees the earlier op's n),
// refuses the whole batch if one limit would be exceeded, else adds all.
// Returns the totals and the failed op's 0-based index, or -1; in a
// refused batch the ops after the failed one report their totals as they
// stand (a read riding in the batch still gets its answer).
var addAllScript = redis.NewScript(luaSum + `
local totals, pending = {}, {}
for i = 1, #KEYS do
  local b = (i - 1) * 5
  local key = KEYS[i]
  if pending[key] == nil then
    pending[key] = sum(key, tonumber(ARGV[b + 2]), tonumber(ARGV[b + 1]), true)
  end
  local n, limit = tonumber(ARGV[b + 3]), tonumber(ARGV[b + 5])
  if limit > 0 and pending[key] + n > limit then
    totals[i] = pending[key]
    for j = i + 1, #KEYS do
      local bj = (j - 1) * 5
      totals[j] = pending[KEYS[j]] or sum(KEYS[j], tonumber(ARGV[bj + 2]), tonumber(ARGV[bj + 1]), false)
    end
    totals[#KEYS + 1] = i - 1
    return totals
  end
  pending[key] = pending[key] + n
  totals[i] = pending[key]
end
for i = 1, #KEYS do
  local b = (i - 1) * 5
  local n = tonumber(ARGV[b + 3])
  if n > 0 then
    redis.call('HINCRBY', KEYS[i], ARGV[b + 1], n)
    redis.call('PEXPIRE', KEYS[i], ARGV[b + 4])
  end
end
totals[#KEYS + 1] = -1
return totals
`)

type redisCounter struct {
	client *redis.Client
	prefix string
}

// NewRedis returns a Counter whose counts live in Redis under prefix, so
// every node using the same server and prefix shares them. It pings the
// server first so a bad address fails at start, not at the first message.
// Maintenance notifications are disabled unless opts sets them, because
// servers without them make go-redis log handshake errors.
func NewRedis(opts *redis.Options, prefix string) (Counter, error) {
	if opts == nil {
		return nil, fmt.Errorf("%w: redis options are nil", ErrInvalid)
	}
	o := *opts
	if o.MaintNotificationsConfig == nil {
		o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	}
	client := redis.NewClient(&o)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("counters: redis at %s: ping: %w", o.Addr, err)
	}
	return &redisCounter{client: client, prefix: prefix}, nil
}

// hashKey names the hash for key at this bucket width; the width is part of
// the name because bucket indices mean nothing at another width.
func (c *redisCounter) hashKey(key string, sp span) string {
	return c.prefix + key + ":" + strconv.FormatInt(sp.width, 10)
}

func (c *redisCounter) Add(ctx context.Context, key string, n int64, window time.Duration, now time.Time) (int64, error) {
	sp, err := opSpan(key, n, 0, window, now)
	if err != nil {
		return 0, err
	}
	total, err := addScript.Run(ctx, c.client, []string{c.hashKey(key, sp)},
		sp.cur, sp.lo, n, sp.ttl(window).Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("counters: redis add %q: %w", key, err)
	}
	return total, nil
}

func (c *redisCounter) Count(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	sp, err := newSpan(key, window, now)
	if err != nil {
		return 0, err
	}
	total, err := countScript.Run(ctx, c.client, []string{c.hashKey(key, sp)}, sp.cur, sp.lo).Int64()
	if err != nil {
		return 0, fmt.Errorf("counters: redis count %q: %w", key, err)
	}
	return total, nil
}

func (c *redisCounter) AddIfBelow(ctx context.Context, key string, n, limit int64, window time.Duration, now time.Time) (int64, bool, error) {
	sp, err := opSpan(key, n, limit, window, now)
	if err != nil {
		return 0, false, err
	}
	res, err := addIfBelowScript.Run(ctx, c.client, []string{c.hashKey(key, sp)},
		sp.cur, sp.lo, n, sp.ttl(window).Milliseconds(), limit).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("counters: redis add-if-below %q: %w", key, err)
	}
	if len(res) != 2 {
		return 0, false, fmt.Errorf("counters: redis add-if-below %q: unexpected reply %v", key, res)
	}
	return res[0], res[1] == 1, nil
}

// Close closes the Redis client.
func (c *redisCounter) Close() error {
	if err := c.client.Close(); err != nil {
		return fmt.Errorf("counters: close redis: %w", err)
	}
	return nil
}
