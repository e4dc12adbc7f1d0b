package blocks

import (
	"context"
	"fmt"
)

// The figures of every tenant at once, for lists and dashboards over many
// tenants: one query each instead of one status per tenant.

// LiveRestrictionCounts returns, per tenant with any, how many
// restrictions are in force now.
func (s *Store) LiveRestrictionCounts(ctx context.Context) (map[int64]int, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT tenant_id, COUNT(*) FROM restrictions
		WHERE released_at IS NULL AND (until_at = 0 OR until_at > $1) GROUP BY tenant_id`, nanos(s.opts.Now()))
	if err != nil {
		return nil, fmt.Errorf("count restrictions: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// TodayStats returns every tenant's counts for today (UTC) that has any.
func (s *Store) TodayStats(ctx context.Context) (map[int64]DayStats, error) {
	if err := s.FlushStats(ctx); err != nil {
		return nil, err
	}
	today := dayOf(s.opts.Now())
	rows, err := s.db.Read.QueryContext(ctx, `SELECT tenant_id, messages, spam, bulk, refused FROM tenant_stats WHERE day = $1`, today.Unix())
	if err != nil {
		return nil, fmt.Errorf("today's stats: %w", err)
	}
	defer rows.Close()
	out := map[int64]DayStats{}
	for rows.Next() {
		var id int64
		d := DayStats{Day: today}
		if err := rows.Scan(&id, &d.Messages, &d.Spam, &d.Bulk, &d.Refused); err != nil {
			return nil, err
		}
		out[id] = d
	}
	return out, rows.Err()
}

// BlockedTenants returns the live block of every blocked tenant (from
// memory, as ActiveBlock).
func (s *Store) BlockedTenants() map[int64]Block {
	out := map[int64]Block{}
	for id, b := range s.snap.Load().blocks {
		out[id] = b
	}
	return out
}
