package classify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type failingCorrections struct{}

func (failingCorrections) Lookup(context.Context, string, []string) (Correction, bool, error) {
	return Correction{}, false, errors.New("store down")
}

// A "not spam" on a traced message changes the next verdict of similar
// content for that tenant, says why, and changes nothing for another
// tenant; a "spam" does the reverse.
func TestClassifyCorrections(t *testing.T) {
	corr := &MemoryCorrections{}
	m, err := EmbeddedModel()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m, Options{Corrections: corr})
	if err != nil {
		t.Fatal(err)
	}
	first := classifyOK(t, e, Input{Raw: spamMsg, Tenant: "acme"})
	if first.Verdict != Spam || first.Fingerprint == "" {
		t.Fatalf("sample spam: %+v", first)
	}
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	if err := corr.Mark("acme", first.Fingerprint, Correction{Spam: false, By: "ann", At: at}); err != nil {
		t.Fatal(err)
	}
	// The same template, another name in it.
	similar := []byte(strings.Replace(string(spamMsg), "Dear friend", "Dear Bob", 1))
	next := classifyOK(t, e, Input{Raw: similar, Tenant: "acme"})
	if next.Verdict != Clean || !next.Corrected || !strings.HasPrefix(next.Reasons[0].Name, "CORRECTED_NOT_SPAM (corrected by ann on 2026-11-30)") {
		t.Errorf("after a not-spam mark: %s %v", next.Verdict, next.Reasons)
	}
	if next.Score != classifyOK(t, e, Input{Raw: similar}).Score {
		t.Error("a correction changed the model's score; it should change only the verdict")
	}
	if other := classifyOK(t, e, Input{Raw: similar, Tenant: "globex"}); other.Verdict != Spam {
		t.Errorf("another tenant's verdict changed: %+v", other)
	}
	// A later "spam" mark wins.
	if err := corr.Mark("acme", first.Fingerprint, Correction{Spam: true, By: "op", At: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if r := classifyOK(t, e, Input{Raw: similar, Tenant: "acme"}); r.Verdict != Spam || !strings.HasPrefix(r.Reasons[0].Name, "CORRECTED_SPAM") {
		t.Errorf("after a spam mark: %s %v", r.Verdict, r.Reasons)
	}
	if err := corr.Mark("acme", "", Correction{}); err == nil {
		t.Error("a correction without a fingerprint was accepted")
	}
	// A failing store leaves the model's verdict.
	var logs strings.Builder
	fe, _ := New(m, Options{Corrections: failingCorrections{}, Logger: newTestLogger(&logs)})
	if r := classifyOK(t, fe, Input{Raw: spamMsg, Tenant: "acme"}); r.Verdict != Spam || !strings.Contains(logs.String(), "store down") {
		t.Errorf("with the corrections store down: %+v, logs %q", r, logs.String())
	}
}
