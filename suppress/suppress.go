// Package suppress keeps the recipients a tenant must not mail again: those
// whose mail hard-bounced (the address does not exist or cannot receive)
// and those who complained, per tenant, and the operators' global list.
// Mail to a suppressed recipient is refused at RCPT (550 5.1.92), so a
// tenant's list hygiene does not depend on each sender reading its DSNs,
// and the shared addresses' reputation does not pay for it.
package suppress

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/store"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Reasons an address is suppressed.
const (
	HardBounce = "hard-bounce"
	Complaint  = "complaint"
	Manual     = "manual"
)

// Global is the tenant id of the operators' list, which holds for every
// tenant.
const Global = 0

// ErrNotFound says the address is not on the list.
var ErrNotFound = errors.New("not on the suppression list")

// ErrInvalid wraps bad input.
var ErrInvalid = errors.New("invalid")

// Entry is one suppressed recipient.
type Entry struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"tenant_id"`
	Address   string    `json:"address"`
	Reason    string    `json:"reason"`
	Detail    string    `json:"detail"` // the remote reply, or the admin's note
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Store is the suppression lists in the shared database.
type Store struct {
	db     *store.DB
	audit  *audit.Log
	filter *filter
	// fresh is how old the in-memory filter may be (filter.go); 0 brings
	// it up to date at every lookup.
	fresh time.Duration
}

// SetFresh sets how long an entry added on another node may go unseen by
// this one's RCPT check (DefaultFresh); 0 reads the rows added since at
// every lookup. Call it before the store is used.
func (s *Store) SetFresh(d time.Duration) { s.fresh = max(d, 0) }

// Open applies the migrations.
func Open(ctx context.Context, db *store.DB, log *audit.Log) (*Store, error) {
	sub, err := fs.Sub(migrations, "migrations/"+db.Dialect)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, "suppress", sub); err != nil {
		return nil, fmt.Errorf("suppress: %w", err)
	}
	return &Store{db: db, audit: log, filter: newFilter(), fresh: DefaultFresh}, nil
}

// Normalize is the form addresses are kept and matched in: lowercase, as
// nearly every mailbox provider treats them.
func Normalize(addr string) (string, error) {
	a := strings.ToLower(strings.TrimSpace(addr))
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || len(a) > 320 || strings.ContainsAny(a, " \t\r\n<>") {
		return "", fmt.Errorf("%w address %q: want local@domain", ErrInvalid, addr)
	}
	return a, nil
}

// Add puts addr on tenantID's list (Global: the operators'); an address
// already there keeps its first entry. added says whether it was new.
func (s *Store) Add(ctx context.Context, tenantID int64, addr, reason, detail, actor string) (e Entry, added bool, err error) {
	a, err := Normalize(addr)
	if err != nil {
		return Entry{}, false, err
	}
	if len(detail) > 500 {
		detail = detail[:500]
	}
	if actor == "" {
		actor = "system"
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO suppressions (tenant_id, address, reason, detail, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, address) DO NOTHING`,
			tenantID, a, reason, detail, actor, time.Now().UnixNano())
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		added = n == 1
		defer s.filter.add(tenantID, a) // on commit or not: a key too many costs only a query
		if e, err = get(ctx, tx, tenantID, a); err != nil {
			return err
		}
		if added && s.audit != nil {
			after, _ := json.Marshal(e)
			_, err = s.audit.AppendTx(ctx, tx, audit.Entry{Actor: actor, TenantID: tenantID, Action: "suppression.add",
				Target: "recipient:" + a, After: after})
		}
		return err
	})
	if err != nil {
		return Entry{}, false, fmt.Errorf("suppress: add %s: %w", a, err)
	}
	return e, added, nil
}

// Remove takes addr off tenantID's list.
func (s *Store) Remove(ctx context.Context, tenantID int64, addr, actor string) error {
	a, err := Normalize(addr)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		e, err := get(ctx, tx, tenantID, a)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM suppressions WHERE id = $1`, e.ID); err != nil {
			return err
		}
		if s.audit == nil {
			return nil
		}
		before, _ := json.Marshal(e)
		_, err = s.audit.AppendTx(ctx, tx, audit.Entry{Actor: actor, TenantID: tenantID, Action: "suppression.remove",
			Target: "recipient:" + a, Before: before})
		return err
	})
	if err != nil {
		return fmt.Errorf("suppress: remove %s: %w", a, err)
	}
	return nil
}

// Find returns the entry that suppresses addr for tenantID: the tenant's
// own, else the global one.
func (s *Store) Find(ctx context.Context, tenantID int64, addr string) (Entry, bool, error) {
	a, err := Normalize(addr)
	if err != nil {
		return Entry{}, false, nil // not an address we keep: nothing suppresses it
	}
	if err := s.refresh(ctx, s.fresh); err == nil && !s.filter.mayHold(tenantID, a) {
		return Entry{}, false, nil
	}
	// The filter may hold it, or could not be brought up to date: the
	// table answers.
	row := s.db.Read.QueryRowContext(ctx, `SELECT `+cols+` FROM suppressions WHERE address = $1 AND tenant_id IN ($2, 0)
		ORDER BY tenant_id DESC LIMIT 1`, a, tenantID)
	e, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("suppress: find %s: %w", a, err)
	}
	return e, true, nil
}

// List returns tenantID's entries, newest first; query, when not empty,
// keeps those whose address contains it.
func (s *Store) List(ctx context.Context, tenantID int64, query string, limit int) ([]Entry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(query)) + "%"
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+cols+` FROM suppressions WHERE tenant_id = $1 AND address LIKE $2 ESCAPE '\'
		ORDER BY created_at DESC, id DESC LIMIT $3`, tenantID, like, limit)
	if err != nil {
		return nil, fmt.Errorf("suppress: list: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

const cols = `id, tenant_id, address, reason, detail, created_by, created_at`

type row interface{ Scan(...any) error }

func scan(r row) (Entry, error) {
	var e Entry
	var at int64
	if err := r.Scan(&e.ID, &e.TenantID, &e.Address, &e.Reason, &e.Detail, &e.CreatedBy, &at); err != nil {
		return Entry{}, err
	}
	e.CreatedAt = time.Unix(0, at).UTC()
	return e, nil
}

func get(ctx context.Context, tx *sql.Tx, tenantID int64, a string) (Entry, error) {
	e, err := scan(tx.QueryRowContext(ctx, `SELECT `+cols+` FROM suppressions WHERE tenant_id = $1 AND address = $2`, tenantID, a))
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, fmt.Errorf("%s: %w", a, ErrNotFound)
	}
	return e, err
}
