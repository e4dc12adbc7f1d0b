package counters

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Recents is a store that keeps short, capped, newest-first lists a fleet
// shares: a tenant block's evidence (the recent spam behind it) is read
// from every node's messages, not only the deciding node's. Only the shared
// (Redis) counters implement it: on one node the caller's own memory holds
// the same thing.
type Recents interface {
	// PushRecent puts item at the head of the list key, keeps its newest
	// keep items, and lets the whole list expire ttl after the last push.
	PushRecent(ctx context.Context, key string, item []byte, keep int, ttl time.Duration) error
	// Recent returns up to n of the list's newest items, newest first; a
	// list that does not exist (never pushed, or expired) is empty.
	Recent(ctx context.Context, key string, n int) ([][]byte, error)
}

// maxRecentItem bounds one item: the list is evidence, not storage, and a
// caller that forgot to clip its fields must not fill the server.
const maxRecentItem = 16 << 10

func (c *redisCounter) recentKey(key string) string { return c.prefix + "recent:" + key }

// PushRecent is LPUSH, LTRIM and PEXPIRE in one MULTI/EXEC: one round trip,
// and no reader sees the list longer than keep.
func (c *redisCounter) PushRecent(ctx context.Context, key string, item []byte, keep int, ttl time.Duration) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: recent: key is empty", ErrInvalid)
	case keep <= 0:
		return fmt.Errorf("%w: recent %q: keep %d is not positive", ErrInvalid, key, keep)
	case ttl < time.Millisecond:
		return fmt.Errorf("%w: recent %q: ttl %v must be at least 1ms", ErrInvalid, key, ttl)
	case len(item) > maxRecentItem:
		return fmt.Errorf("%w: recent %q: item of %d bytes is over %d", ErrInvalid, key, len(item), maxRecentItem)
	}
	k := c.recentKey(key)
	_, err := c.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, k, item)
		p.LTrim(ctx, k, 0, int64(keep-1))
		p.PExpire(ctx, k, ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("counters: redis push recent %q: %w", key, err)
	}
	return nil
}

// Recent is LRANGE key 0 n-1.
func (c *redisCounter) Recent(ctx context.Context, key string, n int) ([][]byte, error) {
	if key == "" {
		return nil, fmt.Errorf("%w: recent: key is empty", ErrInvalid)
	}
	if n <= 0 {
		return nil, fmt.Errorf("%w: recent %q: n %d is not positive", ErrInvalid, key, n)
	}
	vals, err := c.client.LRange(ctx, c.recentKey(key), 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("counters: redis read recent %q: %w", key, err)
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = []byte(v)
	}
	return out, nil
}
