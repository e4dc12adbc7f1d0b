package blocks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/directory"
)

// Unblock request states.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusDenied   = "denied"
)

// UnblockRequest is a blocked tenant's admin asking to send again, saying
// what went wrong and what they fixed. An operator approves or denies it.
type UnblockRequest struct {
	ID          int64     `json:"id"`
	TenantID    int64     `json:"tenant_id"`
	BlockID     int64     `json:"block_id"`
	Cause       string    `json:"cause"`
	Fix         string    `json:"fix"`
	Status      string    `json:"status"`
	SubmittedBy string    `json:"submitted_by"`
	SubmittedAt time.Time `json:"submitted_at"`
	DecidedBy   string    `json:"decided_by,omitempty"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
	Note        string    `json:"note,omitempty"`
}

const requestCols = `id, tenant_id, block_id, cause, fix, status, submitted_by, submitted_at, decided_by, decided_at, note`

func scanRequest(r interface{ Scan(...any) error }) (UnblockRequest, error) {
	var u UnblockRequest
	var submitted, decided int64
	if err := r.Scan(&u.ID, &u.TenantID, &u.BlockID, &u.Cause, &u.Fix, &u.Status, &u.SubmittedBy, &submitted,
		&u.DecidedBy, &decided, &u.Note); err != nil {
		return UnblockRequest{}, err
	}
	u.SubmittedAt, u.DecidedAt = fromNanos(submitted), fromNanos(decided)
	return u, nil
}

// maxText bounds the cause, fix and note fields.
const maxText = 4000

func checkText(field, v string, required bool) error {
	v = strings.TrimSpace(v)
	if required && v == "" {
		return fmt.Errorf("%w: %s is required", ErrInvalid, field)
	}
	if len(v) > maxText {
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalid, field, maxText)
	}
	return nil
}

// RequestUnblock files a tenant's request against its live block. One
// pending request per block: a second is a conflict until the first is
// decided.
func (s *Store) RequestUnblock(ctx context.Context, tenantID int64, cause, fix, actor string) (UnblockRequest, error) {
	what := fmt.Sprintf("request unblock of tenant %d", tenantID)
	if err := errors.Join(checkText("cause", cause, true), checkText("fix", fix, true)); err != nil {
		return UnblockRequest{}, fmt.Errorf("%s: %w", what, err)
	}
	live, ok := s.ActiveBlock(tenantID)
	if !ok {
		return UnblockRequest{}, fmt.Errorf("%s: %w: the tenant is not blocked", what, ErrConflict)
	}
	u := UnblockRequest{TenantID: tenantID, BlockID: live.ID, Cause: strings.TrimSpace(cause), Fix: strings.TrimSpace(fix),
		Status: StatusPending, SubmittedBy: actor, SubmittedAt: s.opts.Now().UTC()}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM unblock_requests WHERE block_id = $1 AND status = $2`, live.ID, StatusPending).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: a request for this block is already pending", ErrConflict)
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO unblock_requests (tenant_id, block_id, cause, fix, status, submitted_by, submitted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (block_id) WHERE status = 'pending' DO NOTHING RETURNING id`,
			u.TenantID, u.BlockID, u.Cause, u.Fix, u.Status, actor, nanos(u.SubmittedAt)).Scan(&u.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: a request for this block is already pending", ErrConflict)
		}
		if err != nil {
			return err
		}
		return s.auditTx(ctx, tx, actor, tenantID, "unblock.request", "unblock-request:"+strconv.FormatInt(u.ID, 10), nil, u)
	})
	if err != nil {
		return UnblockRequest{}, fmt.Errorf("%s: %w", what, err)
	}
	return u, nil
}

// UnblockRequests lists requests, newest first: a tenant's (tenantID > 0)
// or everyone's, optionally only those with status.
func (s *Store) UnblockRequests(ctx context.Context, tenantID int64, status string) ([]UnblockRequest, error) {
	q := `SELECT ` + requestCols + ` FROM unblock_requests WHERE ($1 = 0 OR tenant_id = $1) AND ($2 = '' OR status = $2) ORDER BY id DESC LIMIT 500`
	rows, err := s.db.Read.QueryContext(ctx, q, tenantID, status)
	if err != nil {
		return nil, fmt.Errorf("list unblock requests: %w", err)
	}
	defer rows.Close()
	out := []UnblockRequest{}
	for rows.Next() {
		u, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UnblockRequest returns one request.
func (s *Store) UnblockRequest(ctx context.Context, id int64) (UnblockRequest, error) {
	u, err := scanRequest(s.db.Read.QueryRowContext(ctx, `SELECT `+requestCols+` FROM unblock_requests WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return UnblockRequest{}, fmt.Errorf("unblock request %d: %w", id, ErrNotFound)
	}
	return u, err
}

// Decide approves or denies a pending request. Approval releases the block
// in the same transaction, on probation (quota messages the first day,
// doubling with each clean day, for days days).
func (s *Store) Decide(ctx context.Context, id int64, approve bool, note, actor string, quota int64, days int) (UnblockRequest, error) {
	what := fmt.Sprintf("decide unblock request %d", id)
	if err := checkText("note", note, false); err != nil {
		return UnblockRequest{}, fmt.Errorf("%s: %w", what, err)
	}
	var out UnblockRequest
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		before, err := scanRequest(tx.QueryRowContext(ctx, `SELECT `+requestCols+` FROM unblock_requests WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if before.Status != StatusPending {
			return fmt.Errorf("%w: the request is already %s", ErrConflict, before.Status)
		}
		out = before
		out.Status, out.DecidedBy, out.DecidedAt, out.Note = StatusDenied, actor, s.opts.Now().UTC(), strings.TrimSpace(note)
		if approve {
			out.Status = StatusApproved
		}
		// The conditional update takes the row: of two operators deciding
		// at once (PostgreSQL, READ COMMITTED), the second finds it decided.
		res, err := tx.ExecContext(ctx, `UPDATE unblock_requests SET status = $1, decided_by = $2, decided_at = $3, note = $4 WHERE id = $5 AND status = $6`,
			out.Status, actor, nanos(out.DecidedAt), out.Note, id, StatusPending)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("%w: the request was decided meanwhile", ErrConflict)
		}
		if approve {
			if _, err := s.releaseTx(ctx, tx, before.BlockID, actor, quota, days); err != nil {
				return err
			}
		}
		return s.auditTx(ctx, tx, actor, before.TenantID, "unblock."+map[bool]string{true: "approve", false: "deny"}[approve],
			"unblock-request:"+strconv.FormatInt(id, 10), before, out)
	})
	if err != nil {
		return UnblockRequest{}, fmt.Errorf("%s: %w", what, err)
	}
	s.changed(ctx)
	return out, nil
}

// CheckItem is one line of the checklist an operator sees beside an
// unblock request: facts Tollgate computes itself rather than trusting the
// tenant's word.
type CheckItem struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// recentBefore is how far before a block the checklist looks for new
// connectors and tokens: an attacker's foothold is usually days old at most.
const recentBefore = 7 * 24 * time.Hour

// Checklist computes the review checklist for a block from the tenant's
// connectors (deleted ones included), admins and tokens (revoked ones
// included; sessions are ignored) at now.
func Checklist(b Block, connectors []directory.Connector, admins []directory.Admin, tokens []directory.Token) []CheckItem {
	var newConns []string
	for _, c := range connectors {
		if c.Live() && c.CreatedAt.After(b.CreatedAt.Add(-recentBefore)) {
			newConns = append(newConns, fmt.Sprintf("%s (created %s by %s)", c.Name, c.CreatedAt.Format(time.RFC3339), c.CreatedBy))
		}
	}
	// A live API token made or used in the week before the block or since
	// may be the stolen credential: the operator confirms each is the
	// tenant's own, and the tenant revokes any it does not know.
	var recentTokens []string
	for _, t := range tokens {
		since := b.CreatedAt.Add(-recentBefore)
		if t.Kind != directory.KindAPI || !t.Live() || !(t.CreatedAt.After(since) || t.LastUsed.After(since)) {
			continue
		}
		d := fmt.Sprintf("%s (created %s by %s", t.Name, t.CreatedAt.Format(time.RFC3339), t.CreatedBy)
		if !t.LastUsed.IsZero() {
			d += ", last used " + t.LastUsed.Format(time.RFC3339)
			if t.LastUsedFrom != "" {
				d += " from " + t.LastUsedFrom
			}
		}
		recentTokens = append(recentTokens, d+")")
	}
	var stalePw, noMFA []string
	for _, a := range admins {
		if !a.PasswordChangedAt.After(b.CreatedAt) {
			stalePw = append(stalePw, a.Email)
		}
		if !a.TOTPEnabled {
			noMFA = append(noMFA, a.Email)
		}
	}
	item := func(check string, bad []string, okText, badText string) CheckItem {
		if len(bad) == 0 {
			return CheckItem{Check: check, OK: true, Detail: okText}
		}
		return CheckItem{Check: check, Detail: badText + ": " + strings.Join(bad, ", ")}
	}
	return []CheckItem{
		item("no-recent-connectors", newConns, "no live connector was created in the week before the block or since",
			"live connectors created in the week before the block or since; confirm each one belongs"),
		item("no-recent-tokens", recentTokens, "no live API token was created or used in the week before the block or since",
			"live API tokens created or used in the week before the block or since; revoke any the tenant does not know"),
		item("admin-passwords-changed", stalePw, "every admin changed their password after the block",
			"admins whose password is older than the block"),
		item("mfa-for-every-admin", noMFA, "every admin has MFA on", "admins without MFA"),
	}
}
