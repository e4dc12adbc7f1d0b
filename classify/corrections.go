package classify

import (
	"context"
	"errors"
	"fmt"
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
