// Package counters counts events per key over sliding windows, either in
// process (NewMemory, one node) or in Redis (NewRedis, a fleet sharing limits).
//
// Granularity: a window is split into fixed sub-buckets of width
// window/60, truncated to whole milliseconds and at least 1 ms. A count
// sums the buckets whose start lies in (now-window, now]: a bucket leaves the
// window whole, so an event stops counting between window-width and window
// after it happened. The count is never more than the exact one and at most
// one bucket (about 1/60 of the limit's traffic) less, so a limit can admit
// up to one bucket's worth of extra events at the window's trailing edge.
// Times are truncated to the millisecond. Both implementations share this arithmetic (see span), so the
// same sequence of calls gives the same answers on either.
//
// Counts are kept per (key, window): a key added to with a 1-minute window
// and read with a 1-hour window reads a different, empty series. Use one
// window per key.
package counters

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Counter counts events per key over a sliding window.
type Counter interface {
	// Add records n events for key at now and returns the total within (now-window, now] including them.
	Add(ctx context.Context, key string, n int64, window time.Duration, now time.Time) (int64, error)
	// Count returns the total within (now-window, now] without adding.
	Count(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	// AddIfBelow adds n only if the total after adding would be <= limit,
	// atomically (no read-modify-write race across goroutines or nodes); it
	// returns the total (after adding if it did) and whether it added.
	AddIfBelow(ctx context.Context, key string, n, limit int64, window time.Duration, now time.Time) (total int64, added bool, err error)
	Close() error
}

// Buckets is how many sub-buckets a window is split into; the count error is
// at most one bucket (window/Buckets).
const Buckets = 60

// ErrInvalid is wrapped by every argument error, so callers can tell a
// programming error from a storage failure.
var ErrInvalid = errors.New("counters: invalid argument")

// span is the bucket arithmetic both implementations share. Bucket i covers
// [i*width, (i+1)*width) in Unix milliseconds; buckets lo < i <= cur are in
// the window.
type span struct {
	width int64 // bucket width, ms
	cur   int64 // index of the bucket holding now
	lo    int64 // newest index that is out of the window
	slots int64 // ring size that covers every in-window index
}

// newSpan validates the common arguments and computes the bucket span.
func newSpan(key string, window time.Duration, now time.Time) (span, error) {
	if key == "" {
		return span{}, fmt.Errorf("%w: key is empty", ErrInvalid)
	}
	if window < time.Millisecond {
		return span{}, fmt.Errorf("%w: window %v must be at least 1ms", ErrInvalid, window)
	}
	winMs := window.Milliseconds()
	width := max(winMs/Buckets, 1)
	nowMs := now.UnixMilli()
	return span{
		width: width,
		cur:   floorDiv(nowMs, width),
		lo:    floorDiv(nowMs-winMs, width),
		slots: (winMs+width-1)/width + 1,
	}, nil
}

// ttl is how long an idle key must be kept: the window plus one bucket.
func (s span) ttl(window time.Duration) time.Duration {
	return window + time.Duration(s.width)*time.Millisecond
}

// opSpan validates an add of n under limit (0 for a plain add) and computes
// its span: the checks every Add and AddIfBelow make first.
func opSpan(key string, n, limit int64, window time.Duration, now time.Time) (span, error) {
	sp, err := newSpan(key, window, now)
	if err != nil {
		return span{}, err
	}
	if err := checkN(n); err != nil {
		return span{}, err
	}
	if err := checkLimit(limit); err != nil {
		return span{}, err
	}
	return sp, nil
}

func checkN(n int64) error {
	if n < 0 {
		return fmt.Errorf("%w: n %d is negative", ErrInvalid, n)
	}
	return nil
}

func checkLimit(limit int64) error {
	if limit < 0 {
		return fmt.Errorf("%w: limit %d is negative", ErrInvalid, limit)
	}
	return nil
}

// floorDiv divides rounding toward negative infinity, so times before 1970
// still land in the right bucket.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
