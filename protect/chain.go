package protect

import (
	"errors"
	"net/netip"

	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/nexthop"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/reputation"
)

// ChainOptions are the parts of the policy chain beyond the Engine's own
// checks.
type ChainOptions struct {
	// InternalNextHops are the internal ranges an address literal in RCPT
	// TO may name (delivery.allowed_internal_next_hops); every other
	// internal or reserved literal is refused with 5.1.2.
	InternalNextHops []netip.Prefix
	// Reputation assesses source addresses for trial tenants (5.7.708);
	// nil leaves the check out.
	Reputation *reputation.Tracker
	// TrustedRanges are never assessed (reputation.trusted_ranges).
	TrustedRanges []netip.Prefix
	// Probation holds connectors on probation to ProbationQuota messages
	// a day (4.7.711); nil leaves the check out.
	Probation      policy.ProbationSource
	ProbationQuota int64
	// Suppression refuses recipients on the tenant's or the operators'
	// suppression list (5.1.92); it runs last, after every check of the
	// sender. Nil leaves it out.
	Suppression policy.Check
}

// Chain builds the whole policy chain, in the one order the front ends ask
// it:
//
//  1. attribution (5.7.57, 5.7.64): never an open relay;
//  2. the tenant (5.7.705, 4.7.500): a blocked tenant learns nothing more;
//  3. internal destinations (5.1.2);
//  4. IP reputation for trial tenants (5.7.708), skipping trusted ranges;
//  5. connector probation (4.7.711);
//  6. restrictions (5.1.8, 5.7.711);
//  7. sender domains of other tenants (5.7.751) and the sender binding
//     of logins (5.7.60);
//  8. unregistered domains (5.7.750), after those two, so a refused
//     message does not use up the allowance;
//  9. the sending limits (4.7.500, 5.1.90, 5.7.233, 4.5.3);
//  10. the content verdict (5.7.705 on the threshold, the high-risk pool);
//  11. the suppression list (5.1.92), where given.
func (e *Engine) Chain(o ChainOptions) (policy.Chain, error) {
	if e.Tenants == nil || e.Counters == nil {
		return policy.Chain{}, errors.New("protect: the engine needs Tenants and Counters to build the chain")
	}
	checks := []policy.Check{
		policy.AttributionCheck{},
		TenantCheck{e},
		policy.InternalDestinationCheck{Guard: nexthop.Guard{Allowed: o.InternalNextHops}},
	}
	if o.Reputation != nil {
		rep, err := reputation.NewCheck(o.Reputation, e.isTrial)
		if err != nil {
			return policy.Chain{}, err
		}
		rep.Now, rep.Trusted = e.Now, o.TrustedRanges
		checks = append(checks, rep)
	}
	if o.Probation != nil {
		checks = append(checks, policy.ProbationCheck{Quota: o.ProbationQuota, Connectors: o.Probation})
	}
	checks = append(checks, RestrictionCheck{e}, ForeignDomainCheck{e}, SenderBindingCheck{e},
		UnregisteredCheck{e}, LimitsCheck{e}, VerdictCheck{e})
	if o.Suppression != nil {
		checks = append(checks, o.Suppression)
	}
	return policy.NewChain(checks...)
}

// isTrial reports whether a tenant has no purchased licences now (the
// tenants whose source addresses reputation judges).
func (e *Engine) isTrial(tenantID int64) bool {
	t, ok := e.Tenants.SnapshotTenant(tenantID)
	return ok && t.LicenseAt(e.now()) == directory.Trial
}
