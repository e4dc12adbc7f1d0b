// Package audit is the append-only, hash-chained audit log: every change an
// admin or operator makes and every security event (sign-ins, token use,
// connector and domain changes, licence changes, blocks and unblocks), so
// admins can see who changed what and tampering can be detected.
//
// # What the chain proves
//
// Each entry's Hash covers its own fields and the previous entry's hash
// (see Entry.ComputeHash), and a one-row head table holds the id and hash
// of the newest entry, written in the same transaction as the entry. Verify
// therefore detects, from the database alone: an edited field, an edited
// or reordered entry, a deleted entry anywhere (including the last, through
// the head), and a forged entry whose hash was recomputed but whose
// successor still names the old hash.
//
// It cannot prove that the database was not rewritten wholesale: someone
// with write access can delete or edit the entries after some point,
// recompute every later hash and update the head, and Verify will report a
// clean chain. That is caught only by comparing against a head recorded
// outside the database: print Head to the service log, export it to another
// system or send it to operators regularly, and check old anchors with
// CheckAnchor. Anything appended after the newest anchor is only as
// trustworthy as the database's access control.
package audit

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-mail/tollgate/store"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Errors callers match with errors.Is. Returned errors wrap them with the
// field or value at fault.
var (
	// ErrInvalid: the entry or filter was rejected; the message names the field.
	ErrInvalid = errors.New("invalid")
	// ErrAnchorMismatch: the log no longer holds an entry recorded earlier.
	ErrAnchorMismatch = errors.New("anchor does not match the log")
)

// Entry is one audit record. Append assigns ID, Time, PrevHash and Hash.
type Entry struct {
	ID       int64           // sequence number, 1, 2, 3...
	Time     time.Time       // UTC, nanosecond precision
	Actor    string          // "admin:alice@example.net", "token:ci-deploy", "system", "seed"
	TenantID int64           // 0 for service-wide events
	SourceIP string          // "" if none; otherwise a canonical IP address
	Action   string          // dotted verb: "connector.create", "auth.signin.fail"
	Target   string          // what was acted on: "connector:12", "domain:example.net"
	Before   json.RawMessage // state before (nil for creations); compacted JSON
	After    json.RawMessage // state after (nil for deletions); compacted JSON
	PrevHash string          // hex SHA-256 of the previous entry, "" for the first
	Hash     string          // hex SHA-256, see ComputeHash
}

// Log is safe for concurrent use. It does not own the store.DB.
type Log struct {
	db    *store.DB
	clock func() time.Time
}

// Option configures Open.
type Option func(*Log)

// WithClock sets the clock Append stamps entries with (tests use a fake one).
func WithClock(now func() time.Time) Option {
	return func(l *Log) {
		if now != nil {
			l.clock = now
		}
	}
}

// Open applies the audit migrations to db and returns the log. Audit must
// live in the same database as the tables it records changes to, so
// AppendTx can commit a change and its entry together.
func Open(ctx context.Context, db *store.DB, opts ...Option) (*Log, error) {
	l := &Log{db: db, clock: time.Now}
	for _, o := range opts {
		o(l)
	}
	if err := migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return l, nil
}

// Head returns the id and hash of the newest entry as the database records
// them ((0, "") for an empty log). Record it somewhere the database's
// writers cannot reach; CheckAnchor later proves the log still starts with
// what it had then.
func (l *Log) Head(ctx context.Context) (id int64, hash string, err error) {
	err = l.db.Read.QueryRowContext(ctx, `SELECT last_id, last_hash FROM audit_head WHERE one = 1`).Scan(&id, &hash)
	if err != nil {
		return 0, "", fmt.Errorf("audit: read head: %w", err)
	}
	return id, hash, nil
}

// CheckAnchor reports whether entry id still has the given hash, as returned
// by Head earlier. Together with a clean Verify this proves entries 1..id
// are unchanged, even against someone who could rewrite the database. It
// returns an error wrapping ErrAnchorMismatch if not.
func (l *Log) CheckAnchor(ctx context.Context, id int64, hash string) error {
	if id == 0 && hash == "" {
		return nil // the empty log is a prefix of every log
	}
	var got string
	err := l.db.Read.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE id = $1`, id).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("audit: anchor %d: %w: entry is missing", id, ErrAnchorMismatch)
	case err != nil:
		return fmt.Errorf("audit: anchor %d: %w", id, err)
	case got != hash:
		return fmt.Errorf("audit: anchor %d: %w: hash is %s, anchor says %s", id, ErrAnchorMismatch, got, hash)
	}
	return nil
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
