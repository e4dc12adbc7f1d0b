// Package classify gives each outbound message a content verdict (clean, bulk
// or spam), a score and the reasons behind it, so the policy checks can count
// a tenant's spam and an admin can read why a message was judged as it was.
//
// Two engines implement Classifier: Engine, built in, which parses the MIME
// structure itself and scores hashed tokens with a trained linear model plus a
// few named rules; and Rspamd, which asks an rspamd server over its HTTP
// protocol. Fallback and Both combine them so an rspamd outage never stops mail.
//
// The package is a leaf: it imports only the standard library, go-message,
// golang.org/x and the counters package (for campaign counts), so the SMTP
// path can call it without pulling in the rest of the gateway.
package classify

import (
	"context"

	"github.com/tollgate-mail/tollgate/policy"
)

// Verdict is the classifier's judgement of one message's content: clean or
// spam. Whether it is bulk is a property beside it (Result.IsBulk), not a
// third verdict: a newsletter with List-Id and one-click unsubscribe is bulk
// and clean unless its content is spam.
// It is policy.Class: one definition of the words for the whole gateway.
type Verdict = policy.Class

const (
	Clean = policy.ClassClean
	// Bulk is no longer a verdict any engine gives; it remains so callers
	// that compare against it still compile, and Kind returns it for
	// clean bulk mail.
	Bulk = policy.ClassBulk
	Spam = policy.ClassSpam
)

// Reason is one contribution to a score, named so an admin can read it:
// a token ("body:viagra", "subject:free", "url:example.com") or a rule
// ("rule:LINK_IP", "CAMPAIGN"). Weight is in the engine's score units;
// positive pushes towards spam.
type Reason struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
}

// Input is one message to classify.
type Input struct {
	// Raw is the message as received, header and body, possibly truncated
	// by the caller at its own size cap.
	Raw []byte
	// Recipients is the number of envelope recipients: many recipients is a
	// bulk signal, and campaign counts are in recipients.
	Recipients int
	// Tenant keys the campaign counts; empty disables campaign counting.
	Tenant string
}

// Result is a verdict with the figures behind it.
type Result struct {
	Verdict Verdict
	// Score is the engine's own score: for the built-in engine the log-odds
	// of spam (the sum of the reasons' weights and a bias), for rspamd its
	// points. Compare it only within one engine.
	Score float64
	// Bulk is the bulk level, 0 (personal mail) to 9 (certainly bulk).
	Bulk int
	// IsBulk is Bulk at or above the engine's bulk threshold: the message
	// is bulk mail (a newsletter, a list), whatever its verdict.
	IsBulk bool
	// Reasons are the largest contributions, largest first.
	Reasons []Reason
	// Fingerprint is the fuzzy content fingerprint used for campaign counts
	// ("" when the message has too little text to fingerprint).
	Fingerprint string
	// Tokens names the message's strongest words each way (at most
	// MaxTokens towards spam, then at most MaxTokens towards ham), as
	// "body:click": the words a correction of this message adjusts for
	// its tenant. The built-in engine's only.
	Tokens []string
	// Corrected: the verdict is an admin's correction of this content for
	// this tenant (the first reason says whose), not the model's. Both
	// lets it win over the other engine's verdict.
	Corrected bool
	// Engine names the engine that produced the verdict ("builtin",
	// "rspamd", or a combination).
	Engine string
}

// Classifier classifies a message. Implementations are safe for concurrent
// use. An error means no verdict could be reached (the caller decides
// whether to accept the message unclassified); a malformed message is not
// an error, it gets a verdict.
type Classifier interface {
	Classify(ctx context.Context, in Input) (Result, error)
}

// Kind is the verdict and the bulk property in one word, for counts that
// keep the three apart: "spam", "bulk" (clean bulk mail) or "clean".
func (r Result) Kind() Verdict {
	switch {
	case r.Verdict == Spam:
		return Spam
	case r.IsBulk || r.Verdict == Bulk:
		return Bulk
	}
	return Clean
}
