package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/audit"
)

// Defaults for StoreOptions' failed-event bounds.
const (
	DefaultFailedRetention = 7 * 24 * time.Hour
	DefaultFailedPerTenant = 1000
)

// ErrNoEvent says no failed event of the tenant has that id (never failed,
// redelivered already, aged out, or another tenant's).
var ErrNoEvent = errors.New("no failed delivery event with that id")

// ErrNotAttached says the store has no dispatcher to redeliver through.
var ErrNotAttached = errors.New("delivery events are not sent by this process")

// FailedEvent is an event whose sends all failed, kept for a redelivery.
type FailedEvent struct {
	Event
	FailedAt time.Time
	// Error is the last send's error (the receiver's status or the
	// connection's failure).
	Error string
	// Sends is how many times it was sent and failed, each with the
	// webhook's retries.
	Sends int
}

// Fail implements Outbox: e's sends all failed; it stays in the outbox
// marked failed, out of the pending events, until redelivered or aged out
// (FailedRetention), and only the tenant's newest FailedPerTenant stay.
func (s *Store) Fail(ctx context.Context, node string, e Event, reason string) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	now := s.now().UnixNano()
	// An upsert: the event may never have been saved (a failed Save).
	if _, err := s.db.Write.ExecContext(ctx, `INSERT INTO event_outbox (id, node, tenant_id, body, created_at, failed_at, last_error, sends)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 1)
		ON CONFLICT (id) DO UPDATE SET failed_at = excluded.failed_at, last_error = excluded.last_error, sends = event_outbox.sends + 1`,
		e.ID, node, e.TenantID, string(body), e.Time.UnixNano(), now, reason); err != nil {
		return fmt.Errorf("events: mark %s failed: %w", e.ID, err)
	}
	return s.pruneFailed(ctx, e.TenantID)
}

// pruneFailed removes the failed events past their retention (every
// tenant's) and those of tenantID beyond its newest FailedPerTenant.
func (s *Store) pruneFailed(ctx context.Context, tenantID int64) error {
	cutoff := s.now().Add(-s.opts.FailedRetention).UnixNano()
	if _, err := s.db.Write.ExecContext(ctx, `DELETE FROM event_outbox WHERE failed_at > 0 AND failed_at < $1`, cutoff); err != nil {
		return fmt.Errorf("events: prune failed events: %w", err)
	}
	if tenantID == 0 {
		return nil
	}
	if _, err := s.db.Write.ExecContext(ctx, `DELETE FROM event_outbox WHERE tenant_id = $1 AND failed_at > 0 AND failed_at <=
		(SELECT failed_at FROM event_outbox WHERE tenant_id = $1 AND failed_at > 0 ORDER BY failed_at DESC, id DESC LIMIT 1 OFFSET $2)`,
		tenantID, s.opts.FailedPerTenant); err != nil {
		return fmt.Errorf("events: prune failed events of tenant %d: %w", tenantID, err)
	}
	return nil
}

// Failed lists the tenant's failed events, newest first, at most limit
// (1..FailedPerTenant), and how many it has in all.
func (s *Store) Failed(ctx context.Context, tenantID int64, limit int) ([]FailedEvent, int, error) {
	if limit <= 0 || limit > s.opts.FailedPerTenant {
		limit = s.opts.FailedPerTenant
	}
	if err := s.pruneFailed(ctx, 0); err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM event_outbox WHERE tenant_id = $1 AND failed_at > 0`, tenantID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("events: failed events of tenant %d: %w", tenantID, err)
	}
	rows, err := s.db.Read.QueryContext(ctx, `SELECT id, body, failed_at, last_error, sends FROM event_outbox
		WHERE tenant_id = $1 AND failed_at > 0 ORDER BY failed_at DESC, id DESC LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("events: failed events of tenant %d: %w", tenantID, err)
	}
	defer rows.Close()
	out := []FailedEvent{}
	for rows.Next() {
		var f FailedEvent
		var id, body string
		var at int64
		if err := rows.Scan(&id, &body, &at, &f.Error, &f.Sends); err != nil {
			return nil, 0, fmt.Errorf("events: failed events of tenant %d: %w", tenantID, err)
		}
		if err := json.Unmarshal([]byte(body), &f.Event); err != nil || f.ID != id {
			continue // not an event: nothing a receiver could take
		}
		f.FailedAt = time.Unix(0, at).UTC()
		out = append(out, f)
	}
	return out, total, rows.Err()
}

// Attach makes d the dispatcher that redeliveries are handed to (and the
// node they are resumed by after a restart).
func (s *Store) Attach(d *Dispatcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requeue, s.node = d.enqueue, d.cfg.Node
}

// Redeliver queues the tenant's failed events with the ids given (all of
// them when ids is empty) to be sent again, with their own ids, so a
// receiver that deduplicates sees each once; it reports how many it
// queued. The tenant must have a webhook; an id that is not one of its
// failed events is ErrNoEvent. Audited.
func (s *Store) Redeliver(ctx context.Context, tenantID int64, tenantName string, ids []string, actor, sourceIP string) (int, error) {
	s.mu.Lock()
	requeue, node := s.requeue, s.node
	s.mu.Unlock()
	if requeue == nil {
		return 0, ErrNotAttached
	}
	if s.opts.Pinned[tenantName] == nil {
		if _, err := s.stored(ctx, s.db.Write, tenantID); errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("tenant %d: %w; set one before redelivering", tenantID, ErrNotFound)
		} else if err != nil {
			return 0, err
		}
	}
	if actor == "" {
		actor = "system"
	}
	var revived []Event
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if len(ids) == 0 {
			rows, err := tx.QueryContext(ctx, `SELECT id FROM event_outbox WHERE tenant_id = $1 AND failed_at > 0 ORDER BY created_at, id`, tenantID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		for _, id := range ids {
			var body string
			err := tx.QueryRowContext(ctx, `UPDATE event_outbox SET failed_at = 0, node = $1 WHERE tenant_id = $2 AND id = $3 AND failed_at > 0 RETURNING body`,
				node, tenantID, id).Scan(&body)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: %q", ErrNoEvent, id)
			}
			if err != nil {
				return err
			}
			var e Event
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				return fmt.Errorf("event %s: stored body: %w", id, err)
			}
			revived = append(revived, e)
		}
		if s.audit == nil || len(revived) == 0 {
			return nil
		}
		after, _ := json.Marshal(map[string]any{"events": len(revived), "ids": truncIDs(ids)})
		_, err := s.audit.AppendTx(ctx, tx, audit.Entry{Actor: actor, TenantID: tenantID, SourceIP: sourceIP, Action: "events.redeliver",
			Target: "tenant:" + strconv.FormatInt(tenantID, 10), After: after})
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNoEvent) {
			return 0, err
		}
		return 0, fmt.Errorf("events: redeliver for tenant %d: %w", tenantID, err)
	}
	n := 0
	for _, e := range revived {
		// Not queued (the dispatcher is closing): the row is pending for
		// this node, so the next run's Resume sends it.
		if requeue(e) {
			n++
		}
	}
	metricEvents.WithLabelValues("redelivered").Add(float64(len(revived)))
	return n, nil
}

// truncIDs keeps an audit entry short when many events are redelivered.
func truncIDs(ids []string) string {
	if len(ids) > 20 {
		return strings.Join(ids[:20], ",") + ",…"
	}
	return strings.Join(ids, ",")
}
