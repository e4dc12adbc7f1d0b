package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Sink delivers alerts somewhere: a webhook, email.
type Sink interface {
	Name() string
	// Send delivers one alert, retrying as the sink sees fit within ctx.
	Send(ctx context.Context, a Alert) error
}

// Defaults for Config's zero fields.
const (
	DefaultQueueSize    = 1000
	DefaultWorkers      = 2
	DefaultDedupeWindow = time.Hour
	DefaultSendTimeout  = 5 * time.Minute
)

// Config tunes a Notifier. Zero fields take the defaults above.
type Config struct {
	// QueueSize is how many alerts wait per sink; beyond it Notify drops.
	QueueSize int
	// Workers per sink.
	Workers int
	// DedupeWindow: after an alert is sent, alerts with the same kind,
	// tenant and subject are suppressed (and counted in the next one's
	// Repeats) for this long.
	DedupeWindow time.Duration
	// SendTimeout bounds one Send, retries included.
	SendTimeout time.Duration
	// Clock gives the time (tests set it); default time.Now.
	Clock func() time.Time
	// Claim, when set, makes the de-duplication fleet-wide: before an
	// alert goes out, the notifier claims its key for DedupeWindow in a
	// store the fleet shares (counters' Redis: SET NX with a TTL), and an
	// alert another node already claimed is counted as a repeat instead of
	// sent. A claim that fails (the store is down) sends the alert: a
	// duplicate alert is better than none. Claims run off the caller's
	// path, so Notify still never waits on the network.
	Claim func(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// claimTimeout bounds one Claim; past it the alert is sent.
const claimTimeout = 2 * time.Second

// Notifier queues alerts to its sinks without ever blocking the caller.
type Notifier struct {
	cfg   Config
	sinks []*queue

	mu        sync.Mutex
	recent    map[dedupeKey]*recent
	lastSweep time.Time
	closed    bool // no new alerts are taken
	// queuesClosed: the sinks' queues are closed; claims in flight (see
	// claims) end before it is set, so Close does not drop them.
	queuesClosed bool
	claims       sync.WaitGroup

	deduplicated atomic.Uint64

	ctx    context.Context // cancelled when Close gives up waiting
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type recent struct {
	sent       time.Time
	suppressed int
}

// queue is one sink's queue and counts.
type queue struct {
	sink                  Sink
	ch                    chan Alert
	sent, failed, dropped atomic.Uint64
	lastDropLog           atomic.Int64 // unix seconds, to log drops once a minute at most
}

// Stats counts what a Notifier did, per sink and in all.
type Stats struct {
	Deduplicated uint64
	Sinks        map[string]SinkStats
}

// SinkStats counts one sink's alerts.
type SinkStats struct {
	Sent, Failed, Dropped uint64
	Queued                int // waiting now
}

// NewNotifier starts cfg.Workers workers per sink. Close stops them.
func NewNotifier(cfg Config, sinks ...Sink) (*Notifier, error) {
	if len(sinks) == 0 {
		return nil, errors.New("alert: a notifier needs at least one sink")
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.DedupeWindow <= 0 {
		cfg.DedupeWindow = DefaultDedupeWindow
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	n := &Notifier{cfg: cfg, recent: map[dedupeKey]*recent{}}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	for _, s := range sinks {
		if s == nil {
			return nil, errors.New("alert: nil sink")
		}
		q := &queue{sink: s, ch: make(chan Alert, cfg.QueueSize)}
		n.sinks = append(n.sinks, q)
		for range cfg.Workers {
			n.wg.Go(func() { n.work(q) })
		}
	}
	return n, nil
}

// Notify queues a for every sink and returns at once. It returns false when
// nothing was queued: a repeat within the dedupe window, a full queue (the
// alert is dropped, counted and logged) or a closed notifier. With
// Config.Claim, true means the alert was taken for the fleet's claim: it
// is sent unless another node claimed it first. ID and, if zero, Time are
// set here.
func (n *Notifier) Notify(a Alert) bool {
	now := n.cfg.Clock()
	a.ID = newID()
	if a.Time.IsZero() {
		a.Time = now
	}
	k := a.key()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		slog.Warn("alert: notifier closed; alert dropped", "kind", a.Kind, "tenant", a.Tenant, "subject", a.Subject)
		return false
	}
	n.sweep(now)
	r := n.recent[k]
	if r != nil && now.Sub(r.sent) < n.cfg.DedupeWindow {
		r.suppressed++
		n.deduplicated.Add(1)
		metricDeduplicated.Inc()
		return false
	}
	if r != nil {
		a.Repeats = r.suppressed
	}
	if n.cfg.Claim != nil {
		// The window starts now on this node; the fleet's claim decides
		// whether this node is the one that sends.
		n.recent[k] = &recent{sent: now}
		n.claims.Go(func() { n.claimThenQueue(a, k, now) })
		return true
	}
	return n.queueLocked(a, k, now)
}

// claimThenQueue claims a's key in the fleet's store and queues a if this
// node got it (or the store did not answer).
func (n *Notifier) claimThenQueue(a Alert, k dedupeKey, now time.Time) {
	ctx, cancel := context.WithTimeout(n.ctx, claimTimeout)
	ok, err := n.cfg.Claim(ctx, k.String(), n.cfg.DedupeWindow)
	cancel()
	if err != nil {
		slog.Warn("alert: fleet de-duplication unavailable; sending", "kind", a.Kind, "tenant", a.Tenant, "err", err)
	} else if !ok {
		n.deduplicated.Add(1)
		metricDeduplicated.Inc()
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.queuesClosed {
		slog.Warn("alert: notifier closed; alert dropped", "kind", a.Kind, "tenant", a.Tenant, "subject", a.Subject)
		return
	}
	if !n.queueLocked(a, k, now) {
		delete(n.recent, k) // every queue full: the next one gets its chance
	}
}

// queueLocked puts a on every sink's queue; n.mu is held.
func (n *Notifier) queueLocked(a Alert, k dedupeKey, now time.Time) bool {
	queued := false
	for _, q := range n.sinks {
		select {
		case q.ch <- a:
			queued = true
		default:
			q.drop(a, now)
		}
	}
	// Only a queued alert starts a window: if every queue was full, the
	// next alert of this kind must get its chance.
	if queued {
		n.recent[k] = &recent{sent: now}
	}
	return queued
}

// sweep forgets ended windows, once a window at most, so the map holds
// only recent alerts. A window with suppressed repeats is kept one window
// longer, so the next alert can still say how many there were.
func (n *Notifier) sweep(now time.Time) {
	if now.Sub(n.lastSweep) < n.cfg.DedupeWindow {
		return
	}
	for k, r := range n.recent {
		age := now.Sub(r.sent)
		if age >= 2*n.cfg.DedupeWindow || age >= n.cfg.DedupeWindow && r.suppressed == 0 {
			delete(n.recent, k)
		}
	}
	n.lastSweep = now
}

func (q *queue) drop(a Alert, now time.Time) {
	q.dropped.Add(1)
	metricAlerts.WithLabelValues(q.sink.Name(), "dropped").Inc()
	last := q.lastDropLog.Load()
	if now.Unix()-last >= 60 && q.lastDropLog.CompareAndSwap(last, now.Unix()) {
		slog.Warn("alert: queue full, alert dropped (logged once a minute; see tollgate_alerts_total{outcome=\"dropped\"})",
			"sink", q.sink.Name(), "kind", a.Kind, "tenant", a.Tenant, "subject", a.Subject, "dropped_total", q.dropped.Load())
	}
}

func (n *Notifier) work(q *queue) {
	for a := range q.ch {
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.SendTimeout)
		err := q.sink.Send(ctx, a)
		cancel()
		if err != nil {
			q.failed.Add(1)
			metricAlerts.WithLabelValues(q.sink.Name(), "failed").Inc()
			slog.Error("alert: send failed", "sink", q.sink.Name(), "kind", a.Kind, "tenant", a.Tenant, "subject", a.Subject, "id", a.ID, "err", err)
			continue
		}
		q.sent.Add(1)
		metricAlerts.WithLabelValues(q.sink.Name(), "sent").Inc()
	}
}

// Stats returns the counts so far.
func (n *Notifier) Stats() Stats {
	s := Stats{Deduplicated: n.deduplicated.Load(), Sinks: map[string]SinkStats{}}
	for _, q := range n.sinks {
		s.Sinks[q.sink.Name()] = SinkStats{Sent: q.sent.Load(), Failed: q.failed.Load(), Dropped: q.dropped.Load(), Queued: len(q.ch)}
	}
	return s
}

// Close stops taking alerts and waits for the queued ones to be sent. If
// ctx ends first, sends in progress are cancelled (and the rest fail at
// once), and Close returns how many were abandoned.
func (n *Notifier) Close(ctx context.Context) error {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	// Alerts still being claimed in the fleet's store are queued (or
	// found to be another node's) before the queues close: a graceful
	// stop must not drop the alert of a block decided just before it.
	claimed := make(chan struct{})
	go func() { n.claims.Wait(); close(claimed) }()
	select {
	case <-claimed:
	case <-ctx.Done():
		n.cancel() // the claims give up at once and send
		<-claimed
	}
	n.mu.Lock()
	if !n.queuesClosed {
		n.queuesClosed = true
		for _, q := range n.sinks {
			close(q.ch)
		}
	}
	n.mu.Unlock()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		n.cancel()
		return nil
	case <-ctx.Done():
	}
	left := 0
	for _, q := range n.sinks {
		left += len(q.ch)
	}
	n.cancel()
	<-done
	return fmt.Errorf("alert: close: gave up with %d alerts queued: %w", left, ctx.Err())
}
