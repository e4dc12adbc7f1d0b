package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/metrics"
	"github.com/tollgate-mail/tollgate/trace"
)

// recover runs at Open. tmp/ holds bodies whose clients never got 250, and so
// does msg/ for a body whose row was never committed: both are removed. A row
// whose body is missing cannot be delivered; it is logged and dropped.
func (q *Queue) recover(ctx context.Context) error {
	tmp, err := os.ReadDir(q.spool.tmp)
	if err != nil {
		return fmt.Errorf("queue: recover: %w", err)
	}
	for _, e := range tmp {
		os.Remove(filepath.Join(q.spool.tmp, e.Name()))
	}
	free, err := os.ReadDir(q.spool.free)
	if err != nil {
		return fmt.Errorf("queue: recover: %w", err)
	}
	for _, e := range free {
		q.spool.giveBack(e.Name())
	}
	known := map[string]bool{}
	rows, err := q.db.Read.QueryContext(ctx, `SELECT id FROM messages`)
	if err != nil {
		return fmt.Errorf("queue: recover: %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("queue: recover: %w", err)
		}
		known[id] = true
	}
	rows.Close()
	files, err := os.ReadDir(q.spool.msg)
	if err != nil {
		return fmt.Errorf("queue: recover: %w", err)
	}
	orphans := 0
	for _, e := range files {
		if !known[e.Name()] {
			q.spool.reclaim(e.Name())
			orphans++
			continue
		}
		delete(known, e.Name())
	}
	for id := range known { // rows without a body
		q.log.Error("spooled message has no body file; dropping it", "queue_id", id)
		if err := q.exec(ctx, false, func(tx *sql.Tx) error { return q.stmts.deleteMessage(tx, id) }); err != nil {
			return fmt.Errorf("queue: recover: %w", err)
		}
	}
	var n int
	if err := q.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM messages`).Scan(&n); err != nil {
		return fmt.Errorf("queue: recover: %w", err)
	}
	metrics.SpoolMessages.Set(float64(n))
	q.log.Info("spool recovered", "messages", n, "removed_unacknowledged", orphans+len(tmp))
	return nil
}

// scanLoop looks for due messages that are not already in hand: those that
// wait for a retry, and those recovered after a restart.
func (q *Queue) scanLoop() {
	defer q.wg.Done()
	t := time.NewTicker(q.opts.ScanInterval)
	defer t.Stop()
	for {
		if err := q.scanDue(); err != nil && !errors.Is(err, ErrClosed) && q.ctx.Err() == nil {
			q.log.Error("scan for due messages failed", "err", err)
		}
		select {
		case <-q.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (q *Queue) scanDue() error {
	now := time.Now()
	msgs, err := q.loadMessages(q.ctx, `WHERE held = 0 AND next_attempt <= ? ORDER BY next_attempt LIMIT 500`, now.UnixNano())
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if _, busy := q.inflight.LoadOrStore(m.ID, struct{}{}); busy {
			continue
		}
		m.Attempts++
		m.NextAttempt = now.Add(q.retryDelay(m.Attempts))
		if err := q.exec(q.ctx, false, func(tx *sql.Tx) error { return q.stmts.claim(tx, m) }); err != nil {
			q.inflight.Delete(m.ID)
			return err
		}
		q.ready.push(m)
	}
	return nil
}

func (q *Queue) worker() {
	defer q.wg.Done()
	for {
		m := q.ready.pop()
		if m == nil {
			return
		}
		q.attempt(m)
		q.inflight.Delete(m.ID)
	}
}

// attempt delivers m's pending recipients once and records the outcome.
func (q *Queue) attempt(m *Message) {
	log := q.log.With("queue_id", m.ID)
	f, err := os.Open(q.spool.path(m.ID))
	if err != nil {
		log.Error("message body unreadable", "err", err)
		was := pendingRcpts(m)
		q.failAll(m, "4.3.0", fmt.Sprintf("spool file unreadable: %v", err))
		q.undelivered(m, was, nil, CauseUnreadable)
		q.finish(m, log)
		return
	}
	if q.opts.Hold != nil && m.Kind != "dsn" {
		if h := q.opts.Hold(m); h != nil {
			f.Close()
			m.hold = h
			was := pendingRcpts(m)
			q.failAll(m, h.Code, h.Reason)
			q.undelivered(m, was, nil, CauseHeld)
			for _, rc := range m.Rcpts {
				q.opts.Trace.Record(q.ctx, trace.Event{Time: time.Now(), QueueID: m.ID, TenantID: m.TenantID, Stage: "bounced",
					Outcome: "fail", Rule: h.Rule, Detail: h.Code + " " + h.Reason,
					Attrs: []slog.Attr{slog.String("rcpt", rc.Addr), slog.String("code", h.Code), slog.String("figures", h.Figures)}})
			}
			log.Info("held after acceptance", "code", h.Code, "rule", h.Rule)
			q.finish(m, log)
			return
		}
	}
	start := time.Now()
	d := &Delivery{ID: m.ID, From: m.From, Rcpts: m.Pending(), Pool: m.Pool, Size: m.Size, UTF8: m.UTF8,
		EnvID: m.EnvID, RetFull: m.RetFull, Body: io.NewSectionReader(f, 0, m.Size), ReceivedAt: m.ReceivedAt,
		TenantID: m.TenantID, Kind: m.Kind, ConnectorID: m.ConnectorID}
	results := q.opts.Transport.Deliver(q.ctx, d)
	f.Close()
	took := time.Since(start)
	metrics.AttemptLatency.Observe(took.Seconds())
	q.apply(m, results, log)
	if len(m.Pending()) > 0 && time.Since(m.ReceivedAt) >= q.opts.MaxAge && q.ctx.Err() == nil {
		was := pendingRcpts(m)
		q.failAll(m, "4.4.7", fmt.Sprintf("not delivered within %s; last error: %s", q.opts.MaxAge, m.LastError))
		q.undelivered(m, was, results, CauseExpired)
	}
	logAttempt(log, m, results, took)
	if len(m.Pending()) > 0 {
		if err := q.exec(context.Background(), false, func(tx *sql.Tx) error { return q.stmts.saveProgress(tx, m) }); err != nil {
			log.Error("could not record delivery progress", "err", err)
		}
		return
	}
	q.finish(m, log)
}

// logAttempt writes the one INFO line of a delivery attempt, as MTAs log
// each try: the tenant, the next hop(s), the result (delivered, deferred,
// bounced, or partial when the recipients fared differently), the reply
// that decided it, and how long the attempt took.
func logAttempt(log *slog.Logger, m *Message, results []Result, took time.Duration) {
	var hops []string
	var ok, temp, perm int
	reply, failed := "", false
	for _, r := range results {
		if r.Remote != "" && !slices.Contains(hops, r.Remote) {
			hops = append(hops, r.Remote)
		}
		switch {
		case r.OK:
			ok++
		case r.Permanent:
			perm++
		default:
			temp++
		}
		if reply == "" || (!r.OK && !failed) {
			reply = r.Detail // the first failure's reply, else the first reply
		}
		failed = failed || !r.OK
	}
	result := "partial"
	switch {
	case ok == len(results) && ok > 0:
		result = "delivered"
	case temp == len(results) && temp > 0:
		result = "deferred"
	case perm == len(results) && perm > 0:
		result = "bounced"
	case len(results) == 0:
		result = "deferred"
	}
	attrs := []any{"tenant", m.Tenant, "tenant_id", m.TenantID, "next_hop", strings.Join(hops, ","), "result", result,
		"reply", reply, "duration", took.Round(time.Millisecond).String(), "attempt", m.Attempts, "rcpts", len(results)}
	if p := len(m.Pending()); p > 0 {
		attrs = append(attrs, "pending", p, "next_attempt", m.NextAttempt.UTC().Format(time.RFC3339))
	}
	log.Info("delivery attempt", attrs...)
}

// apply records each recipient's result.
func (q *Queue) apply(m *Message, results []Result, log *slog.Logger) {
	byRcpt := make(map[string]Result, len(results))
	for _, r := range results {
		byRcpt[strings.ToLower(r.Rcpt)] = r
	}
	fb := q.opts.Feedback
	if m.Kind == "dsn" || m.TenantID == 0 {
		fb = nil
	}
	var classes []string
	for i := range m.Rcpts {
		rc := &m.Rcpts[i]
		if rc.Status != Pending {
			continue
		}
		r, ok := byRcpt[strings.ToLower(rc.Addr)]
		if !ok {
			r = Result{Code: "4.4.0", Detail: "no result from the transport"}
		}
		var class, reason string
		if fb != nil {
			class, reason = fb.Classify(r)
			classes = append(classes, class)
		}
		rc.Code, rc.Detail, rc.Remote = r.Code, r.Detail, r.Remote
		var stage, outcome string
		switch {
		case r.OK:
			rc.Status = Delivered
			metrics.Delivered.WithLabelValues(string(m.Pool)).Inc()
			stage, outcome = "delivered", "ok"
		case r.Permanent:
			rc.Status = Failed
			metrics.Bounced.WithLabelValues(string(m.Pool)).Inc()
			stage, outcome = "bounced", "fail"
		default:
			m.LastError = r.Detail
			metrics.Deferred.WithLabelValues(string(m.Pool)).Inc()
			stage, outcome = "deferred", "defer"
		}
		if f, ok := q.opts.Trace.(trace.Filter); ok && !f.Enabled(q.ctx, outcome) {
			continue
		}
		attrs := []slog.Attr{slog.String("rcpt", rc.Addr), slog.String("code", r.Code), slog.String("remote", r.Remote), slog.String("pool", string(m.Pool))}
		if class != "" {
			attrs = append(attrs, slog.String("class", class), slog.String("class_reason", reason))
		}
		q.opts.Trace.Record(q.ctx, trace.Event{Time: time.Now(), QueueID: m.ID, TenantID: m.TenantID, Stage: stage, Outcome: outcome, Rule: "delivery", Detail: r.Detail,
			Attrs: attrs})
	}
	if len(classes) > 0 {
		fb.Count(q.ctx, m.TenantID, classes)
	}
}

// failAll fails every pending recipient with code. A recipient that had a
// remote reply keeps it (it becomes the DSN's Diagnostic-Code); one without
// gets reason.
func (q *Queue) failAll(m *Message, code, reason string) {
	for i := range m.Rcpts {
		rc := &m.Rcpts[i]
		if rc.Status != Pending {
			continue
		}
		rc.Status, rc.Code = Failed, code
		if rc.Remote == "" || rc.Detail == "" {
			rc.Detail, rc.Remote = reason, ""
		}
		metrics.Bounced.WithLabelValues(string(m.Pool)).Inc()
	}
}

// finish ends a message whose recipients are all delivered or failed: it
// queues a DSN for the failed ones, in the same transaction that deletes the
// message, so the bounce exists exactly once.
func (q *Queue) finish(m *Message, log *slog.Logger) {
	bounce, err := q.bounce(m)
	if err != nil {
		// Record who was delivered, so the next attempt (at next_attempt)
		// only tries the bounce again and never delivers twice.
		log.Error("could not compose DSN; keeping the message for another try", "err", err)
		if err := q.exec(context.Background(), false, func(tx *sql.Tx) error { return q.stmts.saveProgress(tx, m) }); err != nil {
			log.Error("could not record delivery progress", "err", err)
		}
		return
	}
	err = q.exec(context.Background(), bounce != nil, func(tx *sql.Tx) error {
		if bounce != nil {
			if err := q.stmts.insertMessage(tx, bounce); err != nil {
				return err
			}
		}
		return q.stmts.deleteMessage(tx, m.ID)
	})
	if err != nil {
		log.Error("could not remove delivered message", "err", err)
		if bounce != nil {
			q.spool.reclaim(bounce.ID)
		}
		return
	}
	if err := q.spool.release(m.ID, m.Size); err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Warn("could not remove spool file", "err", err)
	}
	metrics.SpoolMessages.Dec()
	metrics.DeliveryLatency.Observe(time.Since(m.ReceivedAt).Seconds())
	if bounce != nil {
		metrics.SpoolMessages.Inc()
		metrics.DSNs.Inc()
		q.inflight.Store(bounce.ID, struct{}{})
		q.ready.push(bounce)
		log.Info("bounced", "dsn_queue_id", bounce.ID, "to", m.From)
	}
	log.Debug("done", "rcpts", len(m.Rcpts))
}
