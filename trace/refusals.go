package trace

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CodeCount is how many refusals one reply code had in one hour.
type CodeCount struct {
	Hour  time.Time `json:"hour"`
	Code  string    `json:"code"` // "550 5.7.705"; "" for a refusal without one
	Count int64     `json:"count"`
}

// maxRefusalRows bounds the rows RefusalsByCode reads: a flood beyond it is
// counted up to it (the trace budgets unattributed refusals anyway).
const maxRefusalRows = 200000

// RefusalsByCode counts the refusals (reject events) since since, by hour
// and reply code, oldest hour first: the operator's view of what the
// gateway refused over time.
func (s *Store) RefusalsByCode(ctx context.Context, since time.Time) ([]CodeCount, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT at, detail FROM trace_events WHERE at >= $1 AND outcome = 'reject' LIMIT $2`,
		since.UnixNano(), maxRefusalRows)
	if err != nil {
		return nil, fmt.Errorf("count refusals: %w", err)
	}
	defer rows.Close()
	type key struct {
		hour int64
		code string
	}
	counts := map[key]int64{}
	for rows.Next() {
		var at int64
		var detail string
		if err := rows.Scan(&at, &detail); err != nil {
			return nil, err
		}
		code := ""
		if f := strings.Fields(detail); len(f) > 1 && len(f[0]) == 3 && strings.Count(f[1], ".") == 2 {
			code = f[0] + " " + f[1]
		}
		counts[key{time.Unix(0, at).UTC().Truncate(time.Hour).Unix(), code}]++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]CodeCount, 0, len(counts))
	for k, n := range counts {
		out = append(out, CodeCount{Hour: time.Unix(k.hour, 0).UTC(), Code: k.code, Count: n})
	}
	sortCodeCounts(out)
	return out, nil
}

func sortCodeCounts(cs []CodeCount) {
	slices.SortFunc(cs, func(a, b CodeCount) int {
		if c := a.Hour.Compare(b.Hour); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
}
