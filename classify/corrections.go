package classify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Corrections are tenant admins' and operators' judgements of traced
// messages ("not spam", "spam"), which the engine consults before it gives
// a verdict, so a correction changes the next verdict of similar content
// for that tenant at once. They are keyed by the content fingerprint's
// bands (Result.Fingerprint), so the same template with other names and
// amounts still matches, and only for the tenant that made them.
//
// The engine only reads them; where they are stored (the directory's
// database, with the audit log beside it) and who may write them (API,
// CLI, console) is the caller's business.
type Corrections interface {
	// Lookup returns the correction for content with these fingerprint
	// bands sent by tenant, if any band was corrected.
	Lookup(ctx context.Context, tenant string, bands []string) (Correction, bool, error)
}

// Correction is one admin's judgement of a message's content.
type Correction struct {
	Spam bool      // true: "spam"; false: "not spam"
	By   string    // who marked it ("tenant admin ann@example.com"), for the reason
	At   time.Time // when
	// Message is the traced message that was marked (its trace id), so an
	// admin reading a later verdict can find the original; may be empty.
	Message string
}

// reason names the correction as the trace shows it.
func (c Correction) reason() string {
	label := "NOT_SPAM"
	if c.Spam {
		label = "SPAM"
	}
	if c.Message != "" {
		return fmt.Sprintf("CORRECTED_%s (corrected by %s on %s, message %s)", label, c.By, c.At.UTC().Format("2006-01-02"), c.Message)
	}
	return fmt.Sprintf("CORRECTED_%s (corrected by %s on %s)", label, c.By, c.At.UTC().Format("2006-01-02"))
}

// apply makes res follow the correction: the verdict is the admin's, the
// score and reasons stay the model's (so an admin can still read what the
// model thought) with the correction first.
func (c Correction) apply(res *Result) {
	res.Verdict, res.Corrected = Clean, true
	if c.Spam {
		res.Verdict = Spam
	}
	res.Reasons = append([]Reason{{Name: c.reason()}}, res.Reasons...)
}

// MemoryCorrections is Corrections in memory: for tests and a single node
// without a database. Safe for concurrent use.
type MemoryCorrections struct {
	mu     sync.RWMutex
	byBand map[string]Correction // tenant + "\x00" + band
	sums   map[string]AdjustmentSums
	adj    map[string]TokenAdjustments
}

var _ TokenAdjuster = (*MemoryCorrections)(nil)

// AdjustTokens moves a tenant's weights of these words (Result.Tokens of
// the marked message) towards spam or not spam, within the bounds of
// AdjustmentSums.
func (m *MemoryCorrections) AdjustTokens(tenant string, tokens []string, spam bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sums == nil {
		m.sums, m.adj = map[string]AdjustmentSums{}, map[string]TokenAdjustments{}
	}
	if m.sums[tenant] == nil {
		m.sums[tenant] = AdjustmentSums{}
	}
	m.sums[tenant].Add(tokens, spam, 1)
	m.adj[tenant] = m.sums[tenant].Snapshot()
}

// TokenAdjustments implements TokenAdjuster.
func (m *MemoryCorrections) TokenAdjustments(tenant string) TokenAdjustments {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.adj[tenant]
}

// Mark records a correction of the content whose fingerprint (as
// Result.Fingerprint shows it, bands joined by dashes) tenant sent. The
// latest mark of a band wins.
func (m *MemoryCorrections) Mark(tenant, fingerprint string, c Correction) error {
	if tenant == "" || fingerprint == "" {
		return errors.New("classify: a correction needs a tenant and a fingerprint (a message with too little text has none)")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byBand == nil {
		m.byBand = map[string]Correction{}
	}
	for _, b := range Bands(fingerprint) {
		m.byBand[tenant+"\x00"+b] = c
	}
	return nil
}

// Lookup implements Corrections: the most recent correction among the
// bands.
func (m *MemoryCorrections) Lookup(_ context.Context, tenant string, bands []string) (Correction, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var best Correction
	found := false
	for _, b := range bands {
		if c, ok := m.byBand[tenant+"\x00"+b]; ok && (!found || c.At.After(best.At)) {
			best, found = c, true
		}
	}
	return best, found, nil
}

// Bands splits a fingerprint as Result.Fingerprint shows it into the bands
// Corrections.Lookup is asked with.
func Bands(fingerprint string) []string {
	if fingerprint == "" {
		return nil
	}
	return strings.Split(fingerprint, "-")
}

// Fingerprint is the content fingerprint of raw as Result.Fingerprint
// gives it ("" for too little text), for verdicts of another engine
// (rspamd gives none): corrections key on it whatever engine judged.
func (e *Engine) Fingerprint(raw []byte) string {
	s := e.pool.Get().(*scorer)
	defer e.pool.Put(s)
	s.reset()
	s.doc.parse(raw, e.opts.Caps)
	s.scratch = s.doc.extract(s, s.scratch)
	return joinBands(s.doc.fp.bands())
}

// WithCorrections gives another engine's verdicts (rspamd's) a
// fingerprint and the tenant's corrections: the built-in engine
// fingerprints the message (rspamd has no such thing) and a mark on that
// content sets the verdict, as it does for the built-in engine's own.
// Token adjustments do not apply: the other engine's score is not in
// log-odds.
type WithCorrections struct {
	Inner       Classifier
	Fingerprint *Engine
	Corrections Corrections
	Logger      *slog.Logger
}

func (w WithCorrections) Classify(ctx context.Context, in Input) (Result, error) {
	r, err := w.Inner.Classify(ctx, in)
	if err != nil || r.Corrected {
		return r, err
	}
	if r.Fingerprint == "" && w.Fingerprint != nil {
		r.Fingerprint = w.Fingerprint.Fingerprint(in.Raw)
	}
	if r.Fingerprint == "" || w.Corrections == nil || in.Tenant == "" {
		return r, nil
	}
	c, ok, err := w.Corrections.Lookup(ctx, in.Tenant, Bands(r.Fingerprint))
	switch {
	case err != nil:
		if w.Fingerprint == nil || w.Fingerprint.warnEvery(time.Minute) {
			logger(w.Logger).Warn("classify: corrections lookup failed (logged at most once a minute)", "tenant", in.Tenant, "err", err)
		}
	case ok:
		c.apply(&r)
	}
	return r, nil
}
