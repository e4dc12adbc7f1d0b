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

// A tenant's marks move the weights of the marked message's words for that
// tenant only: different content with those words scores lower (not spam)
// or higher (spam), by at most the bounds, shown as one TENANT_WORDS
// reason, and never through the rules.
func TestClassifyTokenAdjustments(t *testing.T) {
	m, err := EmbeddedModel()
	if err != nil {
		t.Fatal(err)
	}
	corr := &MemoryCorrections{}
	e, err := New(m, Options{Corrections: corr})
	if err != nil {
		t.Fatal(err)
	}
	first := classifyOK(t, e, Input{Raw: spamMsg, Tenant: "acme"})
	if len(first.Tokens) == 0 || len(first.Tokens) > 2*MaxTokens {
		t.Fatalf("tokens of the sample spam: %v", first.Tokens)
	}
	for _, tok := range first.Tokens {
		if _, ok := TokenKey(tok); !ok {
			t.Errorf("token %q is not a word", tok)
		}
	}
	base := classifyOK(t, e, Input{Raw: spamMsg, Tenant: "globex"})
	// Many not-spam marks naming the same words: the net move is bounded.
	for range 10 {
		corr.AdjustTokens("acme", first.Tokens, false)
	}
	r := classifyOK(t, e, Input{Raw: spamMsg, Tenant: "acme"})
	if d := r.Score - base.Score; d < -AdjustHamMax-1e-9 || d > -0.5 {
		t.Errorf("after ten not-spam marks the score moved by %.2f, want between -%.1f and -0.5", d, AdjustHamMax)
	}
	found := false
	for _, re := range r.Reasons {
		found = found || strings.HasPrefix(re.Name, "TENANT_WORDS (") && re.Weight < 0
	}
	if !found {
		t.Errorf("no TENANT_WORDS reason: %v", r.Reasons)
	}
	if g := classifyOK(t, e, Input{Raw: spamMsg, Tenant: "globex"}); g.Score != base.Score {
		t.Errorf("acme's marks moved globex's score: %.3f → %.3f", base.Score, g.Score)
	}
	// Spam marks move the other way, by at most AdjustSpamMax.
	ham := classifyOK(t, e, Input{Raw: hamMsg, Tenant: "initech"})
	for range 10 {
		corr.AdjustTokens("initech", ham.Tokens, true)
	}
	if d := classifyOK(t, e, Input{Raw: hamMsg, Tenant: "initech"}).Score - ham.Score; d <= 0.5 || d > AdjustSpamMax+1e-9 {
		t.Errorf("after ten spam marks the ham's score moved by %.2f, want above 0.5 and at most %.1f", d, AdjustSpamMax)
	}
}

// A message the fixed rules alone make spam (an executable attachment)
// stays spam whatever a tenant's marks do to its words.
func TestClassifyTokenAdjustmentsKeepRules(t *testing.T) {
	m, err := EmbeddedModel()
	if err != nil {
		t.Fatal(err)
	}
	corr := &MemoryCorrections{}
	e, err := New(m, Options{Corrections: corr})
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta.Bias+weightExecutable < e.Threshold() {
		t.Fatalf("the model's bias %.2f: an executable attachment alone is not spam, the test proves nothing", m.Meta.Bias)
	}
	exe := []byte("From: a@acme.test\r\nSubject: scan\r\nDate: Mon, 02 Nov 2026 12:28:48 +0000\r\nMessage-ID: <x@acme.test>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nyour order\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"scan.pdf.exe\"\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b--\r\n")
	x := classifyOK(t, e, Input{Raw: exe, Tenant: "acme"})
	if x.Verdict != Spam || len(x.Tokens) == 0 {
		t.Fatalf("the executable sample: %s %.2f %v %v", x.Verdict, x.Score, x.Reasons, x.Tokens)
	}
	for range 10 {
		corr.AdjustTokens("acme", x.Tokens, false)
	}
	r := classifyOK(t, e, Input{Raw: exe, Tenant: "acme"})
	if r.Verdict != Spam {
		t.Errorf("an executable attachment after not-spam marks on its words: %s %.2f %v", r.Verdict, r.Score, r.Reasons)
	}
	if x.Score-AdjustHamMax >= e.Threshold() {
		t.Errorf("the sample scores %.2f: the full adjustment would leave it spam anyway, the test proves nothing", x.Score)
	}
	t.Logf("executable sample: %.2f, after the marks %.2f (unclamped it would be %.2f)", x.Score, r.Score, x.Score-AdjustHamMax)
}

// rspamdLike answers as rspamd does: a verdict without a fingerprint.
type rspamdLike struct{ verdict Verdict }

func (r rspamdLike) Classify(context.Context, Input) (Result, error) {
	return Result{Verdict: r.verdict, Score: 9, Engine: "rspamd"}, nil
}

// Another engine's verdicts get the built-in fingerprint, so they can be
// marked, and follow the tenant's marks.
func TestClassifyWithCorrections(t *testing.T) {
	m, err := EmbeddedModel()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	corr := &MemoryCorrections{}
	w := WithCorrections{Inner: rspamdLike{Spam}, Fingerprint: e, Corrections: corr}
	r, err := w.Classify(context.Background(), Input{Raw: spamMsg, Tenant: "acme"})
	if err != nil || r.Fingerprint == "" || r.Fingerprint != classifyOK(t, e, Input{Raw: spamMsg}).Fingerprint {
		t.Fatalf("rspamd's verdict's fingerprint: %q %v", r.Fingerprint, err)
	}
	if err := corr.Mark("acme", r.Fingerprint, Correction{By: "ann", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if r, _ := w.Classify(context.Background(), Input{Raw: spamMsg, Tenant: "acme"}); r.Verdict != Clean || !r.Corrected || r.Engine != "rspamd" {
		t.Errorf("rspamd's verdict after acme's mark: %+v", r)
	}
	if r, _ := w.Classify(context.Background(), Input{Raw: spamMsg, Tenant: "globex"}); r.Verdict != Spam || r.Corrected {
		t.Errorf("globex's verdict after acme's mark: %+v", r)
	}
	if r, _ := w.Classify(context.Background(), Input{Raw: []byte("Subject: hi\r\n\r\nthanks!\r\n"), Tenant: "acme"}); r.Fingerprint != "" {
		t.Errorf("a two-word message got a fingerprint: %q", r.Fingerprint)
	}
}
