package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/metrics"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/trace"
)

// Operator controls on the live queue, after Postfix's postsuper/postqueue
// and mox's queue commands. Delivery keeps running while they act: an action
// takes the message's slot in inflight, the same slot the scanner and the
// workers take, so it never meets a message that is waiting for a worker or
// being delivered right now. Such a message answers ErrBusy and the operator
// tries again once the attempt is over (an attempt is bounded by the
// transport's timeouts); nothing is dropped or bounced half-way.

// ErrNotFound is returned for a message that is not in the queue, or not in
// the tenant the caller is limited to (a tenant learns nothing of another's).
var ErrNotFound = errors.New("queue: no such message")

// ErrBusy is returned while the message is being delivered.
var ErrBusy = errors.New("queue: message is being delivered; try again when the attempt is over")

// Filter selects queued messages. Zero fields select everything.
type Filter struct {
	TenantID   int64
	Sender     string        // envelope sender, case-insensitive exact match
	RcptDomain string        // a recipient at this domain
	MinAge     time.Duration // received at least this long ago
	Pool       policy.Pool
	Held       *bool
	Limit      int // default 1000
}

// Select lists the queued messages matching f, oldest first.
func (q *Queue) Select(ctx context.Context, f Filter) ([]*Message, error) {
	var conds []string
	var args []any
	if f.TenantID != 0 {
		conds, args = append(conds, "tenant_id = ?"), append(args, f.TenantID)
	}
	if f.Sender != "" {
		conds, args = append(conds, "lower(sender) = lower(?)"), append(args, f.Sender)
	}
	if f.RcptDomain != "" {
		conds = append(conds, "id IN (SELECT message_id FROM recipients WHERE lower(addr) LIKE ? ESCAPE '\\')")
		d := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(strings.TrimPrefix(f.RcptDomain, "@")))
		args = append(args, "%@"+d)
	}
	if f.MinAge > 0 {
		conds, args = append(conds, "received_at <= ?"), append(args, time.Now().Add(-f.MinAge).UnixNano())
	}
	if f.Pool != "" {
		conds, args = append(conds, "pool = ?"), append(args, string(f.Pool))
	}
	if f.Held != nil {
		conds, args = append(conds, "held = ?"), append(args, *f.Held)
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	return q.loadMessages(ctx, where+" ORDER BY received_at LIMIT ?", append(args, f.Limit)...)
}

// take claims id's slot against the scanner and the workers and loads it;
// the caller must call q.inflight.Delete(id) unless it hands m to a worker.
// tenantID limits the action to one tenant's messages (0: any).
func (q *Queue) take(ctx context.Context, id string, tenantID int64) (*Message, error) {
	if _, busy := q.inflight.LoadOrStore(id, struct{}{}); busy {
		// Say busy only to whom may see the message.
		if _, err := q.get(ctx, id, tenantID); err != nil {
			return nil, err
		}
		return nil, ErrBusy
	}
	m, err := q.get(ctx, id, tenantID)
	if err != nil {
		q.inflight.Delete(id)
		return nil, err
	}
	return m, nil
}

func (q *Queue) get(ctx context.Context, id string, tenantID int64) (*Message, error) {
	msgs, err := q.loadMessages(ctx, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 || (tenantID != 0 && msgs[0].TenantID != tenantID) {
		return nil, ErrNotFound
	}
	return msgs[0], nil
}

// Get returns one queued message (tenantID as for take).
func (q *Queue) Get(ctx context.Context, id string, tenantID int64) (*Message, error) {
	return q.get(ctx, id, tenantID)
}

func (q *Queue) update(ctx context.Context, query string, args ...any) error {
	return q.exec(ctx, true, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("queue: %w", err)
		}
		return nil
	})
}

// Hold stops attempts on id until Release. The hold is in the spool's
// metadata and survives a restart.
func (q *Queue) Hold(ctx context.Context, id string, tenantID int64, reason string) (*Message, error) {
	m, err := q.take(ctx, id, tenantID)
	if err != nil {
		return nil, err
	}
	defer q.inflight.Delete(id)
	if err := q.update(ctx, `UPDATE messages SET held = 1, held_reason = ? WHERE id = ?`, reason, id); err != nil {
		return nil, err
	}
	m.Held, m.HeldReason = true, reason
	q.traced(m, "held", "ok", reason)
	return m, nil
}

// Release lifts a hold and puts the message back on its schedule: the
// next attempt comes after the usual wait (postsuper -H); RetryNow makes it
// at once.
func (q *Queue) Release(ctx context.Context, id string, tenantID int64) (*Message, error) {
	m, err := q.take(ctx, id, tenantID)
	if err != nil {
		return nil, err
	}
	defer q.inflight.Delete(id)
	next := time.Now().Add(q.retryDelay(m.Attempts))
	if err := q.update(ctx, `UPDATE messages SET held = 0, held_reason = '', next_attempt = ? WHERE id = ?`, next.UnixNano(), id); err != nil {
		return nil, err
	}
	m.Held, m.HeldReason, m.NextAttempt = false, "", next
	q.traced(m, "released", "ok", "")
	return m, nil
}

// RetryNow hands id to a worker at once, as postqueue -i does. A held
// message stays held (release it first); ErrHeld says so.
func (q *Queue) RetryNow(ctx context.Context, id string, tenantID int64) (*Message, error) {
	m, err := q.take(ctx, id, tenantID)
	if err != nil {
		return nil, err
	}
	if m.Held {
		q.inflight.Delete(id)
		return nil, ErrHeld
	}
	m.Attempts++
	m.NextAttempt = time.Now().Add(q.retryDelay(m.Attempts))
	if err := q.exec(ctx, false, func(tx *sql.Tx) error { return q.stmts.claim(tx, m) }); err != nil {
		q.inflight.Delete(id)
		return nil, err
	}
	snap := *m // the worker owns m from here on
	snap.Rcpts = append([]Recipient(nil), m.Rcpts...)
	q.ready.push(m) // the worker clears the slot when the attempt is over
	return &snap, nil
}

// ErrHeld is returned by RetryNow for a held message.
var ErrHeld = errors.New("queue: message is held; release it to retry")

// Bounce fails id's pending recipients now and sends the sender a DSN
// (unless NOTIFY=NEVER or the null sender) saying reason.
func (q *Queue) Bounce(ctx context.Context, id string, tenantID int64, reason string) (*Message, error) {
	m, err := q.take(ctx, id, tenantID)
	if err != nil {
		return nil, err
	}
	defer q.inflight.Delete(id)
	if reason == "" {
		reason = "returned by the gateway's operator"
	}
	was := pendingRcpts(m)
	// The operator's reason is the cause, whatever the next hop last said.
	for i := range m.Rcpts {
		if rc := &m.Rcpts[i]; rc.Status == Pending {
			rc.Detail, rc.Remote = reason, ""
		}
	}
	q.failAll(m, "5.0.0", reason)
	for _, rc := range m.Rcpts {
		if rc.Status == Failed && rc.Code == "5.0.0" {
			q.opts.Trace.Record(q.ctx, trace.Event{Time: time.Now(), QueueID: m.ID, TenantID: m.TenantID, Stage: "bounced",
				Outcome: "fail", Rule: "operator", Detail: "5.0.0 " + reason,
				Attrs: []slog.Attr{slog.String("rcpt", rc.Addr), slog.String("code", "5.0.0")}})
		}
	}
	log := q.log.With("queue_id", m.ID, "action", "operator bounce")
	q.finish(m, log)
	if _, err := q.get(ctx, id, 0); err == nil {
		return nil, fmt.Errorf("queue: bounce %s: the DSN could not be composed; the message is kept (see the log)", id)
	}
	q.undelivered(m, was, nil, CauseReturned)
	return m, nil
}

// Drop removes id without a DSN, as postsuper -d does.
func (q *Queue) Drop(ctx context.Context, id string, tenantID int64) (*Message, error) {
	m, err := q.take(ctx, id, tenantID)
	if err != nil {
		return nil, err
	}
	defer q.inflight.Delete(id)
	if err := q.exec(ctx, false, func(tx *sql.Tx) error { return q.stmts.deleteMessage(tx, id) }); err != nil {
		return nil, fmt.Errorf("queue: drop %s: %w", id, err)
	}
	if err := q.spool.release(m.ID, m.Size); err != nil && !errors.Is(err, fs.ErrNotExist) {
		q.log.Warn("could not remove spool file", "queue_id", id, "err", err)
	}
	metrics.SpoolMessages.Dec()
	q.traced(m, "dropped", "fail", "removed by the operator, no DSN")
	was := pendingRcpts(m)
	for i := range was {
		was[i].Status, was[i].Code, was[i].Detail, was[i].Remote = Failed, "5.0.0", "removed by the operator, no DSN", ""
	}
	q.undelivered(m, was, nil, CauseDropped)
	return m, nil
}

// Move puts id in pool (the high-risk pool, or back): its next attempt
// leaves from that pool's addresses.
func (q *Queue) Move(ctx context.Context, id string, tenantID int64, pool policy.Pool) (*Message, error) {
	m, err := q.take(ctx, id, tenantID)
	if err != nil {
		return nil, err
	}
	defer q.inflight.Delete(id)
	if err := q.update(ctx, `UPDATE messages SET pool = ? WHERE id = ?`, string(pool), id); err != nil {
		return nil, err
	}
	m.Pool = pool
	q.traced(m, "moved", "ok", "to the "+string(pool)+" pool")
	return m, nil
}

// traced writes an operator's action on m to the message trace, so the
// trace explains why a message stopped, left or changed pool (the audit
// log says who did it).
func (q *Queue) traced(m *Message, stage, outcome, detail string) {
	q.opts.Trace.Record(q.ctx, trace.Event{Time: time.Now(), QueueID: m.ID, TenantID: m.TenantID, Stage: stage,
		Outcome: outcome, Rule: "operator", Detail: detail, Attrs: []slog.Attr{slog.String("pool", string(m.Pool))}})
}
