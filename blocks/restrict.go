package blocks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// Restriction subjects. A restriction stops one channel of a tenant and
// leaves the rest sending: the finer kill switch.
const (
	// KindSender is a sender address: a user's login, or the envelope
	// sender of connector mail. Refused with 5.1.8.
	KindSender = "sender"
	// KindAppPassword is one app password (subject: its id); the user's
	// other credentials keep working. Refused with 5.1.8.
	KindAppPassword = "app-password"
	// KindConnector is one connector (subject: its id). Refused with 5.7.711.
	KindConnector = "connector"
)

// Restriction stops one sender, app password or connector.
type Restriction struct {
	ID       int64           `json:"id"`
	TenantID int64           `json:"tenant_id"`
	Kind     string          `json:"kind"`
	Subject  string          `json:"subject"`
	Reason   string          `json:"reason"`
	Rule     string          `json:"rule"`
	Figures  []policy.Figure `json:"figures"`
	Created  time.Time       `json:"created_at"`
	// Until ends the restriction by itself (restrict-until-tomorrow); zero
	// means until an admin releases it.
	Until      time.Time `json:"until,omitzero"`
	ReleasedAt time.Time `json:"released_at,omitzero"`
	ReleasedBy string    `json:"released_by,omitempty"`
}

// ActiveAt reports whether the restriction stops mail at now.
func (r Restriction) ActiveAt(now time.Time) bool {
	return r.ReleasedAt.IsZero() && (r.Until.IsZero() || now.Before(r.Until))
}

type restrictionKey struct {
	tenant        int64
	kind, subject string
}

const restrictionCols = `id, tenant_id, kind, subject, reason, rule, figures, created_at, until_at, released_at, released_by`

func scanRestriction(r interface{ Scan(...any) error }) (Restriction, error) {
	var x Restriction
	var figures string
	var created, until int64
	var released sql.NullInt64
	if err := r.Scan(&x.ID, &x.TenantID, &x.Kind, &x.Subject, &x.Reason, &x.Rule, &figures, &created, &until,
		&released, &x.ReleasedBy); err != nil {
		return Restriction{}, err
	}
	x.Figures = parseFigures(figures)
	x.Created, x.Until, x.ReleasedAt = fromNanos(created), fromNanos(until), nullTime(released)
	return x, nil
}

// Restrict records a restriction. If the subject is already restricted it
// returns that one and false. A live row whose Until has passed is closed
// first, so a sender restricted until yesterday can be restricted again.
func (s *Store) Restrict(ctx context.Context, r Restriction, actor string) (Restriction, bool, error) {
	switch r.Kind {
	case KindSender, KindAppPassword, KindConnector:
	default:
		return Restriction{}, false, fmt.Errorf("restrict: %w: kind %q", ErrInvalid, r.Kind)
	}
	if r.TenantID == 0 || r.Subject == "" {
		return Restriction{}, false, fmt.Errorf("restrict: %w: tenant and subject are required", ErrInvalid)
	}
	now := s.opts.Now().UTC()
	if cur, ok := s.Restricted(r.TenantID, r.Kind, r.Subject, now); ok {
		return cur, false, nil
	}
	r.Created = now
	created := false
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		created = false
		// An expired restriction still holds the live slot: close it.
		if _, err := tx.ExecContext(ctx, `UPDATE restrictions SET released_at = until_at, released_by = 'expired'
			WHERE tenant_id = $1 AND kind = $2 AND subject = $3 AND released_at IS NULL AND until_at <> 0 AND until_at <= $4`,
			r.TenantID, r.Kind, r.Subject, nanos(now)); err != nil {
			return err
		}
		var until int64
		if !r.Until.IsZero() {
			until = nanos(r.Until)
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO restrictions (tenant_id, kind, subject, reason, rule, figures, created_at, until_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, kind, subject) WHERE released_at IS NULL DO NOTHING RETURNING id`,
			r.TenantID, r.Kind, r.Subject, r.Reason, r.Rule, figuresJSON(r.Figures), nanos(now), until).Scan(&r.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		created = true
		return s.auditTx(ctx, tx, actor, r.TenantID, "restriction.create", "restriction:"+strconv.FormatInt(r.ID, 10), nil, r)
	})
	if err != nil {
		return Restriction{}, false, fmt.Errorf("restrict %s %s: %w", r.Kind, r.Subject, err)
	}
	s.changed(ctx)
	if !created {
		cur, ok := s.Restricted(r.TenantID, r.Kind, r.Subject, now)
		if !ok {
			return Restriction{}, false, fmt.Errorf("restrict %s %s: %w: lost a race with a release", r.Kind, r.Subject, ErrConflict)
		}
		return cur, false, nil
	}
	return r, true, nil
}

// Restricted returns the subject's active restriction, from the snapshot.
func (s *Store) Restricted(tenantID int64, kind, subject string, now time.Time) (Restriction, bool) {
	r, ok := s.snap.Load().restrictions[restrictionKey{tenantID, kind, subject}]
	if !ok || !r.ActiveAt(now) {
		return Restriction{}, false
	}
	return r, true
}

// Restrictions lists a tenant's restrictions, newest first; with all false
// only the ones in force now.
func (s *Store) Restrictions(ctx context.Context, tenantID int64, all bool) ([]Restriction, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+restrictionCols+` FROM restrictions WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1000`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list restrictions of tenant %d: %w", tenantID, err)
	}
	defer rows.Close()
	now := s.opts.Now()
	out := []Restriction{}
	for rows.Next() {
		r, err := scanRestriction(rows)
		if err != nil {
			return nil, err
		}
		if all || r.ActiveAt(now) {
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// Release ends a restriction of the tenant. Releasing one that is no longer
// in force is a conflict, so a double click says so.
func (s *Store) Release(ctx context.Context, tenantID, id int64, actor string) (Restriction, error) {
	var out Restriction
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		before, err := scanRestriction(tx.QueryRowContext(ctx, `SELECT `+restrictionCols+` FROM restrictions WHERE id = $1 AND tenant_id = $2`, id, tenantID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("restriction %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		now := s.opts.Now().UTC()
		if !before.ActiveAt(now) {
			return fmt.Errorf("restriction %d: %w: not in force", id, ErrConflict)
		}
		out = before
		out.ReleasedAt, out.ReleasedBy = now, actor
		if _, err := tx.ExecContext(ctx, `UPDATE restrictions SET released_at = $1, released_by = $2 WHERE id = $3`, nanos(now), actor, id); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, actor, tenantID, "restriction.release", "restriction:"+strconv.FormatInt(id, 10), before, out)
	})
	if err != nil {
		return Restriction{}, fmt.Errorf("release restriction %d: %w", id, err)
	}
	s.changed(ctx)
	return out, nil
}

// RestrictedOfKind lists the tenant's restrictions of one kind in force at
// now, from the snapshot (the queue's hold asks it per message; a tenant
// has few restrictions).
func (s *Store) RestrictedOfKind(tenantID int64, kind string, now time.Time) []Restriction {
	var out []Restriction
	for k, r := range s.snap.Load().restrictions {
		if k.tenant == tenantID && k.kind == kind && r.ActiveAt(now) {
			out = append(out, r)
		}
	}
	return out
}
