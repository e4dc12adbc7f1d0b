// Package blocks keeps who is stopped from sending and why: tenant blocks
// (5.7.705) with their evidence, restrictions of one sender, app password or
// connector (5.1.8, 5.7.711), the unblock workflow, per-tenant policy
// overrides and the daily verdict counts behind them.
//
// State lives in the store (SQLite, or PostgreSQL for a fleet) so a block is
// sticky across restarts and applies on every node. The SMTP path reads an
// in-memory snapshot, reloaded after every local change and every refresh
// interval, so another node's block applies here within that interval.
package blocks

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store"
)

//go:embed migrations
var migrations embed.FS

// Errors callers match.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
)

// DefaultRefreshInterval is how often the snapshot is reloaded to pick up
// other nodes' blocks and releases.
const DefaultRefreshInterval = 2 * time.Second

// Options configure Open.
type Options struct {
	Audit   *audit.Log    // blocks and restrictions are audited in their own transaction; nil for none
	Refresh time.Duration // DefaultRefreshInterval if zero
	Now     func() time.Time
	Logger  *slog.Logger
}

// Store is safe for concurrent use. It does not own the store.DB.
type Store struct {
	db   *store.DB
	opts Options
	snap atomic.Pointer[snapshot]

	reloadMu sync.Mutex
	statsMu  sync.Mutex
	stats    map[statKey]*DayStats // deltas waiting for the next flush

	cancel context.CancelFunc
	done   chan struct{}
	close  sync.Once
}

// Open migrates the tables, loads the snapshot and starts the refresher.
func Open(ctx context.Context, db *store.DB, opts Options) (*Store, error) {
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefreshInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	sub, err := fs.Sub(migrations, "migrations/"+db.Dialect)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, "blocks", sub); err != nil {
		return nil, fmt.Errorf("blocks: %w", err)
	}
	s := &Store{db: db, opts: opts, stats: map[statKey]*DayStats{}, done: make(chan struct{})}
	if err := s.reload(ctx); err != nil {
		return nil, fmt.Errorf("blocks: load snapshot: %w", err)
	}
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.refresh(bg)
	return s, nil
}

// Close stops the refresher and writes out the counts it holds.
func (s *Store) Close() error {
	var err error
	s.close.Do(func() {
		s.cancel()
		<-s.done
		err = s.FlushStats(context.Background())
	})
	return err
}

func (s *Store) refresh(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.opts.Refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.FlushStats(ctx); err != nil && ctx.Err() == nil {
				s.opts.Logger.Warn("blocks: flush stats", "err", err)
			}
			if err := s.reload(ctx); err != nil && ctx.Err() == nil {
				s.opts.Logger.Warn("blocks: refresh snapshot", "err", err)
			}
		}
	}
}

// Reload reads the state again now (tests and the API after a change
// made elsewhere).
func (s *Store) Reload(ctx context.Context) error { return s.reload(ctx) }

// changed reloads after a committed local change; a failed reload is
// logged, the refresher catches up.
func (s *Store) changed(ctx context.Context) {
	if err := s.reload(context.WithoutCancel(ctx)); err != nil {
		s.opts.Logger.Warn("blocks: reload after change", "err", err)
	}
}

// auditTx appends an audit entry inside tx when an audit log is set.
func (s *Store) auditTx(ctx context.Context, tx *sql.Tx, actor string, tenantID int64, action, target string, before, after any) error {
	if s.opts.Audit == nil {
		return nil
	}
	e := audit.Entry{Actor: actor, TenantID: tenantID, Action: action, Target: target}
	if before != nil {
		e.Before, _ = json.Marshal(before)
	}
	if after != nil {
		e.After, _ = json.Marshal(after)
	}
	_, err := s.opts.Audit.AppendTx(ctx, tx, e)
	return err
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func nullTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNanos(n.Int64)
}

func figuresJSON(f []policy.Figure) string {
	if f == nil {
		f = []policy.Figure{}
	}
	b, _ := json.Marshal(f)
	return string(b)
}

func parseFigures(s string) []policy.Figure {
	var f []policy.Figure
	_ = json.Unmarshal([]byte(s), &f)
	return f
}
