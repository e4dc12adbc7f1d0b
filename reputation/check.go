package reputation

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// Text is the reply text of a 5.7.708 refusal, as in DESIGN.md.
const Text = "Access denied, traffic not accepted from this IP"

// Rule names the check in decisions and the trace.
const Rule = "ip-reputation"

// Check refuses, at MAIL FROM, a trial tenant sending from a low-reputation
// IP (550 5.7.708) unless an exception or the allow list covers it.
// Licensed tenants pass without an assessment: they paid, and their
// traffic is what builds an IP's reputation.
//
// Both Tracker and Trial are required (see NewCheck); a Check missing one
// accepts everything.
type Check struct {
	Tracker *Tracker
	// Trial reports whether a tenant has no purchased licences.
	Trial func(tenantID int64) bool
	// Now gives the time of an assessment; default time.Now.
	Now func() time.Time
	// Trusted are the operator's ranges (reputation.trusted_ranges) that
	// are never assessed.
	Trusted []netip.Prefix
}

// NewCheck returns a Check, refusing a missing Tracker or Trial.
func NewCheck(t *Tracker, trial func(tenantID int64) bool) (Check, error) {
	if t == nil || trial == nil {
		return Check{}, errors.New("reputation: NewCheck needs a Tracker and a Trial function")
	}
	return Check{Tracker: t, Trial: trial}, nil
}

// Name implements policy.Check.
func (Check) Name() string { return Rule }

// Mail implements policy.MailChecker.
func (c Check) Mail(ctx context.Context, env *policy.Envelope) policy.Decision {
	if c.Tracker == nil || c.Trial == nil || !env.Attributed() || !c.Trial(env.TenantID) {
		return policy.Accepted
	}
	ip := env.ClientIP.Unmap()
	for _, p := range c.Trusted {
		if p.Contains(ip) {
			return policy.Accepted
		}
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	a := c.Tracker.Assess(ctx, env.TenantID, env.ClientIP, now)
	if !a.Level.Low() {
		return policy.Accepted
	}
	return policy.Decision{
		Action: policy.Reject, Code: 550, Enhanced: [3]int{5, 7, 708},
		Text: Text, Rule: Rule, Figures: a.Figures(),
	}
}
