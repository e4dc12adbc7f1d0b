package password

import (
	"context"
	"runtime"
	"sync/atomic"
)

// slots bounds concurrent argon2 computations. Each acquirer releases into
// the channel it acquired from, so SetConcurrency can swap the channel at any
// time; hashes already running under the old size finish under it.
var slots atomic.Pointer[chan struct{}]

func init() { SetConcurrency(runtime.NumCPU()) }

// SetConcurrency sets how many hashes may run at once process-wide
// (default runtime.NumCPU()); n < 1 means 1. Meant for start-up: while hashes
// started under the old limit finish, the total may briefly exceed n.
func SetConcurrency(n int) {
	ch := make(chan struct{}, max(n, 1))
	slots.Store(&ch)
}

// acquire waits for a slot or ctx. It returns ctx's error if ctx ends first.
func acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err // select below would pick at random between a free slot and a done ctx
	}
	ch := *slots.Load()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
