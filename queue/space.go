package queue

import (
	"fmt"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/metrics"
)

// SpaceGuard watches the free space of the spool's file system against a
// floor (queue.min_free_bytes, queue.min_free_percent). Below it the front
// end answers MAIL with 452 4.3.1 and /healthz with 503, instead of taking
// mail it may not be able to write, or filling the disk the trace, the log
// and the store share. The answer is cached for a second: MAIL must not
// cost a statfs each.
type SpaceGuard struct {
	dir      string
	minBytes int64
	minPct   float64
	statfs   func(dir string) (free, total uint64, err error)

	mu     sync.Mutex
	at     time.Time
	reason string
	low    bool
}

// NewSpaceGuard guards dir's file system; minBytes and minPercent of zero
// turn each floor off.
func NewSpaceGuard(dir string, minBytes int64, minPercent float64) *SpaceGuard {
	return &SpaceGuard{dir: dir, minBytes: minBytes, minPct: minPercent, statfs: diskSpace}
}

// Low reports whether free space is under a floor, and says which and by
// how much. A file system that cannot be asked counts as low: the spool
// is in doubt.
func (g *SpaceGuard) Low() (reason string, low bool) {
	if g == nil || (g.minBytes <= 0 && g.minPct <= 0) {
		return "", false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if now := time.Now(); now.Sub(g.at) >= time.Second {
		g.at = now
		g.reason, g.low = g.check()
		if g.low {
			metrics.SpoolLow.Set(1)
		} else {
			metrics.SpoolLow.Set(0)
		}
	}
	return g.reason, g.low
}

func (g *SpaceGuard) check() (string, bool) {
	free, total, err := g.statfs(g.dir)
	if err != nil {
		return fmt.Sprintf("spool %s: free space unknown: %v", g.dir, err), true
	}
	if g.minBytes > 0 && free < uint64(g.minBytes) {
		return fmt.Sprintf("spool %s: %d bytes free, below queue.min_free_bytes %d", g.dir, free, g.minBytes), true
	}
	if g.minPct > 0 && total > 0 {
		if pct := float64(free) * 100 / float64(total); pct < g.minPct {
			return fmt.Sprintf("spool %s: %.2f%% free, below queue.min_free_percent %v", g.dir, pct, g.minPct), true
		}
	}
	return "", false
}
