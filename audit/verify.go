package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Report is the outcome of Verify. OK is true when the whole chain and the
// head check out; otherwise FirstBad is the id of the first entry found
// wrong (for a problem with the head, the id the head names) and Problem
// says what is wrong in words an operator can act on.
type Report struct {
	Entries  int64 // entries in the log
	OK       bool
	FirstBad int64
	Problem  string
}

// Verify walks the whole chain in id order, in one read transaction so
// concurrent appends do not disturb it, and checks that ids run 1, 2, 3...
// without gaps (a gap is a deleted entry), that each PrevHash is the hash of
// the entry before, that each Hash matches the entry's fields, and that the
// head names the last entry and its hash (catching a deleted last entry).
// It reports the first problem; the error is for failures to read only.
// (On PostgreSQL the transaction must be REPEATABLE READ for the same
// snapshot guarantee; SQLite's WAL readers have it already.)
// See the package comment for what a clean report does not prove.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	tx, err := l.db.Read.BeginTx(ctx, nil)
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer tx.Rollback()

	var headID int64
	var headHash string
	headErr := tx.QueryRowContext(ctx, `SELECT last_id, last_hash FROM audit_head WHERE one = 1`).Scan(&headID, &headHash)
	if headErr != nil && !errors.Is(headErr, sql.ErrNoRows) {
		return Report{}, fmt.Errorf("audit: verify: read head: %w", headErr)
	}

	rows, err := tx.QueryContext(ctx, `SELECT `+columns+` FROM audit_log ORDER BY id`)
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	var r Report
	fail := func(id int64, format string, args ...any) {
		if r.Problem == "" {
			r.FirstBad, r.Problem = id, fmt.Sprintf(format, args...)
		}
	}
	var prev Entry // the entry before; ID 0 and Hash "" before the first
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return Report{}, fmt.Errorf("audit: verify: entry after %d: %w", prev.ID, err)
		}
		r.Entries++
		switch {
		case e.ID != prev.ID+1:
			fail(prev.ID+1, "entry %d is missing (the next entry is %d): entries were deleted", prev.ID+1, e.ID)
		case e.PrevHash != prev.Hash:
			fail(e.ID, "entry %d does not link to entry %d: its prev_hash is %q, entry %d's hash is %q", e.ID, prev.ID, e.PrevHash, prev.ID, prev.Hash)
		case e.ComputeHash() != e.Hash:
			fail(e.ID, "entry %d's fields do not match its hash: it was edited after it was written", e.ID)
		}
		prev = e
	}
	if err := rows.Err(); err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	switch {
	case headErr != nil:
		fail(prev.ID, "the audit_head row is missing")
	case headID > prev.ID:
		fail(headID, "the head names entry %d but the log ends at entry %d: the last entries were deleted", headID, prev.ID)
	case headID < prev.ID:
		fail(headID+1, "the log goes on to entry %d past the head at entry %d: entries were added behind the log's back", prev.ID, headID)
	case headHash != prev.Hash:
		fail(headID, "the head's hash %q is not entry %d's hash %q", headHash, headID, prev.Hash)
	}
	r.OK = r.Problem == ""
	return r, nil
}
