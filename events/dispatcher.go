package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-mail/tollgate/alert"
)

// Defaults for Config's zero fields.
const (
	DefaultQueueSize   = 10000
	DefaultSendTimeout = 5 * time.Minute
)

// Config tunes a Dispatcher.
type Config struct {
	// Hook returns the tenant's webhook, nil when it has none (its events
	// are then not queued at all). It is asked on every Emit: keep it cheap.
	Hook func(ctx context.Context, tenantID int64) *alert.Webhook
	// QueueSize bounds each tenant's queue; beyond it the oldest is dropped.
	QueueSize int
	// SendTimeout bounds one event's POST, retries included.
	SendTimeout time.Duration
	Log         *slog.Logger
	// Clock stamps events (tests set it); default time.Now.
	Clock func() time.Time
	// Outbox, when set, keeps each queued event until its webhook took it
	// (or was dropped), and keeps the events whose sends all failed for a
	// redelivery, so events pending when the
	// process stops are sent by the next one (Resume). nil keeps them in
	// memory only.
	Outbox Outbox
	// Node names this process in the Outbox: each node resumes its own
	// events, so two nodes of a fleet never send the same one.
	Node string
}

// Outbox is where queued events wait until sent (Store implements it).
type Outbox interface {
	Save(ctx context.Context, node string, e Event) error
	Delete(ctx context.Context, id string) error
	// Fail keeps an event whose sends all failed, out of Pending, for a
	// tenant admin to redeliver (Store.Redeliver); reason is the last error.
	Fail(ctx context.Context, node string, e Event, reason string) error
	// Pending is node's events, oldest first.
	Pending(ctx context.Context, node string) ([]Event, error)
}

// Dispatcher queues events per tenant and posts them, one worker a tenant.
type Dispatcher struct {
	cfg Config

	mu     sync.Mutex
	queues map[int64]*tenantQueue
	closed bool

	sent, failed, dropped atomic.Uint64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// tenantQueue is one tenant's pending events, oldest first; wake has a
// token when there is work.
type tenantQueue struct {
	pending []Event
	wake    chan struct{}
}

// Stats counts what a Dispatcher did.
type Stats struct {
	Sent, Failed, Dropped uint64
	Queued                int
}

// NewDispatcher returns a running Dispatcher; Close stops it.
func NewDispatcher(cfg Config) (*Dispatcher, error) {
	if cfg.Hook == nil {
		return nil, errors.New("events: a dispatcher needs a Hook lookup")
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	d := &Dispatcher{cfg: cfg, queues: map[int64]*tenantQueue{}}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d, nil
}

// Emit queues e for its tenant's webhook and returns at once; ID and, if
// zero, Time are set here. It reports whether e was queued (false: the
// tenant has no webhook, or the dispatcher is closed).
func (d *Dispatcher) Emit(ctx context.Context, e Event) bool {
	if d == nil || e.TenantID == 0 {
		return false
	}
	if d.cfg.Hook(ctx, e.TenantID) == nil {
		return false
	}
	e.ID = newID()
	if e.Time.IsZero() {
		e.Time = d.cfg.Clock().UTC()
	}
	if d.isClosed() {
		return false
	}
	if d.cfg.Outbox != nil {
		// A failure to persist still sends from memory: only a restart
		// before the send would lose the event.
		if err := d.cfg.Outbox.Save(context.WithoutCancel(ctx), d.cfg.Node, e); err != nil {
			d.cfg.Log.Warn("delivery event: not persisted; it is lost if the process stops before it is sent", "tenant_id", e.TenantID, "id", e.ID, "err", err)
		}
	}
	return d.enqueue(e)
}

func (d *Dispatcher) isClosed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closed
}

// Resume queues the events the Outbox holds for this node (those a
// previous run did not send), oldest first, and reports how many. Call it
// once, after NewDispatcher and before the first Emit.
func (d *Dispatcher) Resume(ctx context.Context) (int, error) {
	if d.cfg.Outbox == nil {
		return 0, nil
	}
	pending, err := d.cfg.Outbox.Pending(ctx, d.cfg.Node)
	if err != nil {
		return 0, fmt.Errorf("delivery events: resume: %w", err)
	}
	n := 0
	for _, e := range pending {
		if d.enqueue(e) {
			n++
		}
	}
	if n > 0 {
		d.cfg.Log.Info("delivery events: resumed the events a previous run did not send", "events", n, "node", d.cfg.Node)
	}
	return n, nil
}

// enqueue puts e on its tenant's queue, starting the tenant's worker.
func (d *Dispatcher) enqueue(e Event) bool {
	var dropped string
	defer func() {
		if dropped != "" {
			d.forget(dropped)
		}
	}()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	q := d.queues[e.TenantID]
	if q == nil {
		q = &tenantQueue{wake: make(chan struct{}, 1)}
		d.queues[e.TenantID] = q
		tenant := e.TenantID
		d.wg.Go(func() { d.work(tenant, q) })
	}
	if len(q.pending) >= d.cfg.QueueSize {
		old := q.pending[0]
		q.pending = q.pending[1:]
		dropped = old.ID
		d.dropped.Add(1)
		metricEvents.WithLabelValues("dropped").Inc()
		d.cfg.Log.Warn("delivery events: tenant's queue full, oldest event dropped (see tollgate_delivery_events_total{outcome=\"dropped\"})",
			"tenant_id", e.TenantID, "dropped_kind", old.Kind, "dropped_id", old.ID, "dropped_total", d.dropped.Load())
	}
	q.pending = append(q.pending, e)
	metricEvents.WithLabelValues("queued").Inc()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// next takes the oldest pending event; ok is false when the queue is empty.
func (d *Dispatcher) next(q *tenantQueue) (e Event, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(q.pending) == 0 {
		return Event{}, false
	}
	e = q.pending[0]
	q.pending[0] = Event{}
	q.pending = q.pending[1:]
	return e, true
}

func (d *Dispatcher) work(tenant int64, q *tenantQueue) {
	for {
		e, ok := d.next(q)
		if !ok {
			d.mu.Lock()
			closed := d.closed
			d.mu.Unlock()
			if closed {
				return
			}
			select {
			case <-q.wake:
			case <-d.ctx.Done():
				return
			}
			continue
		}
		d.send(tenant, e)
	}
}

func (d *Dispatcher) send(tenant int64, e Event) {
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.SendTimeout)
	defer cancel()
	// Asked again: a webhook changed or removed since Emit is honoured.
	hook := d.cfg.Hook(ctx, tenant)
	if hook == nil {
		if d.ctx.Err() == nil { // not a lookup cut short by Close
			d.forget(e.ID)
		}
		return
	}
	body, err := json.Marshal(e)
	if err == nil {
		err = hook.Post(ctx, string(e.Kind), e.ID, body)
	}
	if err != nil && d.ctx.Err() != nil {
		// Stopped by Close: the event stays in the outbox for the next run.
		return
	}
	if err != nil {
		kept := d.keepFailed(e, err) // before the count: a failure counted is listed
		d.failed.Add(1)
		metricEvents.WithLabelValues("failed").Inc()
		d.cfg.Log.Error("delivery event: send failed", "tenant_id", tenant, "kind", e.Kind, "id", e.ID, "queue_id", e.QueueID,
			"kept_for_redelivery", kept, "err", err)
		return
	}
	d.forget(e.ID)
	d.sent.Add(1)
	metricEvents.WithLabelValues("sent").Inc()
}

// keepFailed marks e failed in the outbox, where a tenant admin can list
// and redeliver it; false without an outbox or when the mark failed.
func (d *Dispatcher) keepFailed(e Event, sendErr error) bool {
	if d.cfg.Outbox == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.cfg.Outbox.Fail(ctx, d.cfg.Node, e, sendErr.Error()); err != nil {
		d.cfg.Log.Warn("delivery event: failed and not kept for redelivery", "id", e.ID, "err", err)
		return false
	}
	return true
}

// forget removes a sent or dropped event from the outbox.
func (d *Dispatcher) forget(id string) {
	if d.cfg.Outbox == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.cfg.Outbox.Delete(ctx, id); err != nil {
		d.cfg.Log.Warn("delivery event: sent but not removed from the outbox; the next run sends it again (same id)", "id", id, "err", err)
	}
}

// Stats returns the counts so far.
func (d *Dispatcher) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := Stats{Sent: d.sent.Load(), Failed: d.failed.Load(), Dropped: d.dropped.Load()}
	for _, q := range d.queues {
		s.Queued += len(q.pending)
	}
	return s
}

// Close stops taking events and sends the queued ones until ctx ends; then
// sends in progress are cancelled and the rest abandoned (left in the
// Outbox, if there is one, for the next run's Resume).
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	d.closed = true
	for _, q := range d.queues {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
	}
	left := d.Stats().Queued
	d.cancel()
	<-done
	return fmt.Errorf("delivery events: close: gave up with %d events queued: %w", left, ctx.Err())
}
