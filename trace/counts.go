package trace

import (
	"context"
	"fmt"
	"time"
)

// Counts are one tenant's messages in the trace over a time range, counted
// the way the trace shows them (see Search), so that a figure on an
// overview can be checked against the trace and never disagrees with it.
type Counts struct {
	// Accepted messages were queued (250 after DATA), whatever happened
	// to them later.
	Accepted int64 `json:"accepted"`
	// Refused and Deferred are transactions the gateway answered with a
	// 5xx or 4xx (at MAIL, at DATA, or at RCPT before any recipient was
	// accepted): the trace's "refused" and "deferred" rows.
	Refused  int64 `json:"refused"`
	Deferred int64 `json:"deferred"`
	// Senders is how many distinct envelope senders started a transaction.
	Senders int64 `json:"senders"`
}

// maxCountSessions bounds the sessions Counts reads to tell refused
// transactions apart: beyond it the count is of the first ones and Counts
// says so with ErrTruncated.
const maxCountSessions = 20000

// ErrTruncated reports Counts that stopped at maxCountSessions refusing
// sessions: the refused figure is a lower bound.
var ErrTruncated = fmt.Errorf("trace counts truncated at %d refusing sessions", maxCountSessions)

// Counts counts tenant tenantID's messages first seen in [since, until).
func (s *Store) Counts(ctx context.Context, tenantID int64, since, until time.Time) (Counts, error) {
	var c Counts
	from, to := since.UnixNano(), until.UnixNano()
	err := s.db.Read.QueryRowContext(ctx, `SELECT
			COUNT(DISTINCT CASE WHEN stage = 'queued' AND queue_id <> '' THEN queue_id END),
			COUNT(DISTINCT CASE WHEN stage = 'mail' AND sender <> '' THEN sender END)
		FROM trace_events WHERE tenant_id = $1 AND at >= $2 AND at < $3`, tenantID, from, to).Scan(&c.Accepted, &c.Senders)
	if err != nil {
		return Counts{}, fmt.Errorf("count trace of tenant %d: %w", tenantID, err)
	}
	// Refusals need the transaction around them (a refused recipient
	// beside an accepted one is not a refused message): summarize the
	// sessions that had one, as Search does.
	rows, err := s.db.Read.QueryContext(ctx, `SELECT DISTINCT session FROM trace_events
		WHERE tenant_id = $1 AND at >= $2 AND at < $3 AND outcome IN ('reject', 'defer') AND session <> '' LIMIT $4`,
		tenantID, from, to, maxCountSessions+1)
	if err != nil {
		return Counts{}, fmt.Errorf("count trace of tenant %d: %w", tenantID, err)
	}
	var sessions []string
	for rows.Next() {
		var sess string
		if err := rows.Scan(&sess); err != nil {
			rows.Close()
			return Counts{}, err
		}
		sessions = append(sessions, sess)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Counts{}, err
	}
	truncated := len(sessions) > maxCountSessions
	if truncated {
		sessions = sessions[:maxCountSessions]
	}
	entries, err := s.entriesOf(ctx, sessions, nil)
	if err != nil {
		return Counts{}, err
	}
	for _, m := range summarize(entries, time.Now()) {
		if m.TenantID != tenantID || m.First.Before(since) || !m.First.Before(until) {
			continue
		}
		switch m.Status {
		case "refused":
			c.Refused++
		case "deferred":
			if m.QueueID == "" {
				c.Deferred++
			}
		}
	}
	if truncated {
		return c, ErrTruncated
	}
	return c, nil
}
