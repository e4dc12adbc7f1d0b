package smtpd

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/metrics"
	"github.com/tollgate-mail/tollgate/trace"
)

// TraceBudget bounds what connections no tenant is attributed to may write
// to the message trace. Such a client can be anyone; left alone, four of
// them pipelining refused RCPTs wrote 93 MB of trace in ten seconds and
// pushed tenants' events out of the trace's buffer. Within the budget their
// events are kept whole; past it they are counted, and one summary event per
// client address and window says how many of which kind were left out.
// Attributed sessions are never limited by it.
type TraceBudget struct {
	// PerMinute is how many events of unattributed connections from one
	// client address (IPv4 address, IPv6 /64) are kept whole per Window
	// (trace.unattributed_per_minute).
	PerMinute int
	// PerSecond is how many events of all unattributed connections
	// together are kept whole per second (trace.unattributed_per_second).
	PerSecond int
	// Window is the summary interval (a minute; tests shorten it).
	Window time.Duration
}

// Defaults of TraceBudget.
const (
	DefaultTracePerMinute = 30
	DefaultTracePerSecond = 100
	// maxBudgetAddrs bounds the addresses tracked at once; past it the
	// rest share one entry, so a spray of IPv6 /64s cannot grow the map.
	maxBudgetAddrs = 10000
)

type traceBudget struct {
	cfg TraceBudget
	rec trace.Recorder
	now func() time.Time // time.Now; tests fix it

	mu     sync.Mutex
	addrs  map[netip.Prefix]*addrBudget
	tokens float64
	last   time.Time

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

type addrBudget struct {
	start      time.Time
	used       int
	suppressed int
	kinds      map[string]int // "stage outcome" → events left out
}

func newTraceBudget(cfg TraceBudget, rec trace.Recorder) *traceBudget {
	if cfg.PerMinute <= 0 {
		cfg.PerMinute = DefaultTracePerMinute
	}
	if cfg.PerSecond <= 0 {
		cfg.PerSecond = DefaultTracePerSecond
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	b := &traceBudget{cfg: cfg, rec: rec, now: time.Now, addrs: map[netip.Prefix]*addrBudget{}, tokens: float64(cfg.PerSecond),
		last: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// allow reports whether an unattributed event from ip is kept whole; if
// not it is counted for the address's summary.
func (b *traceBudget) allow(ip netip.Addr, stage, outcome string) bool {
	now := b.now()
	var flush []summary
	defer func() { b.emit(flush) }()
	b.mu.Lock()
	defer b.mu.Unlock()
	key := addrKey(ip)
	if !ip.IsValid() {
		key = netip.Prefix{}
	}
	a := b.addrs[key]
	if a == nil {
		if len(b.addrs) >= maxBudgetAddrs {
			key = netip.Prefix{}
			a = b.addrs[key]
		}
		if a == nil {
			a = &addrBudget{start: now}
			b.addrs[key] = a
		}
	}
	if now.Sub(a.start) >= b.cfg.Window {
		if a.suppressed > 0 {
			flush = append(flush, summary{key, *a})
		}
		*a = addrBudget{start: now}
	}
	// The global bucket refills at PerSecond, holding at most a second's.
	b.tokens = min(float64(b.cfg.PerSecond), b.tokens+now.Sub(b.last).Seconds()*float64(b.cfg.PerSecond))
	b.last = now
	if a.used < b.cfg.PerMinute && b.tokens >= 1 {
		a.used++
		b.tokens--
		return true
	}
	a.suppressed++
	if a.kinds == nil {
		a.kinds = map[string]int{}
	}
	a.kinds[stage+" "+outcome]++
	metrics.TraceSuppressed.Inc()
	return false
}

type summary struct {
	key netip.Prefix
	a   addrBudget
}

// run writes the summaries of windows that ended, four times a window, so
// a summary is out at most a quarter window after its window.
func (b *traceBudget) run() {
	defer close(b.done)
	t := time.NewTicker(b.cfg.Window / 4)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.emit(b.take(time.Now(), false))
		case <-b.stop:
			b.emit(b.take(time.Now(), true))
			return
		}
	}
}

// take removes the entries whose window ended (all of them if all) and
// returns those with events left out.
func (b *traceBudget) take(now time.Time, all bool) []summary {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []summary
	for k, a := range b.addrs {
		if all || now.Sub(a.start) >= b.cfg.Window {
			if a.suppressed > 0 {
				out = append(out, summary{k, *a})
			}
			delete(b.addrs, k)
		}
	}
	return out
}

func (b *traceBudget) emit(ss []summary) {
	for _, s := range ss {
		kinds := make([]string, 0, len(s.a.kinds))
		for k, n := range s.a.kinds {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
		sort.Strings(kinds)
		who := "other addresses"
		if s.key.IsValid() {
			who = strings.TrimSuffix(s.key.String(), "/32")
		}
		b.rec.Record(context.Background(), trace.Event{Time: time.Now(), Stage: "summary", Outcome: "suppressed",
			Rule: "trace-budget",
			Detail: fmt.Sprintf("%d events of unattributed connections from %s in %s not recorded one by one (trace.unattributed_per_minute %d, trace.unattributed_per_second %d): %s",
				s.a.suppressed, who, b.cfg.Window, b.cfg.PerMinute, b.cfg.PerSecond, strings.Join(kinds, ", ")),
			Attrs: []slog.Attr{slog.String("client_ip", who), slog.Int("suppressed", s.a.suppressed),
				slog.Time("since", s.a.start)}})
	}
}

// close writes the pending summaries and stops the ticker.
func (b *traceBudget) close() {
	b.stopOnce.Do(func() { close(b.stop) })
	<-b.done
}
