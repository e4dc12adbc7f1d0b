package counters

import (
	"context"
	"fmt"
	"time"
)

// Claimer is a store that can let exactly one node of a fleet act on key
// per ttl: the first Claim answers true, the others false until ttl has
// passed. The alert notifier uses it to send one alert per block across a
// fleet. Only the shared (Redis) counters implement it: on one node the
// caller's own memory is enough.
type Claimer interface {
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Claim is SET key NX PX ttl under the counter's prefix.
func (c *redisCounter) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("%w: claim %q: ttl %v is not positive", ErrInvalid, key, ttl)
	}
	ok, err := c.client.SetNX(ctx, c.prefix+"claim:"+key, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("counters: claim %q: %w", key, err)
	}
	return ok, nil
}
