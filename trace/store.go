package trace

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-mail/tollgate/store"
)

//go:embed migrations
var migrations embed.FS

// Store records events in the database so admins can search them (the
// message trace API and `tollgate admin trace`). Record never blocks the
// SMTP path: events go through a bounded buffer to a writer that inserts
// them in batches; when the buffer is full an event is dropped and counted
// (Dropped), never waited for. A batch the database cannot take (a
// PostgreSQL restart, a failover) is kept and retried with backoff, for up
// to retryFor and maxPending events, before it is dropped and counted.
type Store struct {
	db        *store.DB
	retention time.Duration
	log       *slog.Logger
	next      Recorder // also gets every event (the log), or nil

	ch      chan Event
	dropped atomic.Int64
	flushed chan chan struct{}
	done    chan struct{}
	close   sync.Once
	retry   retryPolicy
}

// retryPolicy bounds how long and how much the writer keeps events the
// database refused because it was unreachable.
type retryPolicy struct {
	For        time.Duration // since the first failure of the oldest kept event
	MaxPending int           // events kept; past it the oldest are dropped
	First, Max time.Duration // the backoff between attempts
}

// defaultRetry rides out a PostgreSQL restart or a failover (seconds to a
// minute) and holds about one buffer's worth of events at most.
var defaultRetry = retryPolicy{For: 2 * time.Minute, MaxPending: bufferSize, First: 200 * time.Millisecond, Max: 5 * time.Second}

// DefaultRetention is how long events are kept.
const DefaultRetention = 30 * 24 * time.Hour

// bufferSize bounds the events waiting for the writer.
const bufferSize = 1 << 16

// OpenStore migrates the trace table and starts the writer. next, if not
// nil, also receives every event (the log).
func OpenStore(ctx context.Context, db *store.DB, retention time.Duration, next Recorder, log *slog.Logger) (*Store, error) {
	return openStore(ctx, db, retention, next, log, defaultRetry)
}

func openStore(ctx context.Context, db *store.DB, retention time.Duration, next Recorder, log *slog.Logger, retry retryPolicy) (*Store, error) {
	sub, err := fs.Sub(migrations, "migrations/"+db.Dialect)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, "trace", sub); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	if retention <= 0 {
		retention = DefaultRetention
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Store{db: db, retention: retention, log: log, next: next, ch: make(chan Event, bufferSize),
		flushed: make(chan chan struct{}), done: make(chan struct{}), retry: retry}
	go s.run()
	return s, nil
}

// Enabled implements Filter: the store records every event.
func (s *Store) Enabled(context.Context, string) bool { return true }

// Record implements Recorder.
func (s *Store) Record(ctx context.Context, e Event) {
	if s.next != nil {
		s.next.Record(ctx, e)
	}
	// Events no tenant owns (unattributed connections, whoever they are)
	// may fill only half the buffer: a flood of them must never cost a
	// tenant's events their place.
	if e.TenantID == 0 && len(s.ch) >= cap(s.ch)/2 {
		if s.dropped.Add(1)%1000 == 1 {
			s.log.Warn("trace: buffer half full, dropping events of no tenant", "dropped", s.dropped.Load())
		}
		return
	}
	select {
	case s.ch <- e:
	default:
		if s.dropped.Add(1)%1000 == 1 {
			s.log.Warn("trace: buffer full, dropping events", "dropped", s.dropped.Load())
		}
	}
}

// Dropped is how many events were dropped because the writer fell behind.
func (s *Store) Dropped() int64 { return s.dropped.Load() }

// Flush waits until every event recorded before the call is written.
func (s *Store) Flush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case s.flushed <- ack:
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is buffered and stops the writer.
func (s *Store) Close() error {
	s.close.Do(func() {
		close(s.ch)
		<-s.done
	})
	return nil
}

func (s *Store) run() {
	defer close(s.done)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	purge := time.NewTicker(time.Hour)
	defer purge.Stop()
	batch := make([]Event, 0, 512)
	var w pendingWrites
	write := func(force bool) {
		w.add(batch, s)
		batch = batch[:0]
		w.attempt(s, time.Now(), force)
	}
	for {
		select {
		case e, ok := <-s.ch:
			if !ok {
				write(true)
				w.giveUp(s, "the store is closing")
				return
			}
			batch = append(batch, e)
			if len(batch) == cap(batch) {
				write(false)
			}
		case ack := <-s.flushed:
			// Take everything already buffered, then acknowledge.
			for n := len(s.ch); n > 0; n-- {
				if e, ok := <-s.ch; ok {
					batch = append(batch, e)
				}
			}
			write(true)
			close(ack)
		case <-tick.C:
			write(false)
		case <-purge.C:
			if err := s.Purge(context.Background(), time.Now().Add(-s.retention)); err != nil {
				s.log.Warn("trace: purge", "err", err)
			}
		}
	}
}

// pendingWrites are the events the writer holds because the database
// could not take them, and when it tries again. Only the writer goroutine
// touches it.
type pendingWrites struct {
	events    []Event
	since     time.Time // when the oldest kept events first failed
	next      time.Time // the next attempt
	backoff   time.Duration
	lastError error
}

func (w *pendingWrites) add(batch []Event, s *Store) {
	w.events = append(w.events, batch...)
	if over := len(w.events) - s.retry.MaxPending; over > 0 {
		s.dropped.Add(int64(over))
		s.log.Error("trace: database unreachable and too many events kept; dropped the oldest",
			"dropped", over, "kept", s.retry.MaxPending, "dropped_total", s.dropped.Load(), "err", w.lastError)
		w.events = append(w.events[:0], w.events[over:]...)
	}
}

// attempt writes the kept events if an attempt is due (force: now, as a
// Flush asks), and on an unreachable database keeps what failed and backs
// off; past retry.For it gives up on them.
func (w *pendingWrites) attempt(s *Store, now time.Time, force bool) {
	if len(w.events) == 0 || (!force && now.Before(w.next)) {
		return
	}
	retry, err := s.insert(w.events)
	if len(retry) == 0 {
		if w.lastError != nil {
			s.log.Info("trace: database reachable again; kept events written", "events", len(w.events))
		}
		if err != nil {
			s.log.Error("trace: write events", "events", len(w.events), "err", err)
		}
		*w = pendingWrites{events: w.events[:0]}
		return
	}
	if w.lastError == nil {
		w.since, w.backoff = now, s.retry.First
		s.log.Warn("trace: database unreachable; keeping events and retrying", "events", len(retry), "for", s.retry.For, "err", err)
	} else {
		w.backoff = min(2*w.backoff, s.retry.Max)
	}
	w.lastError = err
	w.events = append(w.events[:0], retry...)
	w.next = now.Add(w.backoff)
	if now.Sub(w.since) >= s.retry.For {
		w.giveUp(s, "the database was unreachable for "+s.retry.For.String())
	}
}

// giveUp drops the kept events, counting them.
func (w *pendingWrites) giveUp(s *Store, why string) {
	if len(w.events) == 0 {
		return
	}
	s.dropped.Add(int64(len(w.events)))
	s.log.Error("trace: events dropped: "+why, "events", len(w.events), "dropped_total", s.dropped.Load(), "err", w.lastError)
	*w = pendingWrites{events: w.events[:0]}
}

// Purge deletes events older than before.
func (s *Store) Purge(ctx context.Context, before time.Time) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM trace_events WHERE at < $1`, before.UnixNano())
		return err
	})
}

// indexed are the attributes kept in their own columns for search.
var indexed = map[string]bool{"from": true, "rcpt": true, "message_id": true}

// maxIndexed bounds the searchable columns: PostgreSQL refuses a btree
// entry over about 2.7 KB, and one such value would fail its whole batch.
const maxIndexed = 512

func clip(s string) string {
	if len(s) > maxIndexed {
		return s[:maxIndexed]
	}
	return s
}

// insert writes a batch in one transaction. If the batch fails while the
// database answers a ping, it is written event by event, so one bad event
// cannot take the others with it (those that fail are dropped and
// counted). If the database does not answer, the events not written are
// returned to be retried.
func (s *Store) insert(batch []Event) (retry []Event, err error) {
	err = s.insertTx(batch)
	if err == nil {
		return nil, nil
	}
	if !s.reachable() {
		return batch, err
	}
	var failed int
	var last error
	for i := range batch {
		if err := s.insertTx(batch[i : i+1]); err != nil {
			if !s.reachable() {
				return batch[i:], err
			}
			failed, last = failed+1, err
		}
	}
	if failed > 0 {
		s.dropped.Add(int64(failed))
		return nil, fmt.Errorf("%d of %d events not written, the last because: %w", failed, len(batch), last)
	}
	return nil, nil
}

// reachable pings the database: whether a failed write was the
// database's absence or the events' fault.
func (s *Store) reachable() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.db.Write.PingContext(ctx) == nil
}

func (s *Store) insertTx(batch []Event) error {
	// Bounded, so a hung server holds the writer (and the buffer behind
	// it) for at most this long per attempt.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO trace_events (at, session, queue_id, tenant_id, stage, outcome, rule, detail, sender, rcpt, message_id, attrs)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range batch {
			var sender, rcpt, msgID string
			attrs := make(map[string]string, len(e.Attrs))
			for _, a := range e.Attrs {
				v := a.Value.String()
				switch a.Key {
				case "from":
					sender = strings.ToLower(v)
				case "rcpt":
					rcpt = strings.ToLower(v)
				case "message_id":
					msgID = v
				}
				if !indexed[a.Key] && v != "" {
					attrs[a.Key] = v
				}
			}
			raw, _ := json.Marshal(attrs)
			if _, err := stmt.ExecContext(ctx, e.Time.UnixNano(), clip(e.Session), clip(e.QueueID), e.TenantID, e.Stage, e.Outcome, e.Rule, e.Detail,
				clip(sender), clip(rcpt), clip(msgID), string(raw)); err != nil {
				return err
			}
		}
		return nil
	})
}
