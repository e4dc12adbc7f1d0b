package queue

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// ipString is the address as the spool keeps it; "" for none.
func ipString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// statements are prepared once on the writer connection; tx.Stmt reuses
// them inside each group commit, so SQLite parses each query once rather
// than once per message.
type statements struct {
	insertMsg, insertRcpt, setLastError, updateRcpt, deleteRcpts, deleteMsg, claimMsg, dueNow *sql.Stmt
}

func prepare(ctx context.Context, db *sql.DB) (*statements, error) {
	st := &statements{}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.insertMsg, `INSERT INTO messages (id, sender, envid, ret_full, utf8, kind, pool, tenant_id, tenant,
			user_name, connector, client_ip, message_id, subject, size, received_at, attempts, next_attempt, last_error,
			user_id, connector_id, app_password_id, method)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`},
		{&st.insertRcpt, `INSERT INTO recipients (message_id, idx, addr, orcpt, notify, status, code, detail, remote)
			VALUES (?,?,?,?,?,?,?,?,?)`},
		{&st.setLastError, `UPDATE messages SET last_error = ? WHERE id = ?`},
		{&st.updateRcpt, `UPDATE recipients SET status = ?, code = ?, detail = ?, remote = ? WHERE message_id = ? AND idx = ?`},
		{&st.deleteRcpts, `DELETE FROM recipients WHERE message_id = ?`},
		{&st.deleteMsg, `DELETE FROM messages WHERE id = ?`},
		{&st.claimMsg, `UPDATE messages SET attempts = ?, next_attempt = ? WHERE id = ?`},
		{&st.dueNow, `UPDATE messages SET next_attempt = ? WHERE id = ?`},
	} {
		stmt, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			return nil, fmt.Errorf("queue: prepare %q: %w", p.sql, err)
		}
		*p.dst = stmt
	}
	return st, nil
}

func (st *statements) insertMessage(tx *sql.Tx, m *Message) error {
	_, err := tx.Stmt(st.insertMsg).Exec(m.ID, m.From, m.EnvID, m.RetFull, m.UTF8, m.Kind, m.Pool, m.TenantID, m.Tenant,
		m.User, m.Connector, ipString(m.ClientIP), m.MessageID, m.Subject, m.Size, m.ReceivedAt.UnixNano(),
		m.Attempts, m.NextAttempt.UnixNano(), m.LastError, m.UserID, m.ConnectorID, m.AppPasswordID, string(m.Method))
	if err != nil {
		return fmt.Errorf("insert message %s: %w", m.ID, err)
	}
	ins := tx.Stmt(st.insertRcpt)
	for i, r := range m.Rcpts {
		if _, err := ins.Exec(m.ID, i, r.Addr, r.ORCPT, r.Notify, string(r.Status), r.Code, r.Detail, r.Remote); err != nil {
			return fmt.Errorf("insert recipient %d of %s: %w", i, m.ID, err)
		}
	}
	return nil
}

// saveProgress records the recipients' states after an attempt that left
// some pending. next_attempt was already written when the attempt was claimed.
func (st *statements) saveProgress(tx *sql.Tx, m *Message) error {
	if _, err := tx.Stmt(st.setLastError).Exec(m.LastError, m.ID); err != nil {
		return fmt.Errorf("update message %s: %w", m.ID, err)
	}
	upd := tx.Stmt(st.updateRcpt)
	for i, r := range m.Rcpts {
		if _, err := upd.Exec(string(r.Status), r.Code, r.Detail, r.Remote, m.ID, i); err != nil {
			return fmt.Errorf("update recipient %d of %s: %w", i, m.ID, err)
		}
	}
	return nil
}

func (st *statements) deleteMessage(tx *sql.Tx, id string) error {
	if _, err := tx.Stmt(st.deleteRcpts).Exec(id); err != nil {
		return fmt.Errorf("delete recipients of %s: %w", id, err)
	}
	if _, err := tx.Stmt(st.deleteMsg).Exec(id); err != nil {
		return fmt.Errorf("delete message %s: %w", id, err)
	}
	return nil
}

// claim writes the next attempt's time before the attempt is made.
func (st *statements) claim(tx *sql.Tx, m *Message) error {
	if _, err := tx.Stmt(st.claimMsg).Exec(m.Attempts, m.NextAttempt.UnixNano(), m.ID); err != nil {
		return fmt.Errorf("claim %s: %w", m.ID, err)
	}
	return nil
}

func (st *statements) makeDue(tx *sql.Tx, ids []string) error {
	now := time.Now().UnixNano()
	upd := tx.Stmt(st.dueNow)
	for _, id := range ids {
		if _, err := upd.Exec(now, id); err != nil {
			return fmt.Errorf("reschedule %s: %w", id, err)
		}
	}
	return nil
}

const messageColumns = `id, sender, envid, ret_full, utf8, kind, pool, tenant_id, tenant, user_name, connector,
	client_ip, message_id, subject, size, received_at, attempts, next_attempt, last_error,
	user_id, connector_id, app_password_id, method, held, held_reason`

func scanMessage(row interface{ Scan(...any) error }) (*Message, error) {
	var m Message
	var received, next int64
	var ip, method string
	if err := row.Scan(&m.ID, &m.From, &m.EnvID, &m.RetFull, &m.UTF8, &m.Kind, &m.Pool, &m.TenantID, &m.Tenant,
		&m.User, &m.Connector, &ip, &m.MessageID, &m.Subject, &m.Size, &received, &m.Attempts, &next,
		&m.LastError, &m.UserID, &m.ConnectorID, &m.AppPasswordID, &method, &m.Held, &m.HeldReason); err != nil {
		return nil, err
	}
	// An address that does not parse (none was written for a DSN) is
	// the zero address: the hold judges the ids and names.
	m.ClientIP, _ = netip.ParseAddr(ip)
	m.Method = policy.Method(method)
	m.ReceivedAt = time.Unix(0, received)
	m.NextAttempt = time.Unix(0, next)
	return &m, nil
}

// loadMessages reads messages matching where (with args) and their recipients.
func (q *Queue) loadMessages(ctx context.Context, where string, args ...any) ([]*Message, error) {
	rows, err := q.db.Read.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("queue: list messages: %w", err)
	}
	var msgs []*Message
	byID := map[string]*Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("queue: read message: %w", err)
		}
		msgs = append(msgs, m)
		byID[m.ID] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue: list messages: %w", err)
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	ids := make([]any, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	rrows, err := q.db.Read.QueryContext(ctx, `SELECT message_id, addr, orcpt, notify, status, code, detail, remote
		FROM recipients WHERE message_id IN (?`+strings.Repeat(",?", len(ids)-1)+`) ORDER BY message_id, idx`, ids...)
	if err != nil {
		return nil, fmt.Errorf("queue: list recipients: %w", err)
	}
	defer rrows.Close()
	for rrows.Next() {
		var id string
		var r Recipient
		var st string
		if err := rrows.Scan(&id, &r.Addr, &r.ORCPT, &r.Notify, &st, &r.Code, &r.Detail, &r.Remote); err != nil {
			return nil, fmt.Errorf("queue: read recipient: %w", err)
		}
		r.Status = Status(st)
		if m := byID[id]; m != nil {
			m.Rcpts = append(m.Rcpts, r)
		}
	}
	return msgs, rrows.Err()
}

// List returns the spooled messages, oldest first (for the admin API).
func (q *Queue) List(ctx context.Context, limit int) ([]*Message, error) {
	if limit <= 0 {
		limit = 1000
	}
	return q.loadMessages(ctx, `ORDER BY received_at LIMIT ?`, limit)
}

// Depth is how many messages the spool holds (waiting or in delivery).
func (q *Queue) Depth(ctx context.Context) (int, error) {
	var n int
	if err := q.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM messages`).Scan(&n); err != nil {
		return 0, fmt.Errorf("queue depth: %w", err)
	}
	return n, nil
}
