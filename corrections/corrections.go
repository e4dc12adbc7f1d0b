// Package corrections keeps admins' corrections of the classifier's
// verdicts: a tenant admin or an operator marks a traced message "not spam"
// or "spam", and the built-in engine gives that verdict to the same content
// (the same fingerprint band) from that tenant from then on.
//
// Corrections live in the store (SQLite, or PostgreSQL for a fleet), each
// written with its audit entry in one transaction, so they survive restarts
// and apply on every node. The SMTP path reads them from memory: the node
// that marks applies the mark at once, the others on their next refresh.
package corrections

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/classify"
	"github.com/tollgate-mail/tollgate/store"
)

//go:embed migrations
var migrations embed.FS

// DefaultRefreshInterval is how often a node reads the marks other nodes
// made.
const DefaultRefreshInterval = 5 * time.Second

// MaxPerTenant bounds a tenant's stored marks, so the memory every node
// holds stays bounded whatever a tenant admin does.
const MaxPerTenant = 10000

// Labels as the API and the store spell them.
const (
	LabelSpam    = "spam"
	LabelNotSpam = "not_spam"
)

// Errors callers match.
var (
	ErrInvalid   = errors.New("invalid correction")
	ErrTooMany   = errors.New("too many corrections")
	ErrNotFound  = errors.New("no such correction")
	ErrWithdrawn = errors.New("correction already withdrawn")
)

// Mark is one stored correction.
type Mark struct {
	ID       int64  `json:"id"`
	TenantID int64  `json:"tenant_id"`
	Tenant   string `json:"tenant"`  // the tenant's name, as the classifier is asked with
	Message  string `json:"message"` // the trace id of the marked message
	// Fingerprint is the marked content's fingerprint as the trace keeps
	// it: the bands joined by dashes.
	Fingerprint string    `json:"fingerprint"`
	Label       string    `json:"label"`     // LabelSpam or LabelNotSpam
	MarkedBy    string    `json:"marked_by"` // "tenant admin ann@example.com", "operator ops"
	MarkedAt    time.Time `json:"marked_at"`
	// Tokens are the marked message's strongest words as the trace kept
	// them (classify.Result.Tokens): the words the mark adjusts for its
	// tenant, within classify's bounds. May be empty (older marks).
	Tokens []string `json:"tokens"`
	// WithdrawnAt and WithdrawnBy are set once the mark is withdrawn: it
	// then applies nowhere and stays as history.
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
	WithdrawnBy string     `json:"withdrawn_by,omitempty"`
	// Actor is the audit log's name of who marks ("admin:ann@example.com",
	// "token:ci"), as every other audit entry names its actor; MarkedBy
	// if empty. Not stored with the mark.
	Actor string `json:"-"`
}

// Options configure Open.
type Options struct {
	Audit   *audit.Log    // every mark is audited in its own transaction; nil for none
	Refresh time.Duration // DefaultRefreshInterval if zero
	Now     func() time.Time
	Logger  *slog.Logger
}

// Store implements classify.Corrections on the database. Safe for
// concurrent use. It does not own the store.DB.
type Store struct {
	db   *store.DB
	opts Options

	mu     sync.RWMutex
	active map[int64]Mark     // the marks in force, by id
	byBand map[string][]int64 // tenant name + "\x00" + band → the marks in force on it
	sums   map[string]classify.AdjustmentSums
	adj    map[string]classify.TokenAdjustments // tenant name → its bounded word adjustments
	lastID int64
	// lastReload is when the previous reload started: withdrawals since
	// then (less commitSlack) are read again.
	lastReload time.Time

	reloadMu sync.Mutex
	cancel   context.CancelFunc
	done     chan struct{}
	close    sync.Once
}

var (
	_ classify.Corrections   = (*Store)(nil)
	_ classify.TokenAdjuster = (*Store)(nil)
)

// Open migrates the table, loads every mark and starts the refresher.
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
	if err := db.Migrate(ctx, "corrections", sub); err != nil {
		return nil, fmt.Errorf("corrections: %w", err)
	}
	s := &Store{db: db, opts: opts, active: map[int64]Mark{}, byBand: map[string][]int64{},
		sums: map[string]classify.AdjustmentSums{}, adj: map[string]classify.TokenAdjustments{}, done: make(chan struct{})}
	if err := s.Reload(ctx); err != nil {
		return nil, fmt.Errorf("corrections: load: %w", err)
	}
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.refresh(bg)
	return s, nil
}

// Close stops the refresher.
func (s *Store) Close() error {
	s.close.Do(func() {
		s.cancel()
		<-s.done
	})
	return nil
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
			if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
				s.opts.Logger.Warn("corrections: refresh", "err", err)
			}
		}
	}
}

// Mark stores a correction of a traced message and its audit entry in one
// transaction, and applies it on this node at once. m.ID and m.MarkedAt
// are set here.
func (s *Store) Mark(ctx context.Context, m Mark) (Mark, error) {
	switch {
	case m.TenantID <= 0 || m.Tenant == "":
		return Mark{}, fmt.Errorf("%w: the message has no tenant", ErrInvalid)
	case m.Fingerprint == "":
		return Mark{}, fmt.Errorf("%w: the message has no content fingerprint (too little text, or its verdict came from rspamd alone)", ErrInvalid)
	case m.Label != LabelSpam && m.Label != LabelNotSpam:
		return Mark{}, fmt.Errorf("%w: label %q is not %s or %s", ErrInvalid, m.Label, LabelSpam, LabelNotSpam)
	case m.MarkedBy == "":
		return Mark{}, fmt.Errorf("%w: who marks it is not known", ErrInvalid)
	}
	if err := classify.ValidTokens(m.Tokens); err != nil {
		return Mark{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	m.MarkedAt = s.opts.Now().UTC()
	if m.Tokens == nil {
		m.Tokens = []string{}
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.db.Lock(ctx, tx, fmt.Sprintf("corrections:%d", m.TenantID)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM classify_corrections WHERE tenant_id = $1 AND withdrawn_at IS NULL`, m.TenantID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxPerTenant {
			return fmt.Errorf("%w: tenant %d has %d corrections, the most a tenant may keep", ErrTooMany, m.TenantID, n)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO classify_corrections (tenant_id, tenant, message, fingerprint, label, marked_by, marked_at, tokens)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			m.TenantID, m.Tenant, m.Message, m.Fingerprint, m.Label, m.MarkedBy, m.MarkedAt.UnixNano(), strings.Join(m.Tokens, " ")).Scan(&m.ID); err != nil {
			return err
		}
		if s.opts.Audit == nil {
			return nil
		}
		after, _ := json.Marshal(map[string]any{"id": m.ID, "message": m.Message, "fingerprint": m.Fingerprint, "label": m.Label, "tokens": m.Tokens})
		actor := m.Actor
		if actor == "" {
			actor = m.MarkedBy
		}
		_, err := s.opts.Audit.AppendTx(ctx, tx, audit.Entry{Actor: actor, TenantID: m.TenantID,
			Action: "classify.correct", Target: m.Message, After: after})
		return err
	})
	if err != nil {
		return Mark{}, fmt.Errorf("corrections: mark %s: %w", m.Message, err)
	}
	s.apply([]Mark{m})
	return m, nil
}

// Lookup implements classify.Corrections: the latest mark among the bands
// of this tenant's content.
func (s *Store) Lookup(_ context.Context, tenant string, bands []string) (classify.Correction, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var best Mark
	found := false
	for _, b := range bands {
		for _, id := range s.byBand[tenant+"\x00"+b] {
			if m := s.active[id]; !found || newer(m, best) {
				best, found = m, true
			}
		}
	}
	if !found {
		return classify.Correction{}, false, nil
	}
	return classify.Correction{Spam: best.Label == LabelSpam, By: best.MarkedBy, At: best.MarkedAt, Message: best.Message}, true, nil
}

// newer orders marks: by time, then by id (two marks in one clock tick).
func newer(a, b Mark) bool {
	if !a.MarkedAt.Equal(b.MarkedAt) {
		return a.MarkedAt.After(b.MarkedAt)
	}
	return a.ID > b.ID
}

// TokenAdjustments implements classify.TokenAdjuster: the tenant's
// bounded word adjustments from its marks in force (nil for none).
func (s *Store) TokenAdjustments(tenant string) classify.TokenAdjustments {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.adj[tenant]
}

// Filter selects marks for List.
type Filter struct {
	TenantID int64  // 0: every tenant's (operators)
	Message  string // the marked message's trace id; "" for any
	// Active leaves out withdrawn marks.
	Active bool
	Limit  int // at most 1000 (the default)
}

// List returns marks, newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Mark, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q := `SELECT ` + markCols + ` FROM classify_corrections WHERE 1 = 1`
	args := []any{limit}
	if f.TenantID > 0 {
		args = append(args, f.TenantID)
		q += fmt.Sprintf(` AND tenant_id = $%d`, len(args))
	}
	if f.Message != "" {
		args = append(args, f.Message)
		q += fmt.Sprintf(` AND message = $%d`, len(args))
	}
	if f.Active {
		q += ` AND withdrawn_at IS NULL`
	}
	rows, err := s.db.Read.QueryContext(ctx, q+` ORDER BY id DESC LIMIT $1`, args...)
	if err != nil {
		return nil, fmt.Errorf("corrections: list: %w", err)
	}
	return scanMarks(rows)
}

const markCols = `id, tenant_id, tenant, message, fingerprint, label, marked_by, marked_at, tokens, withdrawn_at, withdrawn_by`

func scanMarks(rows *sql.Rows) ([]Mark, error) {
	defer rows.Close()
	var out []Mark
	for rows.Next() {
		var m Mark
		var at int64
		var tokens string
		var withdrawn sql.NullInt64
		if err := rows.Scan(&m.ID, &m.TenantID, &m.Tenant, &m.Message, &m.Fingerprint, &m.Label, &m.MarkedBy, &at,
			&tokens, &withdrawn, &m.WithdrawnBy); err != nil {
			return nil, err
		}
		m.MarkedAt = time.Unix(0, at).UTC()
		m.Tokens = strings.Fields(tokens)
		if m.Tokens == nil {
			m.Tokens = []string{}
		}
		if withdrawn.Valid {
			w := time.Unix(0, withdrawn.Int64).UTC()
			m.WithdrawnAt = &w
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// commitSlack is how late a row may become visible after its id and time
// were taken: PostgreSQL hands out identity ids before commit, so a row
// with a lower id can appear after a higher one was read. Each reload
// reads again the rows marked within it, besides the new ids.
const commitSlack = time.Minute

// Reload reads the marks made since the last reload (on any node).
func (s *Store) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	s.mu.RLock()
	last, since := s.lastID, s.lastReload
	s.mu.RUnlock()
	now := s.opts.Now()
	// Withdrawals: those since the previous reload (less the slack); on
	// the first load every row is read anyway.
	withdrawnSince := since.Add(-commitSlack).UnixNano()
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+markCols+` FROM classify_corrections
		WHERE id > $1 OR marked_at > $2 OR withdrawn_at > $3 ORDER BY id`,
		last, now.Add(-commitSlack).UnixNano(), withdrawnSince)
	if err != nil {
		return fmt.Errorf("corrections: reload: %w", err)
	}
	ms, err := scanMarks(rows)
	if err != nil {
		return fmt.Errorf("corrections: reload: %w", err)
	}
	s.apply(ms)
	s.mu.Lock()
	s.lastReload = now
	s.mu.Unlock()
	return nil
}

// apply brings the in-memory index up to date with rows read: a mark in
// force is added once, a withdrawn one taken out (if it was in). Rows are
// read more than once (the commit slack), so both are idempotent, and
// every node that has read the same rows holds the same index and the same
// word adjustments.
func (s *Store) apply(ms []Mark) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := map[string]bool{}
	for _, m := range ms {
		s.lastID = max(s.lastID, m.ID)
		_, in := s.active[m.ID]
		switch {
		case m.WithdrawnAt == nil && !in:
			s.active[m.ID] = m
			for _, b := range classify.Bands(m.Fingerprint) {
				k := m.Tenant + "\x00" + b
				s.byBand[k] = append(s.byBand[k], m.ID)
			}
			s.adjust(m, 1)
			changed[m.Tenant] = true
		case m.WithdrawnAt != nil && in:
			delete(s.active, m.ID)
			for _, b := range classify.Bands(m.Fingerprint) {
				k := m.Tenant + "\x00" + b
				ids := slices.DeleteFunc(s.byBand[k], func(id int64) bool { return id == m.ID })
				if len(ids) == 0 {
					delete(s.byBand, k)
				} else {
					s.byBand[k] = ids
				}
			}
			s.adjust(m, -1)
			changed[m.Tenant] = true
		}
	}
	for t := range changed {
		// A new map for the tenant: the engine may be reading the old one.
		if a := s.sums[t].Snapshot(); a != nil {
			s.adj[t] = a
		} else {
			delete(s.adj, t)
			delete(s.sums, t)
		}
	}
}

// adjust adds (sign 1) or takes off (-1) a mark's word moves.
func (s *Store) adjust(m Mark, sign float64) {
	if len(m.Tokens) == 0 {
		return
	}
	if s.sums[m.Tenant] == nil {
		s.sums[m.Tenant] = classify.AdjustmentSums{}
	}
	s.sums[m.Tenant].Add(m.Tokens, m.Label == LabelSpam, sign)
}

// Withdraw takes a mark out of force, with its audit entry in the same
// transaction; this node stops applying it at once, the others on their
// next reload. tenantID scopes it (0 for an operator): another tenant's
// mark is ErrNotFound, as a missing one is; one withdrawn before is
// ErrWithdrawn.
func (s *Store) Withdraw(ctx context.Context, tenantID, id int64, by, actor string) (Mark, error) {
	if by == "" {
		return Mark{}, fmt.Errorf("%w: who withdraws it is not known", ErrInvalid)
	}
	if actor == "" {
		actor = by
	}
	var m Mark
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+markCols+` FROM classify_corrections WHERE id = $1`, id)
		if err != nil {
			return err
		}
		ms, err := scanMarks(rows)
		if err != nil {
			return err
		}
		if len(ms) == 0 || tenantID > 0 && ms[0].TenantID != tenantID {
			return fmt.Errorf("%w: %d", ErrNotFound, id)
		}
		m = ms[0]
		if m.WithdrawnAt != nil {
			return fmt.Errorf("%w: correction %d on %s by %s", ErrWithdrawn, id, m.WithdrawnAt.Format(time.RFC3339), m.WithdrawnBy)
		}
		at := s.opts.Now().UTC()
		res, err := tx.ExecContext(ctx, `UPDATE classify_corrections SET withdrawn_at = $1, withdrawn_by = $2 WHERE id = $3 AND withdrawn_at IS NULL`,
			at.UnixNano(), by, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: correction %d", ErrWithdrawn, id)
		}
		m.WithdrawnAt, m.WithdrawnBy = &at, by
		if s.opts.Audit == nil {
			return nil
		}
		before, _ := json.Marshal(map[string]any{"id": m.ID, "message": m.Message, "fingerprint": m.Fingerprint, "label": m.Label, "tokens": m.Tokens})
		_, err = s.opts.Audit.AppendTx(ctx, tx, audit.Entry{Actor: actor, TenantID: m.TenantID,
			Action: "classify.correct.withdraw", Target: m.Message, Before: before})
		return err
	})
	if err != nil {
		return Mark{}, fmt.Errorf("corrections: withdraw %d: %w", id, err)
	}
	s.apply([]Mark{m})
	return m, nil
}

// By names who marks, as the trace's reason shows it: an operator or a
// tenant admin, with the principal's name without its "admin:" prefix.
func By(operator bool, principal string) string {
	name := strings.TrimPrefix(principal, "admin:")
	if operator {
		return "operator " + name
	}
	return "tenant admin " + name
}
