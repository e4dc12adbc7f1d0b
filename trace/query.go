package trace

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Entry is one stored event.
type Entry struct {
	At        time.Time         `json:"at"`
	Session   string            `json:"session,omitempty"`
	QueueID   string            `json:"queue_id,omitempty"`
	TenantID  int64             `json:"tenant_id,omitempty"`
	Stage     string            `json:"stage"`
	Outcome   string            `json:"outcome"`
	Rule      string            `json:"rule,omitempty"`
	Detail    string            `json:"detail,omitempty"`
	Sender    string            `json:"sender,omitempty"`
	Rcpt      string            `json:"rcpt,omitempty"`
	MessageID string            `json:"message_id,omitempty"`
	Attrs     map[string]string `json:"attrs,omitempty"`
}

// Query selects messages. Empty fields do not filter; TenantID > 0 limits
// the search to one tenant (always set for a tenant admin).
type Query struct {
	TenantID  int64
	Sender    string
	Recipient string
	MessageID string
	QueueID   string
	Since     time.Time
	Until     time.Time
	Limit     int // default 50, at most 500
}

// Summary is one message (or one refused transaction) as a search result.
// ID names it for Message: the queue id once queued, else "s:" + session.
type Summary struct {
	ID         string    `json:"id"`
	QueueID    string    `json:"queue_id,omitempty"`
	Session    string    `json:"session,omitempty"`
	TenantID   int64     `json:"tenant_id,omitempty"`
	Sender     string    `json:"sender,omitempty"`
	Recipients []string  `json:"recipients,omitempty"`
	MessageID  string    `json:"message_id,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	Verdict    string    `json:"verdict,omitempty"`
	Pool       string    `json:"pool,omitempty"`
	Status     string    `json:"status"`              // open, abandoned, refused, deferred, queued, delivered, bounced
	Tenant     string    `json:"tenant,omitempty"`    // the tenant's name as attributed at the time
	Connector  string    `json:"connector,omitempty"` // the connector the session came through, if any
	ClientIP   string    `json:"client_ip,omitempty"`
	Code       string    `json:"code,omitempty"`
	Rule       string    `json:"rule,omitempty"`
	First      time.Time `json:"first_at"`
	Last       time.Time `json:"last_at"`
}

const entryCols = `at, session, queue_id, tenant_id, stage, outcome, rule, detail, sender, rcpt, message_id, attrs`

func scanEntries(rows *sql.Rows) ([]Entry, error) {
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at int64
		var attrs string
		if err := rows.Scan(&at, &e.Session, &e.QueueID, &e.TenantID, &e.Stage, &e.Outcome, &e.Rule, &e.Detail,
			&e.Sender, &e.Rcpt, &e.MessageID, &attrs); err != nil {
			return nil, err
		}
		e.At = time.Unix(0, at).UTC()
		_ = json.Unmarshal([]byte(attrs), &e.Attrs)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Search finds messages matching q, newest first.
func (s *Store) Search(ctx context.Context, q Query) ([]Summary, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.TenantID > 0 {
		where = append(where, "tenant_id = "+arg(q.TenantID))
	}
	if q.Sender != "" {
		where = append(where, "sender = "+arg(clip(strings.ToLower(q.Sender))))
	}
	if q.Recipient != "" {
		where = append(where, "rcpt = "+arg(clip(strings.ToLower(q.Recipient))))
	}
	if q.MessageID != "" {
		id := strings.TrimSpace(q.MessageID)
		if !strings.HasPrefix(id, "<") {
			id = "<" + id + ">"
		}
		where = append(where, "message_id = "+arg(clip(id)))
	}
	if q.QueueID != "" {
		where = append(where, "queue_id = "+arg(q.QueueID))
	}
	if !q.Since.IsZero() {
		where = append(where, "at >= "+arg(q.Since.UnixNano()))
	}
	if !q.Until.IsZero() {
		where = append(where, "at < "+arg(q.Until.UnixNano()))
	}
	cond := "1=1"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	rows, err := s.db.Read.QueryContext(ctx, `SELECT session, queue_id FROM trace_events WHERE `+cond+` ORDER BY at DESC LIMIT 5000`, args...)
	if err != nil {
		return nil, fmt.Errorf("search trace: %w", err)
	}
	var sessions, queueIDs []string
	seen := map[string]bool{}
	for rows.Next() && len(seen) < q.Limit*4 {
		var sess, qid string
		if err := rows.Scan(&sess, &qid); err != nil {
			rows.Close()
			return nil, err
		}
		if sess != "" && !seen["s:"+sess] {
			seen["s:"+sess] = true
			sessions = append(sessions, sess)
		}
		if qid != "" && !seen[qid] {
			seen[qid] = true
			queueIDs = append(queueIDs, qid)
		}
	}
	rows.Close()
	entries, err := s.entriesOf(ctx, sessions, queueIDs)
	if err != nil {
		return nil, err
	}
	out := summarize(entries, time.Now())
	if q.TenantID > 0 {
		kept := out[:0]
		for _, m := range out {
			if m.TenantID == q.TenantID {
				kept = append(kept, m)
			}
		}
		out = kept
	}
	out = filterSummaries(out, q)
	if len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// filterSummaries keeps the messages that match q as a whole (a session can
// hold several transactions; only the matching ones are answers).
func filterSummaries(in []Summary, q Query) []Summary {
	out := in[:0]
	for _, m := range in {
		if q.Sender != "" && !strings.EqualFold(m.Sender, q.Sender) {
			continue
		}
		if q.QueueID != "" && m.QueueID != q.QueueID {
			continue
		}
		if q.MessageID != "" && strings.Trim(m.MessageID, "<>") != strings.Trim(strings.TrimSpace(q.MessageID), "<>") {
			continue
		}
		if q.Recipient != "" {
			found := false
			for _, r := range m.Recipients {
				found = found || strings.EqualFold(r, q.Recipient)
			}
			if !found {
				continue
			}
		}
		out = append(out, m)
	}
	return out
}

// entriesOf loads every event of the sessions and queue ids, oldest first,
// each once: a queued message's session is found from its queue id, the
// session's events are loaded by session, and the delivery events (which
// have no session) by queue id.
func (s *Store) entriesOf(ctx context.Context, sessions, queueIDs []string) ([]Entry, error) {
	seen := map[string]bool{}
	for _, sess := range sessions {
		seen[sess] = true
	}
	batches := func(keys []string, fn func(ph string, args []any) error) error {
		for len(keys) > 0 {
			n := min(len(keys), 200)
			ph := make([]string, n)
			args := make([]any, n)
			for i := range n {
				ph[i], args[i] = fmt.Sprintf("$%d", i+1), keys[i]
			}
			if err := fn(strings.Join(ph, ","), args); err != nil {
				return err
			}
			keys = keys[n:]
		}
		return nil
	}
	err := batches(queueIDs, func(ph string, args []any) error {
		rows, err := s.db.Read.QueryContext(ctx, `SELECT DISTINCT session FROM trace_events WHERE queue_id IN (`+ph+`) AND session <> ''`, args...)
		if err != nil {
			return fmt.Errorf("load trace: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var sess string
			if err := rows.Scan(&sess); err != nil {
				return err
			}
			if !seen[sess] {
				seen[sess] = true
				sessions = append(sessions, sess)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	var all []Entry
	load := func(where string) func(ph string, args []any) error {
		return func(ph string, args []any) error {
			rows, err := s.db.Read.QueryContext(ctx, `SELECT `+entryCols+` FROM trace_events WHERE `+fmt.Sprintf(where, ph), args...)
			if err != nil {
				return fmt.Errorf("load trace: %w", err)
			}
			es, err := scanEntries(rows)
			all = append(all, es...)
			return err
		}
	}
	if err := batches(sessions, load("session IN (%s)")); err != nil {
		return nil, err
	}
	// The sessions' queued messages bring their delivery events.
	known := map[string]bool{}
	for _, q := range queueIDs {
		known[q] = true
	}
	for _, e := range all {
		if e.QueueID != "" && !known[e.QueueID] {
			known[e.QueueID] = true
			queueIDs = append(queueIDs, e.QueueID)
		}
	}
	if err := batches(queueIDs, load("queue_id IN (%s) AND session = ''")); err != nil {
		return nil, err
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].At.Before(all[j].At) })
	return all, nil
}

// Message returns every event of one message (ID as in Summary), oldest
// first: its session's transaction before queueing and its delivery after.
// tenantID > 0 refuses (with no events) a message of another tenant.
func (s *Store) Message(ctx context.Context, id string, tenantID int64) (Summary, []Entry, error) {
	var sessions, queueIDs []string
	if rest, ok := strings.CutPrefix(id, "s:"); ok {
		sess := rest
		if i := strings.LastIndexByte(rest, ':'); i > 0 {
			sess = rest[:i]
		}
		sessions = []string{sess}
	} else {
		queueIDs = []string{id}
	}
	entries, err := s.entriesOf(ctx, sessions, queueIDs)
	if err != nil {
		return Summary{}, nil, err
	}
	for _, m := range summarize(entries, time.Now()) {
		if m.ID != id || (tenantID > 0 && m.TenantID != tenantID) {
			continue
		}
		var mine []Entry
		for _, e := range entries {
			if belongs(e, m) {
				mine = append(mine, e)
			}
		}
		return m, mine, nil
	}
	return Summary{}, nil, ErrNotFound
}

// ErrNotFound: no such message in the trace (or not the caller's tenant's).
var ErrNotFound = fmt.Errorf("message not found in the trace")

func belongs(e Entry, m Summary) bool {
	if e.QueueID != "" {
		return e.QueueID == m.QueueID
	}
	return e.Session == m.Session && !e.At.Before(m.First) && !e.At.After(m.Last)
}
