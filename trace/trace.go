// Package trace records the life of every message: attribution, each check's
// decision with its figures, the queue and every delivery attempt, so that
// "why was this blocked?" always has an answer.
//
// Recorder is the seam: the front end, the queue and delivery write Events to
// it. Logger writes them as structured log lines; Store keeps them in the
// database, in batches, for the search behind GET /api/v1/trace and
// `tollgate admin trace`.
package trace

import (
	"context"
	"log/slog"
	"time"
)

// Event is one step of a message's (or a refused transaction's) life.
type Event struct {
	Time    time.Time
	Session string // the SMTP session id; ties refusals before DATA together
	QueueID string // empty before the message is spooled
	// TenantID scopes the event: tenant admins search only their own.
	TenantID int64
	Stage    string // connect, auth, mail, rcpt, data, queued, attempt, delivered, deferred, bounced, dsn
	Outcome  string // accept, reject, defer, ok, fail
	Rule     string
	Detail   string
	Attrs    []slog.Attr // figures, addresses, remote replies
}

// Recorder takes events. Implementations must not block the SMTP path for
// long: they buffer, and they never fail the caller.
type Recorder interface {
	Record(ctx context.Context, e Event)
}

// Logger records events as log lines at info level (refusals) or debug level
// (the routine steps of an accepted message).
type Logger struct{ L *slog.Logger }

// levelOf is the log level of an event with this outcome: refusals at
// info, the routine steps of an accepted message at debug.
func levelOf(outcome string) slog.Level {
	if outcome == "reject" || outcome == "defer" || outcome == "fail" {
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// Enabled reports whether an event with this outcome would be recorded, so
// callers on the SMTP path can skip building it.
func (l Logger) Enabled(ctx context.Context, outcome string) bool {
	return l.L.Enabled(ctx, levelOf(outcome))
}

// Record implements Recorder.
func (l Logger) Record(ctx context.Context, e Event) {
	level := levelOf(e.Outcome)
	if !l.L.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, len(e.Attrs)+6)
	attrs = append(attrs, slog.String("stage", e.Stage), slog.String("outcome", e.Outcome))
	if e.Session != "" {
		attrs = append(attrs, slog.String("session", e.Session))
	}
	if e.QueueID != "" {
		attrs = append(attrs, slog.String("queue_id", e.QueueID))
	}
	if e.Rule != "" {
		attrs = append(attrs, slog.String("rule", e.Rule))
	}
	if e.Detail != "" {
		attrs = append(attrs, slog.String("detail", e.Detail))
	}
	attrs = append(attrs, e.Attrs...)
	l.L.LogAttrs(ctx, level, "trace", attrs...)
}

// Filter is implemented by recorders that drop some events: callers ask it
// before building an event they may not need.
type Filter interface {
	Enabled(ctx context.Context, outcome string) bool
}

// Discard drops every event (tests, benchmarks).
type Discard struct{}

// Enabled implements Filter.
func (Discard) Enabled(context.Context, string) bool { return false }

// Record implements Recorder.
func (Discard) Record(context.Context, Event) {}
