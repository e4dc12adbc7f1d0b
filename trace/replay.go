package trace

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ReplayStages are the stages of a tenant's mail transactions a policy dry
// run reads back: attribution (connect, auth), each check's decision
// (mail, rcpt, data) and, at data, the verdict and what the checks saw.
var ReplayStages = []string{"connect", "auth", "mail", "rcpt", "data"}

// replayPage is how many events one query reads: the store is read in
// pages so that a long replay never holds a read open while it works.
const replayPage = 2000

// Replay calls fn with every event of ReplayStages that a tenant owns,
// recorded in [since, until), oldest first (events of one instant in the
// order they were written); tenantID > 0 limits it to one tenant. It reads
// at most max events (max <= 0: no bound) and reports whether more were
// left. An error from fn stops it and is returned.
func (s *Store) Replay(ctx context.Context, since, until time.Time, tenantID int64, max int, fn func(Entry) error) (truncated bool, err error) {
	lastAt, lastID, n := since.UnixNano()-1, int64(1<<62), 0
	first := true
	for {
		args := []any{since.UnixNano(), until.UnixNano()}
		cond := "at >= $1 AND at < $2 AND tenant_id != 0 AND stage IN ('connect', 'auth', 'mail', 'rcpt', 'data')"
		if tenantID > 0 {
			args = append(args, tenantID)
			cond += fmt.Sprintf(" AND tenant_id = $%d", len(args))
		}
		if !first {
			args = append(args, lastAt, lastID)
			cond += fmt.Sprintf(" AND (at > $%d OR (at = $%d AND id > $%d))", len(args)-1, len(args)-1, len(args))
		}
		first = false
		page := replayPage
		if max > 0 {
			page = min(page, max+1-n)
		}
		args = append(args, page)
		q := fmt.Sprintf(`SELECT id, %s FROM trace_events WHERE %s ORDER BY at, id LIMIT $%d`, entryCols, cond, len(args))
		var got []Entry
		var ids []int64
		err := func() error {
			rows, err := s.db.Read.QueryContext(ctx, q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var e Entry
				var id, at int64
				var attrs string
				if err := rows.Scan(&id, &at, &e.Session, &e.QueueID, &e.TenantID, &e.Stage, &e.Outcome, &e.Rule, &e.Detail,
					&e.Sender, &e.Rcpt, &e.MessageID, &attrs); err != nil {
					return err
				}
				e.At = time.Unix(0, at).UTC()
				_ = json.Unmarshal([]byte(attrs), &e.Attrs)
				got, ids = append(got, e), append(ids, id)
			}
			return rows.Err()
		}()
		if err != nil {
			return false, fmt.Errorf("trace: replay read: %w", err)
		}
		for i, e := range got {
			if max > 0 && n == max {
				return true, nil
			}
			if err := fn(e); err != nil {
				return false, err
			}
			n++
			lastAt, lastID = e.At.UnixNano(), ids[i]
		}
		if len(got) < page {
			return false, nil
		}
	}
}
