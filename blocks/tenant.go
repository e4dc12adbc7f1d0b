package blocks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// Block reasons.
const (
	// ReasonThreshold: the tenant's spam and bulk verdicts crossed the
	// tenant threshold.
	ReasonThreshold = "spam-threshold"
	// ReasonOperator: an operator blocked the tenant by hand.
	ReasonOperator = "operator"
	// ReasonFeedback: the tenant's delivery feedback (bounces, spam
	// refusals, complaints) reached the pause rate.
	ReasonFeedback = "feedback"
)

// Block is a tenant block: while it is live (not released) every message
// of the tenant is refused with 5.7.705, on every port and every node.
type Block struct {
	ID         int64           `json:"id"`
	TenantID   int64           `json:"tenant_id"`
	Reason     string          `json:"reason"`
	Rule       string          `json:"rule"`
	Figures    []policy.Figure `json:"figures"`
	Evidence   Evidence        `json:"evidence"`
	CreatedAt  time.Time       `json:"created_at"`
	ReleasedAt time.Time       `json:"released_at,omitzero"`
	ReleasedBy string          `json:"released_by,omitempty"`
	// Probation after release: the first day's quota and how many days it
	// lasts (it doubles with every clean day).
	ProbationQuota int64 `json:"probation_quota,omitempty"`
	ProbationDays  int   `json:"probation_days,omitempty"`
}

// Live reports whether the block still stops the tenant.
func (b Block) Live() bool { return b.ReleasedAt.IsZero() }

// Evidence is what Tollgate saw when it blocked a tenant, so the operator
// reviewing an unblock request does not have to reconstruct it.
type Evidence struct {
	Window           string           `json:"window,omitempty"`
	Messages         int64            `json:"messages"`
	SpamBulk         int64            `json:"spam_bulk"`
	Ratio            float64          `json:"ratio"`
	TopSenders       []Count          `json:"top_senders,omitempty"`
	TopConnectors    []Count          `json:"top_connectors,omitempty"`
	RecentConnectors []ConnectorEvent `json:"recent_connectors,omitempty"`
	// RecentAccess are API tokens and admins created, and tokens used,
	// shortly before the block, from the audit log: where a stolen
	// credential shows.
	RecentAccess []AccessEvent `json:"recent_access,omitempty"`
	Samples      []Sample      `json:"samples,omitempty"`
	// Signals are the evidence beyond the verdicts the decision read, each
	// with its figures and whether it pointed to abuse.
	Signals []Signal          `json:"signals,omitempty"`
	Extra   map[string]string `json:"extra,omitempty"`
}

// Signal is one piece of evidence behind a block: recipient novelty, the
// tenant's baseline, campaign spread, delivery feedback.
type Signal struct {
	Name    string          `json:"name"`
	Met     bool            `json:"met"`
	Note    string          `json:"note,omitempty"`
	Figures []policy.Figure `json:"figures,omitempty"`
}

// Count is one row of a top-N list.
type Count struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// ConnectorEvent is a connector created, confirmed or deleted shortly
// before a block: the usual sign of a compromised admin account. Events
// are taken from the audit log, so By is the actor of this event as the
// log recorded it (AuditID names the entry); blocks recorded before that,
// or without an audit log, have CreatedBy (the connector's creator) only.
type ConnectorEvent struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Event     string    `json:"event"` // created, confirmed, deleted
	At        time.Time `json:"at"`
	CreatedBy string    `json:"created_by,omitempty"`
	By        string    `json:"by,omitempty"`
	SourceIP  string    `json:"source_ip,omitempty"`
	AuditID   int64     `json:"audit_id,omitempty"`
}

// Actor is who did this event: By, or for a creation recorded without
// the audit log the connector's creator ("" if unknown).
func (c ConnectorEvent) Actor() string {
	if c.By != "" || c.Event != "created" {
		return c.By
	}
	return c.CreatedBy
}

// AccessEvent is an audit log entry about the tenant's credentials shortly
// before a block: an API token created or used, an admin created.
type AccessEvent struct {
	AuditID  int64     `json:"audit_id"`
	Action   string    `json:"action"` // token.create, token.use, admin.create
	Target   string    `json:"target"` // token:7, admin:3
	Name     string    `json:"name,omitempty"`
	At       time.Time `json:"at"`
	By       string    `json:"by"`
	SourceIP string    `json:"source_ip,omitempty"`
}

// Sample is one message that counted towards the block.
type Sample struct {
	QueueID   string       `json:"queue_id,omitempty"`
	MessageID string       `json:"message_id,omitempty"`
	Subject   string       `json:"subject,omitempty"`
	Sender    string       `json:"sender,omitempty"`
	Verdict   policy.Class `json:"verdict,omitempty"`
}

const blockCols = `id, tenant_id, reason, rule, figures, evidence, created_at, released_at, released_by, probation_quota, probation_days`

func scanBlock(r interface{ Scan(...any) error }) (Block, error) {
	var b Block
	var figures, evidence string
	var created int64
	var released sql.NullInt64
	if err := r.Scan(&b.ID, &b.TenantID, &b.Reason, &b.Rule, &figures, &evidence, &created, &released,
		&b.ReleasedBy, &b.ProbationQuota, &b.ProbationDays); err != nil {
		return Block{}, err
	}
	b.Figures = parseFigures(figures)
	_ = json.Unmarshal([]byte(evidence), &b.Evidence)
	b.CreatedAt, b.ReleasedAt = fromNanos(created), nullTime(released)
	return b, nil
}

// BlockTenant blocks a tenant. If the tenant is already blocked (here or
// by another node a moment ago) it returns the live block and false, so
// the caller alerts once.
func (s *Store) BlockTenant(ctx context.Context, b Block, actor string) (Block, bool, error) {
	if b.TenantID == 0 || b.Reason == "" {
		return Block{}, false, fmt.Errorf("block tenant: %w: tenant and reason are required", ErrInvalid)
	}
	if live, ok := s.ActiveBlock(b.TenantID); ok {
		return live, false, nil
	}
	b.CreatedAt = s.opts.Now().UTC()
	ev, _ := json.Marshal(b.Evidence)
	created := false
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		created = false
		err := tx.QueryRowContext(ctx, `INSERT INTO tenant_blocks (tenant_id, reason, rule, figures, evidence, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id) WHERE released_at IS NULL DO NOTHING RETURNING id`,
			b.TenantID, b.Reason, b.Rule, figuresJSON(b.Figures), string(ev), nanos(b.CreatedAt)).Scan(&b.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // another node won the race
		}
		if err != nil {
			return err
		}
		created = true
		return s.auditTx(ctx, tx, actor, b.TenantID, "tenant.block", "block:"+strconv.FormatInt(b.ID, 10), nil, b)
	})
	if err != nil {
		return Block{}, false, fmt.Errorf("block tenant %d: %w", b.TenantID, err)
	}
	s.changed(ctx)
	if !created {
		live, err := s.liveBlock(ctx, b.TenantID)
		return live, false, err
	}
	return b, true, nil
}

func (s *Store) liveBlock(ctx context.Context, tenantID int64) (Block, error) {
	b, err := scanBlock(s.db.Read.QueryRowContext(ctx, `SELECT `+blockCols+` FROM tenant_blocks
		WHERE tenant_id = $1 AND released_at IS NULL`, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return Block{}, fmt.Errorf("live block of tenant %d: %w", tenantID, ErrNotFound)
	}
	return b, err
}

// Blocks lists a tenant's blocks, newest first.
func (s *Store) Blocks(ctx context.Context, tenantID int64) ([]Block, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+blockCols+` FROM tenant_blocks WHERE tenant_id = $1 ORDER BY id DESC`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list blocks of tenant %d: %w", tenantID, err)
	}
	defer rows.Close()
	var out []Block
	for rows.Next() {
		b, err := scanBlock(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// releaseTx releases a live block inside tx, starting its probation.
func (s *Store) releaseTx(ctx context.Context, tx *sql.Tx, blockID int64, actor string, quota int64, days int) (Block, error) {
	return s.releaseTxNote(ctx, tx, blockID, actor, quota, days, "")
}

// releaseTxNote is releaseTx with the operator's note in the audit entry.
func (s *Store) releaseTxNote(ctx context.Context, tx *sql.Tx, blockID int64, actor string, quota int64, days int, note string) (Block, error) {
	before, err := scanBlock(tx.QueryRowContext(ctx, `SELECT `+blockCols+` FROM tenant_blocks WHERE id = $1`, blockID))
	if errors.Is(err, sql.ErrNoRows) {
		return Block{}, fmt.Errorf("block %d: %w", blockID, ErrNotFound)
	}
	if err != nil {
		return Block{}, err
	}
	if !before.Live() {
		return Block{}, fmt.Errorf("block %d: %w: already released", blockID, ErrConflict)
	}
	after := before
	after.ReleasedAt, after.ReleasedBy = s.opts.Now().UTC(), actor
	after.ProbationQuota, after.ProbationDays = quota, days
	res, err := tx.ExecContext(ctx, `UPDATE tenant_blocks SET released_at = $1, released_by = $2, probation_quota = $3,
		probation_days = $4 WHERE id = $5 AND released_at IS NULL`, nanos(after.ReleasedAt), actor, quota, days, blockID)
	if err != nil {
		return Block{}, err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return Block{}, fmt.Errorf("block %d: %w: released meanwhile", blockID, ErrConflict)
	}
	out := after
	after.Evidence = Evidence{} // the audit entry names the block; its evidence is in the block row
	before.Evidence = Evidence{}
	var logged any = after
	if note != "" {
		logged = struct {
			Block
			Note string `json:"note"`
		}{after, note}
	}
	return out, s.auditTx(ctx, tx, actor, after.TenantID, "tenant.unblock", "block:"+strconv.FormatInt(blockID, 10), before, logged)
}

// ReleaseBlock lifts a tenant's live block by hand (an operator acting
// without a request), with the probation given.
func (s *Store) ReleaseBlock(ctx context.Context, tenantID int64, actor string, quota int64, days int) (Block, error) {
	live, ok := s.ActiveBlock(tenantID)
	if !ok {
		return Block{}, fmt.Errorf("release tenant %d: %w: the tenant is not blocked", tenantID, ErrNotFound)
	}
	var out Block
	err := s.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		out, err = s.releaseTx(ctx, tx, live.ID, actor, quota, days)
		return err
	})
	if err != nil {
		return Block{}, fmt.Errorf("release tenant %d: %w", tenantID, err)
	}
	s.changed(ctx)
	return out, nil
}

// TenantEpoch is when the tenant's latest block was released (zero if
// never, within 60 days): the checks count the windows that trip a block
// only from then on, so an approved unblock is not undone by the spam that
// caused the block. From the snapshot, so every node agrees within a
// refresh interval (and the releasing node at once).
func (s *Store) TenantEpoch(tenantID int64) time.Time {
	return s.snap.Load().released[tenantID]
}

// RestrictionEpoch is when the subject's latest restriction ended at or
// before now (released by an admin, or its Until passed), zero if none in
// the last two days: the windows that trip a restriction count from then.
func (s *Store) RestrictionEpoch(tenantID int64, kind, subject string, now time.Time) time.Time {
	var out time.Time
	for _, t := range s.snap.Load().restrictionEnds[restrictionKey{tenantID, kind, subject}] {
		if !t.After(now) && t.After(out) {
			out = t
		}
	}
	return out
}

// Unblock lifts a tenant's live block directly, without an unblock
// request (an operator's own decision, with a note for the audit log). A
// manual block (ReasonOperator) is lifted without probation; a threshold
// block keeps the probation given, as an approved request would.
func (s *Store) Unblock(ctx context.Context, tenantID int64, note, actor string, quota int64, days int) (Block, error) {
	if err := checkText("note", note, true); err != nil {
		return Block{}, fmt.Errorf("unblock tenant %d: %w", tenantID, err)
	}
	live, ok := s.ActiveBlock(tenantID)
	if !ok {
		return Block{}, fmt.Errorf("unblock tenant %d: %w: the tenant is not blocked", tenantID, ErrNotFound)
	}
	if live.Reason == ReasonOperator {
		quota, days = 0, 0
	}
	var out Block
	err := s.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		out, err = s.releaseTxNote(ctx, tx, live.ID, actor, quota, days, strings.TrimSpace(note))
		return err
	})
	if err != nil {
		return Block{}, fmt.Errorf("unblock tenant %d: %w", tenantID, err)
	}
	s.changed(ctx)
	return out, nil
}

// ActiveBlock is the tenant's live block, from the snapshot.
func (s *Store) ActiveBlock(tenantID int64) (Block, bool) {
	b, ok := s.snap.Load().blocks[tenantID]
	return b, ok
}

// maxProbationQuota caps the doubling, far above any real day's mail.
const maxProbationQuota = 1 << 40

// Probation is the tenant's probation quota at now (messages per rolling
// 24 h) and whether it is on probation. The quota doubles with every clean
// UTC day since the release: a day whose spam and bulk verdicts were under
// a tenth of its messages (a day without mail counts as clean).
func (s *Store) Probation(tenantID int64, now time.Time) (int64, bool) {
	p, ok := s.snap.Load().probation[tenantID]
	if !ok {
		return 0, false
	}
	end := p.block.ReleasedAt.Add(time.Duration(p.block.ProbationDays) * 24 * time.Hour)
	if !now.Before(end) {
		return 0, false
	}
	quota := p.block.ProbationQuota
	for day := dayOf(p.block.ReleasedAt); day.Add(24 * time.Hour).Before(now); day = day.Add(24 * time.Hour) {
		st := p.days[day.Unix()]
		if st.SpamBulk()*10 >= max(st.Messages, 1) && st.Messages > 0 {
			continue
		}
		quota = min(quota*2, maxProbationQuota)
	}
	return quota, true
}
