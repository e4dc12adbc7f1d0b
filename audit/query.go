package audit

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Query limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Filter selects entries; zero fields do not filter. All set fields must
// match.
type Filter struct {
	TenantID *int64 // entries of this tenant; a pointer to 0 selects service-wide events
	Actor    string // exact actor
	Action   string // exact action
	// ActionPrefix selects an action and everything below it in the dotted
	// hierarchy: "connector" (or "connector.") matches "connector.create"
	// and "connector.delete" but not "connectors.x".
	ActionPrefix string
	// Text selects entries whose actor, action, target or source address
	// holds it, case-insensitively (an operator's "anything about
	// deploy-bot"); '%' and '_' match themselves.
	Text  string
	Since time.Time // entries at or after Since
	Until time.Time // entries strictly before Until
	// AfterID pages through results: pass the ID of the last entry of the
	// previous page to get the entries after it in newest-first order,
	// that is those with an ID below AfterID.
	AfterID int64
	Limit   int // default DefaultLimit, at most MaxLimit
}

// Query returns the entries matching f, newest first.
//
// "Connectors created in the last 7 days" is
//
//	l.Query(ctx, audit.Filter{Action: "connector.create", Since: time.Now().AddDate(0, 0, -7)})
func (l *Log) Query(ctx context.Context, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	add := func(cond string, v ...any) {
		// Each cond has one '?' per value, numbered here into $n.
		for _, a := range v {
			args = append(args, a)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where = append(where, cond)
	}
	if f.TenantID != nil {
		add("tenant_id = ?", *f.TenantID)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if p := strings.TrimSuffix(f.ActionPrefix, "."); p != "" {
		// substr, not LIKE: '_' is a LIKE wildcard and may appear in actions.
		add("(action = ? OR substr(action, 1, ?) = ?)", p, utf8.RuneCountInString(p)+1, p+".")
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(t)) + "%"
		add(`(LOWER(actor) LIKE ? ESCAPE '\' OR LOWER(action) LIKE ? ESCAPE '\' OR LOWER(target) LIKE ? ESCAPE '\' OR LOWER(source_ip) LIKE ? ESCAPE '\')`,
			like, like, like, like)
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("created_at < ?", f.Until.UnixNano())
	}
	if f.AfterID > 0 {
		add("id < ?", f.AfterID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)

	q := `SELECT ` + columns + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ` + strconv.Itoa(limit)

	rows, err := l.db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: query: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: query: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: query: %w", err)
	}
	return out, nil
}

// columns are the audit_log columns in the order scanEntry reads them.
const columns = `id, created_at, actor, tenant_id, source_ip, action, target, before_state, after_state, prev_hash, hash`

func scanEntry(rows *sql.Rows) (Entry, error) {
	var e Entry
	var at int64
	var before, after sql.NullString
	if err := rows.Scan(&e.ID, &at, &e.Actor, &e.TenantID, &e.SourceIP, &e.Action, &e.Target,
		&before, &after, &e.PrevHash, &e.Hash); err != nil {
		return Entry{}, err
	}
	e.Time = fromNanos(at)
	if before.Valid {
		e.Before = []byte(before.String)
	}
	if after.Valid {
		e.After = []byte(after.String)
	}
	return e, nil
}
