package suppress

import (
	"context"
	"fmt"
	"strings"
)

// SortKeys are the orders Page takes, each mapped to its columns; the id
// breaks ties so pages never overlap.
var SortKeys = map[string]string{
	"created":    "created_at",
	"address":    "address",
	"reason":     "reason",
	"created_by": "created_by",
}

// Query is one page of a list: rows whose address contains Q (any case),
// ordered by Sort (one of SortKeys; "" is newest first), Limit rows from
// Offset.
type Query struct {
	Q             string
	Sort          string
	Desc          bool
	Limit, Offset int
}

// Page answers one page of tenantID's list (Global: the operators') and
// how many entries match in all. Search, sort and paging are SQL's, so a
// list of a million bounced addresses costs one page, not the list.
func (s *Store) Page(ctx context.Context, tenantID int64, q Query) ([]Entry, int, error) {
	order := "created_at DESC, id DESC"
	if q.Sort != "" {
		col, ok := SortKeys[q.Sort]
		if !ok {
			return nil, 0, fmt.Errorf("%w sort %q", ErrInvalid, q.Sort)
		}
		dir := " ASC"
		if q.Desc {
			dir = " DESC"
		}
		order = col + dir + ", id" + dir
	} else if q.Desc {
		order = "created_at ASC, id ASC" // the usual order, reversed
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q.Q)) + "%"
	var total int
	if err := s.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM suppressions WHERE tenant_id = $1 AND address LIKE $2 ESCAPE '\'`,
		tenantID, like).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("suppress: count: %w", err)
	}
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+cols+` FROM suppressions WHERE tenant_id = $1 AND address LIKE $2 ESCAPE '\'
		ORDER BY `+order+` LIMIT $3 OFFSET $4`, tenantID, like, q.Limit, q.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("suppress: page: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("suppress: page: %w", err)
		}
		out = append(out, e)
	}
	return out, total, rows.Err()
}
