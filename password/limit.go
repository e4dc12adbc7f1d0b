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

// Limiter bounds the concurrent hashes of one kind of caller beneath the
// process-wide bound: admin sign-in, which anyone can call, gets a Limiter
// smaller than the process-wide slots, so however many sign-ins queue up,
// SMTP AUTH always finds a slot of its own.
type Limiter struct{ ch chan struct{} }

// NewLimiter lets n hashes of its caller run at once (n < 1 means 1).
func NewLimiter(n int) *Limiter { return &Limiter{ch: make(chan struct{}, max(n, 1))} }

// VerifyContext is VerifyContext under the limiter: it waits for one of its
// slots, then for a process-wide one.
func (l *Limiter) VerifyContext(ctx context.Context, secret, phc string) (bool, error) {
	if _, _, _, err := decode(phc); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	select {
	case l.ch <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-l.ch }()
	return VerifyContext(ctx, secret, phc)
}
