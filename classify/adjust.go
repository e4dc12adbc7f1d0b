package classify

import (
	"fmt"
	"strings"
)

// Per-tenant token adjustments: besides matching the marked content by
// fingerprint, a tenant's corrections move the weights of the marked
// messages' strongest words for that tenant, so different content with the
// same words follows the admin too. They are bounded three ways, so an
// admin can tune the tenant's verdicts but not switch the filter off:
//
//   - a mark moves each of its words by AdjustStep towards its label, and
//     one word's adjustment for a tenant is at most ±AdjustWordMax however
//     many marks name it;
//   - only words move: learned and fixed rules (an executable attachment, a
//     link showing another host, obfuscation, forged headers) and the
//     bias are never adjusted;
//   - a message's net adjustment is at most AdjustHamMax towards ham and
//     AdjustSpamMax towards spam, shown as one TENANT_WORDS reason.
//
// The adjustments are keyed by tenant, so one tenant's marks never change
// another tenant's verdicts.
const (
	AdjustStep    = 0.5
	AdjustWordMax = 1.0
	AdjustHamMax  = 1.5
	AdjustSpamMax = 3.0
	// MaxTokens is how many of a message's words Result.Tokens names each
	// way (towards spam, towards ham): the words a mark adjusts.
	MaxTokens = 8
)

// TokenAdjustments are one tenant's word adjustments in log-odds, keyed by
// TokenKey. Read-only once handed to the engine.
type TokenAdjustments map[uint32]float32

// TokenAdjuster is implemented by Corrections that also adjust words: the
// engine asks it once per message for the tenant's adjustments (nil when
// the tenant has none), so the SMTP path does one map read per word only
// for tenants with marks.
type TokenAdjuster interface {
	TokenAdjustments(tenant string) TokenAdjustments
}

// TokenKey is the key of a word as Result.Tokens names it ("body:click",
// "subject:free", "url:example.com"); false for a name that is not a word
// (a rule, an empty token, an unknown prefix).
func TokenKey(name string) (uint32, bool) {
	for kind, prefix := range kindNames {
		if kind == kindRule {
			continue
		}
		if tok, ok := strings.CutPrefix(name, prefix); ok && tok != "" {
			return hashFeature(kind, []byte(tok)), true
		}
	}
	return 0, false
}

// ValidTokens checks a list of token names as a mark stores them.
func ValidTokens(names []string) error {
	if len(names) > 2*MaxTokens {
		return fmt.Errorf("%d tokens: at most %d", len(names), 2*MaxTokens)
	}
	for _, n := range names {
		if _, ok := TokenKey(n); !ok || len(n) > 200 {
			return fmt.Errorf("token %q is not a word feature (body:, subject:, url:, from:, fromname:, mailer:, attach:)", n)
		}
	}
	return nil
}

// adjustReason names a message's net adjustment as the trace shows it.
func adjustReason(words int) string {
	return fmt.Sprintf("TENANT_WORDS (%d words adjusted by this tenant's corrections)", words)
}

// AdjustmentSums are a tenant's marks' word moves before the per-word
// bound: Add a mark's tokens when it is made, take them off again when it
// is withdrawn, and hand the engine the Snapshot. Not safe for concurrent
// use; the caller locks.
type AdjustmentSums map[uint32]float64

// Add moves each word of a mark by AdjustStep towards its label (spam:
// up, not spam: down), times sign (+1 for a mark made, -1 for one
// withdrawn). Names that are not words are skipped.
func (a AdjustmentSums) Add(tokens []string, spam bool, sign float64) {
	step := -AdjustStep
	if spam {
		step = AdjustStep
	}
	for _, n := range tokens {
		k, ok := TokenKey(n)
		if !ok {
			continue
		}
		v := a[k] + sign*step
		if v > -1e-9 && v < 1e-9 {
			delete(a, k)
			continue
		}
		a[k] = v
	}
}

// Snapshot is the bounded adjustments the engine reads (nil when there
// are none): each word's sum within ±AdjustWordMax.
func (a AdjustmentSums) Snapshot() TokenAdjustments {
	if len(a) == 0 {
		return nil
	}
	out := make(TokenAdjustments, len(a))
	for k, v := range a {
		out[k] = float32(min(max(v, -AdjustWordMax), AdjustWordMax))
	}
	return out
}
