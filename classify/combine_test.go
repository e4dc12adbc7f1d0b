package classify

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// stub is a Classifier with a fixed answer.
type stub struct {
	res Result
	err error
}

func (s stub) Classify(context.Context, Input) (Result, error) { return s.res, s.err }

func TestClassifyBoth(t *testing.T) {
	clean := stub{res: Result{Verdict: Clean, Score: -3, Bulk: 2, Engine: "a", Reasons: []Reason{{"x", -3}}}}
	spam := stub{res: Result{Verdict: Spam, Score: 9, Bulk: 0, Engine: "b", Reasons: []Reason{{"Y", 9}}}}
	down := stub{err: errors.New("connection refused")}
	in := Input{Raw: []byte("Subject: x\r\n\r\nx")}

	r := classifyOK(t, Both{A: clean, B: spam}, in)
	if r.Verdict != Spam || r.Score != 9 || r.Bulk != 2 || r.Engine != "a+b" ||
		len(r.Reasons) != 2 || r.Reasons[0].Name != "Y" || r.Reasons[1].Name != "a:x" {
		t.Errorf("the more severe verdict must win with its score first: %+v", r)
	}
	// An admin's correction of the content wins over the other engine.
	corrected := stub{res: Result{Verdict: Clean, Corrected: true, Engine: "a", Reasons: []Reason{{"CORRECTED_NOT_SPAM (corrected by ann on 2026-12-03)", 0}}}}
	if r := classifyOK(t, Both{A: corrected, B: spam}, in); r.Verdict != Clean || !strings.HasPrefix(r.Reasons[0].Name, "CORRECTED_NOT_SPAM") {
		t.Errorf("a correction lost to the other engine's verdict: %+v", r)
	}
	if r := classifyOK(t, Both{A: spam, B: corrected}, in); r.Verdict != Clean {
		t.Errorf("a correction from the second engine lost: %+v", r)
	}
	var logs strings.Builder
	r = classifyOK(t, Both{A: clean, B: down, Logger: newTestLogger(&logs)}, in)
	if r.Verdict != Clean || !strings.HasPrefix(r.Reasons[len(r.Reasons)-1].Name, "ENGINE_FALLBACK: connection refused") || !strings.Contains(logs.String(), "refused") {
		t.Errorf("one engine down: %+v, log %q", r, logs.String())
	}
	if _, err := (Both{A: down, B: down}).Classify(context.Background(), in); err == nil {
		t.Error("both engines down gave no error")
	}
	if _, err := (Fallback{Primary: down, Secondary: down}).Classify(context.Background(), in); err == nil {
		t.Error("fallback with both down gave no error")
	}
	// A caller that gave up gets the error, not a second engine's work.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Fallback{Primary: down, Secondary: clean}).Classify(ctx, in); err == nil {
		t.Error("a cancelled caller got a fallback verdict")
	}
}
