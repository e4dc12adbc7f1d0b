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
	"sort"
	"sync"
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

// Logger records events as log lines at debug level. At info level it
// writes only a summary, at most once per Every: how many refusals there
// were, by rule. One info line per refusal let an anonymous client grow the
// log by 245 MB in ten seconds; the trace store keeps the events
// themselves.
type Logger struct {
	L *slog.Logger
	// Every is the summary interval (a minute if zero).
	Every time.Duration

	mu      sync.Mutex
	since   time.Time
	refused map[string]int // rule → refusals since
}

// NewLogger is a Logger on l with a summary a minute.
func NewLogger(l *slog.Logger) *Logger { return &Logger{L: l, Every: time.Minute} }

// refusal reports whether an outcome is a refusal (counted in the summary).
func refusal(outcome string) bool {
	return outcome == "reject" || outcome == "defer" || outcome == "fail"
}

// Enabled implements Filter: events are built only if debug lines are
// written, or if they count in the summary.
func (l *Logger) Enabled(ctx context.Context, outcome string) bool {
	return l.L.Enabled(ctx, slog.LevelDebug) || (refusal(outcome) && l.L.Enabled(ctx, slog.LevelInfo))
}

// Record implements Recorder.
func (l *Logger) Record(ctx context.Context, e Event) {
	if refusal(e.Outcome) {
		l.count(ctx, e.Rule, e.Time)
	}
	if !l.L.Enabled(ctx, slog.LevelDebug) {
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
	l.L.LogAttrs(ctx, slog.LevelDebug, "trace", attrs...)
}

// count adds a refusal to the summary and writes the summary when its
// interval has passed.
func (l *Logger) count(ctx context.Context, rule string, now time.Time) {
	if now.IsZero() {
		now = time.Now()
	}
	if rule == "" {
		rule = "other"
	}
	every := l.Every
	if every <= 0 {
		every = time.Minute
	}
	l.mu.Lock()
	if l.refused == nil {
		l.refused, l.since = map[string]int{}, now
	}
	l.refused[rule]++
	if now.Sub(l.since) < every {
		l.mu.Unlock()
		return
	}
	counts, since := l.refused, l.since
	l.refused, l.since = map[string]int{}, now
	l.mu.Unlock()
	total := 0
	attrs := []slog.Attr{slog.Time("since", since)}
	rules := make([]string, 0, len(counts))
	for r := range counts {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	for _, r := range rules {
		total += counts[r]
		attrs = append(attrs, slog.Int("rule."+r, counts[r]))
	}
	attrs = append(attrs, slog.Int("refusals", total))
	l.L.LogAttrs(ctx, slog.LevelInfo, "trace summary", attrs...)
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
