package classify

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// msg builds a message from header lines and a body, with CRLF endings.
func msg(headers []string, body string) []byte {
	var b strings.Builder
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	return []byte(b.String())
}

func defaultEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// neverSpam is the built-in engine with a threshold no score reaches.
func neverSpam(t testing.TB) *Engine {
	t.Helper()
	m, err := EmbeddedModel()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m, Options{SpamThreshold: 1e9})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func classifyOK(t testing.TB, e Classifier, in Input) Result {
	t.Helper()
	r, err := e.Classify(context.Background(), in)
	if err != nil {
		t.Fatalf("classify: %v", err)
	}
	return r
}

func hasReason(r Result, name string) bool {
	for _, x := range r.Reasons {
		if x.Name == name {
			return true
		}
	}
	return false
}

// parseDoc parses raw with caps (defaults for zero fields) and extracts its
// features into a collector.
func parseDoc(raw []byte, caps Caps) (*document, *collector) {
	var d document
	d.reset()
	d.parse(raw, caps.withDefaults())
	c := &collector{mask: 1<<18 - 1, seen: map[uint32]struct{}{}}
	d.extract(c, nil)
	return &d, c
}

func newTestLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
