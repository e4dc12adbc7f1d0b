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
	ErrInvalid = errors.New("invalid correction")
	ErrTooMany = errors.New("too many corrections")
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
	byBand map[string]Mark // tenant name + "\x00" + band → the latest mark
	lastID int64

	reloadMu sync.Mutex
	cancel   context.CancelFunc
	done     chan struct{}
	close    sync.Once
}

var _ classify.Corrections = (*Store)(nil)

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
	s := &Store{db: db, opts: opts, byBand: map[string]Mark{}, done: make(chan struct{})}
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
	m.MarkedAt = s.opts.Now().UTC()
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.db.Lock(ctx, tx, fmt.Sprintf("corrections:%d", m.TenantID)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM classify_corrections WHERE tenant_id = $1`, m.TenantID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxPerTenant {
			return fmt.Errorf("%w: tenant %d has %d corrections, the most a tenant may keep", ErrTooMany, m.TenantID, n)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO classify_corrections (tenant_id, tenant, message, fingerprint, label, marked_by, marked_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			m.TenantID, m.Tenant, m.Message, m.Fingerprint, m.Label, m.MarkedBy, m.MarkedAt.UnixNano()).Scan(&m.ID); err != nil {
			return err
		}
		if s.opts.Audit == nil {
			return nil
		}
		after, _ := json.Marshal(map[string]string{"message": m.Message, "fingerprint": m.Fingerprint, "label": m.Label})
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
		if m, ok := s.byBand[tenant+"\x00"+b]; ok && (!found || newer(m, best)) {
			best, found = m, true
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

// List returns a tenant's marks (every tenant's for tenantID 0), newest
// first, at most limit.
func (s *Store) List(ctx context.Context, tenantID int64, limit int) ([]Mark, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q := `SELECT ` + markCols + ` FROM classify_corrections`
	args := []any{limit}
	if tenantID > 0 {
		q += ` WHERE tenant_id = $2`
		args = append(args, tenantID)
	}
	rows, err := s.db.Read.QueryContext(ctx, q+` ORDER BY id DESC LIMIT $1`, args...)
	if err != nil {
		return nil, fmt.Errorf("corrections: list: %w", err)
	}
	return scanMarks(rows)
}

const markCols = `id, tenant_id, tenant, message, fingerprint, label, marked_by, marked_at`

func scanMarks(rows *sql.Rows) ([]Mark, error) {
	defer rows.Close()
	var out []Mark
	for rows.Next() {
		var m Mark
		var at int64
		if err := rows.Scan(&m.ID, &m.TenantID, &m.Tenant, &m.Message, &m.Fingerprint, &m.Label, &m.MarkedBy, &at); err != nil {
			return nil, err
		}
		m.MarkedAt = time.Unix(0, at).UTC()
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
	last := s.lastID
	s.mu.RUnlock()
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+markCols+` FROM classify_corrections WHERE id > $1 OR marked_at > $2 ORDER BY id`,
		last, s.opts.Now().Add(-commitSlack).UnixNano())
	if err != nil {
		return fmt.Errorf("corrections: reload: %w", err)
	}
	ms, err := scanMarks(rows)
	if err != nil {
		return fmt.Errorf("corrections: reload: %w", err)
	}
	s.apply(ms)
	return nil
}

// apply puts marks in the in-memory index; a band keeps its newest mark.
func (s *Store) apply(ms []Mark) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		s.lastID = max(s.lastID, m.ID)
		for _, b := range classify.Bands(m.Fingerprint) {
			k := m.Tenant + "\x00" + b
			if old, ok := s.byBand[k]; !ok || newer(m, old) {
				s.byBand[k] = m
			}
		}
	}
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
