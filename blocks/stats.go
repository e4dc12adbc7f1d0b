package blocks

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// DayStats are one tenant's verdicts on one UTC day.
type DayStats struct {
	Day      time.Time `json:"day"`
	Messages int64     `json:"messages"` // accepted and classified
	Spam     int64     `json:"spam"`
	Bulk     int64     `json:"bulk"`
	Refused  int64     `json:"refused"` // transactions refused by a check
}

// SpamBulk is the day's spam and bulk verdicts.
func (d DayStats) SpamBulk() int64 { return d.Spam + d.Bulk }

type statKey struct {
	tenant int64
	day    int64
}

func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// NoteVerdict counts one classified message of the tenant (verdict
// "clean", "bulk" or "spam"), or with verdict "" one refused transaction.
// It only touches memory; the counts reach the store at the next flush.
func (s *Store) NoteVerdict(tenantID int64, verdict policy.Class) {
	k := statKey{tenantID, dayOf(s.opts.Now()).Unix()}
	s.statsMu.Lock()
	d := s.stats[k]
	if d == nil {
		d = &DayStats{}
		s.stats[k] = d
	}
	switch verdict {
	case policy.ClassNone:
		d.Refused++
	case policy.ClassSpam:
		d.Messages++
		d.Spam++
	case policy.ClassBulk:
		d.Messages++
		d.Bulk++
	default:
		d.Messages++
	}
	s.statsMu.Unlock()
}

// FlushStats adds the counts held in memory to the store, in one
// transaction; on failure they are put back for the next try.
func (s *Store) FlushStats(ctx context.Context) error {
	s.statsMu.Lock()
	pending := s.stats
	s.stats = map[statKey]*DayStats{}
	s.statsMu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		for k, d := range pending {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_stats (tenant_id, day, messages, spam, bulk, refused) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (tenant_id, day) DO UPDATE SET messages = tenant_stats.messages + excluded.messages,
				spam = tenant_stats.spam + excluded.spam, bulk = tenant_stats.bulk + excluded.bulk, refused = tenant_stats.refused + excluded.refused`,
				k.tenant, k.day, d.Messages, d.Spam, d.Bulk, d.Refused); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.statsMu.Lock()
		for k, d := range pending {
			if cur := s.stats[k]; cur != nil {
				cur.Messages, cur.Spam, cur.Bulk, cur.Refused = cur.Messages+d.Messages, cur.Spam+d.Spam, cur.Bulk+d.Bulk, cur.Refused+d.Refused
			} else {
				s.stats[k] = d
			}
		}
		s.statsMu.Unlock()
		return fmt.Errorf("flush tenant stats: %w", err)
	}
	return nil
}

// Stats returns the tenant's last days of counts, oldest first, one entry
// per day including days without mail.
func (s *Store) Stats(ctx context.Context, tenantID int64, days int) ([]DayStats, error) {
	if days < 1 || days > 366 {
		return nil, fmt.Errorf("stats of tenant %d: %w: days must be in 1..366, got %d", tenantID, ErrInvalid, days)
	}
	if err := s.FlushStats(ctx); err != nil {
		return nil, err
	}
	today := dayOf(s.opts.Now())
	from := today.Add(-time.Duration(days-1) * 24 * time.Hour)
	got, err := statsSince(ctx, s.db.Read, tenantID, from)
	if err != nil {
		return nil, fmt.Errorf("stats of tenant %d: %w", tenantID, err)
	}
	byDay := map[int64]DayStats{}
	for _, d := range got {
		byDay[d.Day.Unix()] = d
	}
	out := make([]DayStats, 0, days)
	for d := from; !d.After(today); d = d.Add(24 * time.Hour) {
		st := byDay[d.Unix()]
		st.Day = d
		out = append(out, st)
	}
	return out, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func statsSince(ctx context.Context, q querier, tenantID int64, from time.Time) ([]DayStats, error) {
	rows, err := q.QueryContext(ctx, `SELECT day, messages, spam, bulk, refused FROM tenant_stats WHERE tenant_id = $1 AND day >= $2 ORDER BY day`,
		tenantID, from.Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DayStats
	for rows.Next() {
		var d DayStats
		var day int64
		if err := rows.Scan(&day, &d.Messages, &d.Spam, &d.Bulk, &d.Refused); err != nil {
			return nil, err
		}
		d.Day = time.Unix(day, 0).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}
