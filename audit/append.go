package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Append validates e, writes it in its own transaction and returns the
// stored entry with ID, Time, PrevHash and Hash set. Before and After come
// back compacted, as stored and hashed.
func (l *Log) Append(ctx context.Context, e Entry) (Entry, error) {
	// Validate before taking the write lock: bad input should not queue.
	p, err := prepare(e)
	if err != nil {
		return Entry{}, err
	}
	var out Entry
	err = l.db.Tx(ctx, func(tx *sql.Tx) error {
		out, err = l.insert(ctx, tx, p)
		return err
	})
	if err != nil {
		return Entry{}, err
	}
	return out, nil
}

// AppendTx is Append inside the caller's transaction (from store.DB.Tx), so
// a change and its audit entry commit or roll back together. The returned
// entry exists only if the caller's transaction commits. It holds the head
// row until then, so keep such transactions short.
func (l *Log) AppendTx(ctx context.Context, tx *sql.Tx, e Entry) (Entry, error) {
	p, err := prepare(e)
	if err != nil {
		return Entry{}, err
	}
	return l.insert(ctx, tx, p)
}

// insert appends a prepared entry. Appends are serialised by the head row:
// the first statement updates it, which on SQLite needs the one write
// connection (transactions there begin IMMEDIATE) and on PostgreSQL takes
// the row lock, so a second appender waits until the first commits and then
// sees its id and hash. The time is read after that, so with a real clock
// times never go backwards along the chain.
func (l *Log) insert(ctx context.Context, tx *sql.Tx, e Entry) (Entry, error) {
	err := tx.QueryRowContext(ctx,
		`UPDATE audit_head SET last_id = last_id + 1 WHERE one = 1 RETURNING last_id, last_hash`).
		Scan(&e.ID, &e.PrevHash)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, errors.New("audit: append: the audit_head row is missing; the log has been tampered with")
	}
	if err != nil {
		return Entry{}, fmt.Errorf("audit: append %s: lock head: %w", e.Action, err)
	}
	e.Time = fromNanos(l.clock().UnixNano())
	e.Hash = e.ComputeHash()
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log
		(id, created_at, actor, tenant_id, source_ip, action, target, before_state, after_state, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.ID, e.Time.UnixNano(), e.Actor, e.TenantID, e.SourceIP, e.Action, e.Target,
		nullJSON(e.Before), nullJSON(e.After), e.PrevHash, e.Hash)
	if err != nil {
		// A row already holding this id means entries were written past the
		// head behind the log's back.
		return Entry{}, fmt.Errorf("audit: append %s as entry %d: %w", e.Action, e.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET last_hash = $1 WHERE one = 1`, e.Hash); err != nil {
		return Entry{}, fmt.Errorf("audit: append %s: update head: %w", e.Action, err)
	}
	return e, nil
}

// nullJSON stores no state as NULL rather than "", so a reader can tell
// "none" from any JSON value.
func nullJSON(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}
