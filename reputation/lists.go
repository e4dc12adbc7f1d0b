package reputation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"
)

// Errors that callers (the API) map to answers.
var (
	ErrInvalid  = errors.New("invalid")
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
)

// ListKind says which operator list an entry is on.
type ListKind string

const (
	AllowList ListKind = "allow"
	DenyList  ListKind = "deny"
)

// ListEntry is one IP or CIDR on an operator list.
type ListEntry struct {
	ID        int64        `json:"id"`
	Kind      ListKind     `json:"kind"`
	Prefix    netip.Prefix `json:"prefix"`
	Reason    string       `json:"reason"`
	CreatedBy string       `json:"created_by"`
	CreatedAt time.Time    `json:"created_at"`
}

// Exception lets one tenant send from an IP or CIDR despite its reputation
// until ExpiresAt (exclusive).
type Exception struct {
	ID        int64        `json:"id"`
	TenantID  int64        `json:"tenant_id"`
	Prefix    netip.Prefix `json:"prefix"`
	Reason    string       `json:"reason"`
	CreatedBy string       `json:"created_by"`
	CreatedAt time.Time    `json:"created_at"`
	ExpiresAt time.Time    `json:"expires_at"`
	RevokedAt time.Time    `json:"revoked_at,omitzero"`
	RevokedBy string       `json:"revoked_by,omitempty"`
}

// Active reports whether the exception applies at now: not revoked, not yet
// expired. Expiry needs no job: every use asks this.
func (e Exception) Active(now time.Time) bool {
	return e.RevokedAt.IsZero() && now.Before(e.ExpiresAt)
}

// snapshot is the lists and live exceptions, read whole and swapped in, so
// Assess reads them without locks.
type snapshot struct {
	lists      prefixSet[*ListEntry]
	exceptions map[int64][]*Exception // by tenant; unrevoked, unexpired at load
}

func (s *snapshot) exception(tenantID int64, ip netip.Addr, now time.Time) *Exception {
	for _, e := range s.exceptions[tenantID] {
		if e.Prefix.Contains(ip) && e.Active(now) {
			return e
		}
	}
	return nil
}

func (t *Tracker) reloadLists(ctx context.Context) error {
	s := &snapshot{exceptions: map[int64][]*Exception{}}
	entries, err := t.Lists(ctx)
	if err != nil {
		return err
	}
	for i := range entries {
		s.lists.add(entries[i].Prefix, &entries[i])
	}
	live, err := t.queryExceptions(ctx, `WHERE revoked_at = 0 AND expires_at > $1`, t.cfg.Clock().UnixNano())
	if err != nil {
		return err
	}
	for i := range live {
		e := &live[i]
		s.exceptions[e.TenantID] = append(s.exceptions[e.TenantID], e)
	}
	t.lists.Store(s)
	return nil
}

// changed reloads the snapshot after a committed local change, so it
// applies on this node at once. The change stands if the reload fails; the
// next sync catches up.
func (t *Tracker) changed(ctx context.Context) {
	if err := t.reloadLists(context.WithoutCancel(ctx)); err != nil {
		slog.Warn("reputation: reload lists after change", "err", err)
	}
}

// Allow puts p on the allow list: every tenant may send from it.
func (t *Tracker) Allow(ctx context.Context, p netip.Prefix, reason, createdBy string) (ListEntry, error) {
	return t.addToList(ctx, AllowList, p, reason, createdBy)
}

// Deny puts p on the deny list: trial tenants may not send from it, whatever
// its record says.
func (t *Tracker) Deny(ctx context.Context, p netip.Prefix, reason, createdBy string) (ListEntry, error) {
	return t.addToList(ctx, DenyList, p, reason, createdBy)
}

func (t *Tracker) addToList(ctx context.Context, kind ListKind, p netip.Prefix, reason, createdBy string) (ListEntry, error) {
	if err := checkEntry(p, reason, createdBy); err != nil {
		return ListEntry{}, fmt.Errorf("%s-list %s: %w", kind, p, err)
	}
	e := ListEntry{Kind: kind, Prefix: p, Reason: strings.TrimSpace(reason), CreatedBy: createdBy, CreatedAt: t.cfg.Clock()}
	err := t.db.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO reputation_lists (kind, prefix, reason, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (prefix) DO NOTHING RETURNING id`,
			string(kind), p.String(), e.Reason, createdBy, e.CreatedAt.UnixNano()).Scan(&e.ID)
		if errors.Is(err, sql.ErrNoRows) {
			var other string
			if err := tx.QueryRowContext(ctx, `SELECT kind FROM reputation_lists WHERE prefix = $1`, p.String()).Scan(&other); err != nil {
				return err
			}
			return fmt.Errorf("%w: %s is already on the %s list", ErrExists, p, other)
		}
		return err
	})
	if err != nil {
		return ListEntry{}, fmt.Errorf("%s-list %s: %w", kind, p, err)
	}
	t.changed(ctx)
	return e, nil
}

// Unlist takes p off whichever list holds it and returns the entry removed.
func (t *Tracker) Unlist(ctx context.Context, p netip.Prefix) (ListEntry, error) {
	var e ListEntry
	err := t.db.Tx(ctx, func(tx *sql.Tx) error {
		var kind, prefix string
		var created int64
		err := tx.QueryRowContext(ctx, `DELETE FROM reputation_lists WHERE prefix = $1
			RETURNING id, kind, prefix, reason, created_by, created_at`, p.String()).
			Scan(&e.ID, &kind, &prefix, &e.Reason, &e.CreatedBy, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s is on no list", ErrNotFound, p)
		}
		e.Kind, e.Prefix, e.CreatedAt = ListKind(kind), p, time.Unix(0, created)
		return err
	})
	if err != nil {
		return ListEntry{}, fmt.Errorf("unlist %s: %w", p, err)
	}
	t.changed(ctx)
	return e, nil
}

// Lists returns both lists, allow first, by prefix.
func (t *Tracker) Lists(ctx context.Context) ([]ListEntry, error) {
	rows, err := t.db.Read.QueryContext(ctx, `SELECT id, kind, prefix, reason, created_by, created_at FROM reputation_lists ORDER BY kind, prefix`)
	if err != nil {
		return nil, fmt.Errorf("read reputation lists: %w", err)
	}
	defer rows.Close()
	var out []ListEntry
	for rows.Next() {
		var e ListEntry
		var kind, prefix string
		var created int64
		if err := rows.Scan(&e.ID, &kind, &prefix, &e.Reason, &e.CreatedBy, &created); err != nil {
			return nil, fmt.Errorf("read reputation lists: %w", err)
		}
		if e.Prefix, err = netip.ParsePrefix(prefix); err != nil {
			return nil, fmt.Errorf("read reputation lists: bad prefix %q in store: %w", prefix, err)
		}
		e.Kind, e.CreatedAt = ListKind(kind), time.Unix(0, created)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read reputation lists: %w", err)
	}
	return out, nil
}

// GrantException lets e.TenantID send from e.Prefix until e.ExpiresAt,
// which must lie in the future. ID and CreatedAt are set here.
func (t *Tracker) GrantException(ctx context.Context, e Exception) (Exception, error) {
	e.CreatedAt = t.cfg.Clock()
	e.Reason = strings.TrimSpace(e.Reason)
	err := checkEntry(e.Prefix, e.Reason, e.CreatedBy)
	switch {
	case err != nil:
	case e.TenantID <= 0:
		err = fmt.Errorf("%w: no tenant", ErrInvalid)
	case !e.ExpiresAt.After(e.CreatedAt):
		err = fmt.Errorf("%w: expiry %s is not in the future", ErrInvalid, e.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if err == nil {
		err = t.db.Tx(ctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, `INSERT INTO reputation_exceptions (tenant_id, prefix, reason, created_by, created_at, expires_at)
				VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
				e.TenantID, e.Prefix.String(), e.Reason, e.CreatedBy, e.CreatedAt.UnixNano(), e.ExpiresAt.UnixNano()).Scan(&e.ID)
		})
	}
	if err != nil {
		return Exception{}, fmt.Errorf("grant exception %s to tenant %d: %w", e.Prefix, e.TenantID, err)
	}
	t.changed(ctx)
	return e, nil
}

// RevokeException ends exception id at once and returns it as revoked.
func (t *Tracker) RevokeException(ctx context.Context, id int64, revokedBy string) (Exception, error) {
	now := t.cfg.Clock()
	var out []Exception
	err := t.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE reputation_exceptions SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at = 0`,
			now.UnixNano(), revokedBy, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = fmt.Errorf("%w: no unrevoked exception %d", ErrNotFound, id)
			}
			return err
		}
		out, err = scanExceptions(ctx, tx, `WHERE id = $1`, id)
		return err
	})
	if err == nil && len(out) != 1 {
		err = fmt.Errorf("%w: exception %d vanished", ErrNotFound, id)
	}
	if err != nil {
		return Exception{}, fmt.Errorf("revoke exception %d: %w", id, err)
	}
	t.changed(ctx)
	return out[0], nil
}

// Exceptions lists the exceptions of tenantID (0: every tenant), newest
// first; only those active at now unless all is set.
func (t *Tracker) Exceptions(ctx context.Context, tenantID int64, now time.Time, all bool) ([]Exception, error) {
	where, args := `WHERE (tenant_id = $1 OR $1 = 0)`, []any{tenantID}
	if !all {
		where += ` AND revoked_at = 0 AND expires_at > $2`
		args = append(args, now.UnixNano())
	}
	return t.queryExceptions(ctx, where, args...)
}

func (t *Tracker) queryExceptions(ctx context.Context, where string, args ...any) ([]Exception, error) {
	out, err := scanExceptions(ctx, t.db.Read, where, args...)
	if err != nil {
		return nil, fmt.Errorf("read reputation exceptions: %w", err)
	}
	return out, nil
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func scanExceptions(ctx context.Context, q queryer, where string, args ...any) ([]Exception, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, tenant_id, prefix, reason, created_by, created_at, expires_at, revoked_at, revoked_by
		FROM reputation_exceptions `+where+` ORDER BY id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Exception
	for rows.Next() {
		var e Exception
		var prefix string
		var created, expires, revoked int64
		if err := rows.Scan(&e.ID, &e.TenantID, &prefix, &e.Reason, &e.CreatedBy, &created, &expires, &revoked, &e.RevokedBy); err != nil {
			return nil, err
		}
		if e.Prefix, err = netip.ParsePrefix(prefix); err != nil {
			return nil, fmt.Errorf("bad prefix %q in store: %w", prefix, err)
		}
		e.CreatedAt, e.ExpiresAt = time.Unix(0, created), time.Unix(0, expires)
		if revoked != 0 {
			e.RevokedAt = time.Unix(0, revoked)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func checkEntry(p netip.Prefix, reason, createdBy string) error {
	if err := checkPrefix(p); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("%w: a reason is required", ErrInvalid)
	}
	if createdBy == "" {
		return fmt.Errorf("%w: created_by is required", ErrInvalid)
	}
	return nil
}
