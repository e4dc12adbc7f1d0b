package trace

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// At info level the Logger writes no line per event, only a summary of the
// refusals by rule once per interval; at debug it writes every event.
func TestLoggerSummarisesAtInfo(t *testing.T) {
	var buf bytes.Buffer
	l := &Logger{L: slog.New(slog.NewTextHandler(&buf, nil)), Every: time.Minute}
	ctx := context.Background()
	t0 := time.Unix(1e9, 0)
	for i := range 1000 {
		l.Record(ctx, Event{Time: t0.Add(time.Duration(i) * time.Millisecond), Stage: "rcpt", Outcome: "reject", Rule: "attribution"})
	}
	l.Record(ctx, Event{Time: t0, Stage: "queued", Outcome: "ok"})
	if buf.Len() != 0 {
		t.Fatalf("lines before the interval passed:\n%s", buf.String())
	}
	l.Record(ctx, Event{Time: t0.Add(time.Minute), Stage: "mail", Outcome: "reject", Rule: "limits"})
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "msg=\"trace summary\"") ||
		!strings.Contains(out, "rule.attribution=1000") || !strings.Contains(out, "rule.limits=1") || !strings.Contains(out, "refusals=1001") {
		t.Fatalf("want one summary line, got:\n%s", out)
	}

	buf.Reset()
	dl := NewLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	dl.Record(ctx, Event{Time: t0, Stage: "rcpt", Outcome: "reject", Rule: "attribution"})
	if !strings.Contains(buf.String(), "level=DEBUG msg=trace stage=rcpt outcome=reject") {
		t.Fatalf("debug line missing:\n%s", buf.String())
	}
}
