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
// (Dropped), never waited for.
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
}

// DefaultRetention is how long events are kept.
const DefaultRetention = 30 * 24 * time.Hour

// bufferSize bounds the events waiting for the writer.
const bufferSize = 1 << 16

// OpenStore migrates the trace table and starts the writer. next, if not
// nil, also receives every event (the log).
func OpenStore(ctx context.Context, db *store.DB, retention time.Duration, next Recorder, log *slog.Logger) (*Store, error) {
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
		flushed: make(chan chan struct{}), done: make(chan struct{})}
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
	write := func() {
		if len(batch) == 0 {
			return
		}
		if err := s.insert(batch); err != nil {
			s.log.Error("trace: write events", "events", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case e, ok := <-s.ch:
			if !ok {
				write()
				return
			}
			batch = append(batch, e)
			if len(batch) == cap(batch) {
				write()
			}
		case ack := <-s.flushed:
			// Take everything already buffered, then acknowledge.
			for n := len(s.ch); n > 0; n-- {
				if e, ok := <-s.ch; ok {
					batch = append(batch, e)
				}
			}
			write()
			close(ack)
		case <-tick.C:
			write()
		case <-purge.C:
			if err := s.Purge(context.Background(), time.Now().Add(-s.retention)); err != nil {
				s.log.Warn("trace: purge", "err", err)
			}
		}
	}
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

// insert writes a batch in one transaction. If the batch fails it is
// written event by event, so one bad event cannot take the others with it.
func (s *Store) insert(batch []Event) error {
	err := s.insertTx(batch)
	if err == nil || len(batch) == 1 {
		return err
	}
	var failed int
	var last error
	for i := range batch {
		if err := s.insertTx(batch[i : i+1]); err != nil {
			failed, last = failed+1, err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d events not written, the last because: %w", failed, len(batch), last)
	}
	return nil
}

func (s *Store) insertTx(batch []Event) error {
	return s.db.Tx(context.Background(), func(tx *sql.Tx) error {
		stmt, err := tx.Prepare(`INSERT INTO trace_events (at, session, queue_id, tenant_id, stage, outcome, rule, detail, sender, rcpt, message_id, attrs)
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
			if _, err := stmt.Exec(e.Time.UnixNano(), clip(e.Session), clip(e.QueueID), e.TenantID, e.Stage, e.Outcome, e.Rule, e.Detail,
				clip(sender), clip(rcpt), clip(msgID), string(raw)); err != nil {
				return err
			}
		}
		return nil
	})
}
