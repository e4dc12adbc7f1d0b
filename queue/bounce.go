package queue

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/dsn"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/trace"
)

// bounce composes and spools (but does not commit) the DSN for m's failed
// recipients. It returns nil when no DSN is due: nothing failed, the failed
// recipients asked for none (NOTIFY), or m itself has the null sender — a
// bounce is never bounced.
func (q *Queue) bounce(m *Message) (*Message, error) {
	if dsn.IsNullSender(m.From) || m.Kind == "dsn" {
		return nil, nil
	}
	var rcpts []dsn.Recipient
	for _, r := range m.Rcpts {
		if r.Status != Failed || !r.NotifyFailure() {
			continue
		}
		diag, reason := r.Detail, r.Detail
		if r.Remote == "" {
			diag = "" // a local reason is explained in the human part, not as a remote reply
		}
		if r.Code == "4.4.7" {
			reason = fmt.Sprintf("not delivered within %s (queue.max_age)", q.opts.MaxAge)
		}
		extra := map[string]string{"Reason": reason}
		if m.hold != nil {
			extra["Rule"], extra["Figures"] = m.hold.Rule, m.hold.Figures
		}
		rcpts = append(rcpts, dsn.Recipient{
			Original: r.ORCPT, Final: r.Addr, Action: "failed", Status: dsnStatus(r.Code),
			DiagnosticCode: diag, RemoteMTA: r.Remote, LastAttempt: m.NextAttempt,
			Extra: extra,
		})
	}
	if len(rcpts) == 0 {
		return nil, nil
	}
	var decision BounceDecision
	if q.opts.Bounce != nil {
		var err error
		if decision, err = q.opts.Bounce(q.ctx, m); err != nil {
			return nil, fmt.Errorf("queue: DSN for %s: %w", m.ID, err)
		}
		if decision.Drop {
			q.dropped(m, decision)
			return nil, nil
		}
	}
	orig, err := os.Open(q.spool.path(m.ID))
	if err != nil {
		orig = nil // compose without the original rather than lose the bounce
	}
	w, err := q.Create()
	if err != nil {
		if orig != nil {
			orig.Close()
		}
		return nil, err
	}
	rep := dsn.Report{
		ReportingMTA: q.opts.Hostname, From: "MAILER-DAEMON@" + q.opts.Hostname, To: m.From,
		QueueID: m.ID, EnvelopeID: m.EnvID, ArrivalDate: m.ReceivedAt, Recipients: rcpts,
		ReturnFull: m.RetFull && !decision.HeadersOnly,
	}
	if m.hold != nil {
		rep.Sender, rep.Admin = m.hold.Sender, m.hold.Admin
	}
	if orig != nil {
		rep.Original = io.LimitReader(orig, m.Size) // a recycled file may be longer than its message
		defer orig.Close()
	} else {
		rep.Original = strings.NewReader("")
	}
	if q.opts.HelpURL != "" {
		rep.HelpURL = strings.TrimSuffix(q.opts.HelpURL, "/") + "/ndr/" + rcpts[0].Status
	}
	if err := dsn.Compose(w, rep); err != nil {
		w.Abort()
		return nil, fmt.Errorf("queue: compose DSN for %s: %w", m.ID, err)
	}
	if err := w.finish(); err != nil {
		return nil, err
	}
	b := q.newMessage(w, Envelope{
		From: "", Kind: "dsn", Pool: policy.PoolHighRisk, Attribution: policy.Attribution{TenantID: m.TenantID, Tenant: m.Tenant},
		Subject: "Undeliverable: " + m.Subject,
		Rcpts:   []Recipient{{Addr: m.From, Notify: "NEVER"}},
	})
	q.opts.Trace.Record(q.ctx, trace.Event{Time: time.Now(), QueueID: m.ID, TenantID: m.TenantID, Stage: "dsn", Outcome: "ok",
		Rule: decision.Rule, Detail: "DSN " + b.ID + " queued to " + m.From + returned(rep.ReturnFull, decision),
		Attrs: []slog.Attr{slog.String("to", m.From), slog.String("dsn_queue_id", b.ID)}})
	return b, nil
}

// returned says what of the original a DSN carries, for the trace.
func returned(full bool, d BounceDecision) string {
	switch {
	case full:
		return " with the original message"
	case d.HeadersOnly:
		return " with the original's header only (" + d.Reason + ")"
	}
	return " with the original's header"
}

// dropped records a DSN that Options.Bounce stopped: in the trace, where
// the tenant admin looks for the bounce, and in the log.
func (q *Queue) dropped(m *Message, d BounceDecision) {
	q.opts.Trace.Record(q.ctx, trace.Event{Time: time.Now(), QueueID: m.ID, TenantID: m.TenantID, Stage: "dsn", Outcome: "reject",
		Rule: d.Rule, Detail: d.Reason, Attrs: []slog.Attr{slog.String("to", m.From), slog.String("figures", d.Figures)}})
	q.log.Info("DSN not sent", "queue_id", m.ID, "tenant", m.Tenant, "to", m.From, "rule", d.Rule, "reason", d.Reason, "figures", d.Figures)
}

// dsnStatus is the DSN Status of a recorded code. Expiry keeps 4.4.7
// ("delivery time expired") with action "failed", as sendmail and Postfix do.
func dsnStatus(code string) string {
	if code == "" {
		return "5.0.0"
	}
	return code
}
