package queue

import (
	"context"
	"database/sql"
	"fmt"
)

// op is one change to the queue's metadata. The committer runs many ops in
// one transaction (group commit): concurrent sessions share one directory
// fsync and one WAL fsync instead of paying for their own. An op's fn must
// leave nothing behind when it fails, or the batch is retried op by op.
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
	err := q.tryBatch(batch)
	if err != nil && len(batch) > 1 {
		// One op's failure (a constraint, say) must not fail the others
		// that shared its transaction: run each alone.
		for _, o := range batch {
			q.finishOp(o, q.tryBatch([]op{o}))
		}
		return
	}
	for _, o := range batch {
		q.finishOp(o, err)
	}
}

func (q *Queue) finishOp(o op, err error) {
	if o.done != nil {
		o.done <- err
	} else if err != nil {
		q.log.Error("queue bookkeeping failed", "err", err)
	}
}

// tryBatch runs ops in one transaction, after one directory fsync that makes
// every body renamed into msg/ so far durable.
func (q *Queue) tryBatch(batch []op) error {
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
	for _, o := range batch {
		if err := o.fn(tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("queue: commit: %w", err)
	}
	return nil
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
