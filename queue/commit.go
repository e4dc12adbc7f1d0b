package queue

import (
	"context"
	"database/sql"
	"fmt"
)

// op is one change to the queue's metadata. The committer runs many ops in
// one transaction (group commit): concurrent sessions share one directory
// fsync and one WAL fsync instead of paying for their own.
type op struct {
	fn      func(tx *sql.Tx) error
	syncDir bool       // a body was renamed into msg/: fsync the directory before the commit
	done    chan error // nil: nobody waits (bookkeeping after delivery)
}

// maxBatch bounds one transaction; more ops wait for the next.
const maxBatch = 256

// commitLoop owns the database's writer connection. It stops when ops is
// closed, after committing what it has.
func (q *Queue) commitLoop() {
	defer close(q.committerDone)
	batch := make([]op, 0, maxBatch)
	for first := range q.ops {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < q.batchLimit {
			select {
			case o, ok := <-q.ops:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		q.runBatch(batch)
	}
}

func (q *Queue) runBatch(batch []op) {
	errs := make([]error, len(batch))
	err := func() error {
		for _, o := range batch {
			if o.syncDir {
				if err := q.spool.syncDir(); err != nil {
					return err
				}
				break
			}
		}
		tx, err := q.db.Write.BeginTx(context.Background(), nil)
		if err != nil {
			return fmt.Errorf("queue: begin: %w", err)
		}
		defer tx.Rollback()
		for i, o := range batch {
			// A savepoint per op: one op's failure (a constraint, say) fails
			// only that op, not the batch it shares.
			if _, err := tx.Exec("SAVEPOINT op"); err != nil {
				return fmt.Errorf("queue: savepoint: %w", err)
			}
			if errs[i] = o.fn(tx); errs[i] != nil {
				if _, err := tx.Exec("ROLLBACK TO op"); err != nil {
					return fmt.Errorf("queue: rollback to savepoint: %w", err)
				}
			}
			if _, err := tx.Exec("RELEASE op"); err != nil {
				return fmt.Errorf("queue: release savepoint: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("queue: commit: %w", err)
		}
		return nil
	}()
	for i, o := range batch {
		if err != nil {
			errs[i] = err
		}
		if errs[i] != nil && o.done == nil {
			q.log.Error("queue bookkeeping failed", "err", errs[i])
		}
		if o.done != nil {
			o.done <- errs[i]
		}
	}
}

// exec queues fn and waits for its commit.
func (q *Queue) exec(ctx context.Context, syncDir bool, fn func(tx *sql.Tx) error) error {
	done := make(chan error, 1)
	q.mu.RLock()
	if q.closed {
		q.mu.RUnlock()
		return ErrClosed
	}
	select {
	case q.ops <- op{fn: fn, syncDir: syncDir, done: done}:
	case <-ctx.Done():
		q.mu.RUnlock()
		return ctx.Err()
	}
	q.mu.RUnlock()
	// Once queued, the op will run; wait for it even if ctx ends, so the
	// caller never reports failure for a message that was committed.
	return <-done
}
