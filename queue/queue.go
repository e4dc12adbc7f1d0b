// Package queue is Tollgate's durable spool: it takes a message from the SMTP
// front end, makes it durable before the client hears 250, hands it to the
// delivery transport, retries on a schedule, and bounces what cannot be
// delivered with an RFC 3464 DSN. Every message that got 250 is delivered or
// bounced, even across kill -9.
package queue

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/metrics"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/trace"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrClosed is returned once Close has begun.
var ErrClosed = errors.New("queue: closed")

// Options configures a Queue.
type Options struct {
	Dir           string          // spool directory; queue.db lives in it
	RetrySchedule []time.Duration // wait before each further attempt; the last repeats
	MaxAge        time.Duration   // then pending recipients fail with 4.4.7 and a DSN
	Workers       int             // concurrent delivery attempts
	Hostname      string          // for DSNs
	HelpURL       string          // base URL of the help pages, for DSNs
	Transport     Transport
	// Hold is asked before each attempt: a message whose tenant or sender
	// was stopped after it was accepted (a block that landed while it was
	// queued) is failed with the hold's code and bounced with its
	// explanation, instead of delivered. nil holds nothing.
	Hold func(m *Message) *Hold
	// Bounce is asked before a DSN is composed for m: it may drop the DSN
	// (a per-tenant cap, a sender domain the tenant may not use) or return
	// only the original's header (a sender outside the tenant's verified
	// domains). A dropped DSN is written to the trace and the log. An
	// error keeps m for another try, as a failure to compose does. nil
	// sends every DSN as RET= asks.
	Bounce func(ctx context.Context, m *Message) (BounceDecision, error)
	// Undelivered is told of each recipient the queue itself gives up on,
	// so the tenant hears of every message that will not be delivered
	// (delivery events): cause is one of the Cause constants; rc is the
	// recipient as failed (its code and detail); last is its result in the
	// attempt that just ended, zero when there was none. Not for DSNs. nil
	// tells nobody.
	Undelivered func(ctx context.Context, m *Message, rc Recipient, last Result, cause string)
	Trace       trace.Recorder
	// Feedback classifies and counts each attempt's results for the
	// message's tenant; nil counts nothing. DSNs are not counted.
	Feedback     FeedbackRecorder
	Logger       *slog.Logger
	ScanInterval time.Duration // how often due messages are looked for; default 1s
	// BatchLimit caps ops per group commit; 1 turns group commit off (for
	// measuring what it pays). Default maxBatch.
	BatchLimit int
}

// Queue is the spool and its delivery scheduler.
type Queue struct {
	opts       Options
	log        *slog.Logger
	db         *store.DB
	stmts      *statements
	spool      *spool
	batchLimit int

	ops           chan op
	committerDone chan struct{}
	mu            sync.RWMutex // guards closed against senders on ops
	closed        bool

	ready    *fifo
	inflight sync.Map // id -> struct{}: queued in ready or being attempted
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	started  bool
}

// Open opens (or creates) the spool under opts.Dir and recovers it: files of
// messages that never got their 250 are removed, and every committed message
// is scheduled. Call Start to begin delivering.
func Open(ctx context.Context, opts Options) (*Queue, error) {
	if opts.Transport == nil {
		return nil, errors.New("queue: no transport")
	}
	if len(opts.RetrySchedule) == 0 {
		return nil, errors.New("queue: empty retry schedule")
	}
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.ScanInterval <= 0 {
		opts.ScanInterval = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Trace == nil {
		opts.Trace = trace.Discard{}
	}
	if opts.BatchLimit <= 0 || opts.BatchLimit > maxBatch {
		opts.BatchLimit = maxBatch
	}
	sp, err := openSpool(opts.Dir)
	if err != nil {
		return nil, err
	}
	db, err := store.OpenSQLite(ctx, filepath.Join(opts.Dir, "queue.db"))
	if err != nil {
		sp.close()
		return nil, fmt.Errorf("queue: %w", err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	if err := db.Migrate(ctx, "queue", sub); err != nil {
		db.Close()
		sp.close()
		return nil, fmt.Errorf("queue: %w", err)
	}
	stmts, err := prepare(ctx, db.Write)
	if err != nil {
		db.Close()
		sp.close()
		return nil, err
	}
	q := &Queue{
		stmts: stmts, opts: opts, log: opts.Logger.With("component", "queue"), db: db, spool: sp,
		batchLimit: opts.BatchLimit, ops: make(chan op, maxBatch*4),
		committerDone: make(chan struct{}), ready: newFIFO(),
	}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	go q.commitLoop()
	if err := q.recover(ctx); err != nil {
		q.Close()
		return nil, err
	}
	return q, nil
}

// Start begins delivery: the workers and the scanner for due messages.
func (q *Queue) Start() {
	if q.started {
		return
	}
	q.started = true
	for i := 0; i < q.opts.Workers; i++ {
		q.wg.Add(1)
		go q.worker()
	}
	q.wg.Add(1)
	go q.scanLoop()
}

// Create starts a new message body in tmp/.
func (q *Queue) Create() (*Writer, error) {
	now := time.Now()
	id := NewID(now)
	f, recycled, err := q.spool.create(id)
	if err != nil {
		return nil, err
	}
	return &Writer{q: q, id: id, f: f, recycled: recycled, bw: newBufWriter(f), at: now}, nil
}

// Commit makes the body and its envelope durable and schedules delivery.
// When it returns nil the message is safe: the caller may answer 250.
func (q *Queue) Commit(ctx context.Context, w *Writer, env Envelope) (*Message, error) {
	start := time.Now()
	if err := w.finish(); err != nil {
		return nil, err
	}
	m := q.newMessage(w, env)
	q.inflight.Store(m.ID, struct{}{})
	if err := q.exec(ctx, true, func(tx *sql.Tx) error { return q.stmts.insertMessage(tx, m) }); err != nil {
		q.inflight.Delete(m.ID)
		q.spool.reclaim(m.ID)
		return nil, fmt.Errorf("queue: commit %s: %w", m.ID, err)
	}
	metrics.Queued.Inc()
	metrics.SpoolMessages.Inc()
	metrics.AcceptLatency.Observe(time.Since(start).Seconds())
	q.ready.push(m)
	return m, nil
}

// newMessage is claimed at birth: its first attempt is about to happen, so its
// next_attempt already points at the first retry. A crash mid-delivery thus
// never causes a hot retry loop.
func (q *Queue) newMessage(w *Writer, env Envelope) *Message {
	if env.Pool == "" {
		env.Pool = policy.PoolNormal
	}
	if env.Kind == "" {
		env.Kind = "message"
	}
	rcpts := make([]Recipient, len(env.Rcpts))
	copy(rcpts, env.Rcpts)
	for i := range rcpts {
		rcpts[i].Status = Pending
	}
	env.Rcpts = rcpts
	return &Message{
		ID: w.id, Envelope: env, Size: w.n, ReceivedAt: w.at,
		Attempts: 1, NextAttempt: time.Now().Add(q.retryDelay(1)),
	}
}

// retryDelay is the wait after the n-th attempt (n ≥ 1).
func (q *Queue) retryDelay(n int) time.Duration {
	s := q.opts.RetrySchedule
	if n-1 < len(s) {
		return s[max(n-1, 0)]
	}
	return s[len(s)-1]
}

// Close stops delivery and the committer. Messages waiting for their first
// attempt are made due at once, so a restart delivers them without delay.
func (q *Queue) Close() error {
	q.cancel()
	q.ready.close()
	q.wg.Wait()
	if waiting := q.ready.drain(); len(waiting) > 0 {
		ids := make([]string, len(waiting))
		for i, m := range waiting {
			ids[i] = m.ID
		}
		if err := q.exec(context.Background(), false, func(tx *sql.Tx) error { return q.stmts.makeDue(tx, ids) }); err != nil {
			q.log.Warn("could not reschedule waiting messages", "err", err)
		}
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	close(q.ops)
	q.mu.Unlock()
	<-q.committerDone
	err := q.db.Close()
	q.spool.close()
	return err
}
