package protect

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// BounceDecision says what to do with a DSN that is due for a tenant's
// message (see Engine.Bounce).
type BounceDecision struct {
	// Drop: send no DSN at all.
	Drop bool
	// HeadersOnly: return only the original's header block
	// (text/rfc822-headers, RFC 3462), whatever RET= the client asked for.
	HeadersOnly bool
	// Rule and Reason explain a drop or a trimmed return, for the trace
	// and the log.
	Rule, Reason string
	Figures      []policy.Figure
}

// Bounce decides about a DSN to sender (the original envelope sender) for
// a message of the tenant. A DSN goes to whatever address the client put in
// MAIL FROM, so a tenant, or whoever took over its account, that sends to
// bad recipients under a forged sender makes Tollgate mail a third party:
// backscatter. Three rules bound it:
//
//   - a sender whose domain is not one of the tenant's verified domains
//     gets only the original's header, never its content;
//   - no DSN at all goes to such a sender when the tenant has no allowance
//     for unregistered domains (unregistered_per_day 0): its mail from that
//     domain was only accepted because a certificate connector is exempt,
//     or the allowance was withdrawn since;
//   - the tenant's DSNs are counted (dsn_per_day, rolling 24 h, in the
//     shared counters) and dropped beyond the cap.
//
// An error means the counter could not be read; the caller keeps the
// message and tries again rather than send uncounted or lose the DSN.
func (e *Engine) Bounce(ctx context.Context, tenantID int64, tenant, sender string) (BounceDecision, error) {
	if tenantID == 0 {
		return BounceDecision{}, nil // the gateway's own mail (alerts): not a tenant's
	}
	s := e.Settings(tenantID)
	domain := domainOf(sender)
	verified := domain != "" && e.Tenants.IsVerifiedDomain(tenantID, domain)
	if !verified && s.UnregisteredPerDay == 0 {
		return BounceDecision{Drop: true, Rule: "dsn-unverified-sender",
			Reason: fmt.Sprintf("no DSN sent: the sender's domain %s is not a verified domain of the tenant, "+
				"and the tenant has no allowance for unregistered domains (unregistered_per_day 0)", domain),
			Figures: []policy.Figure{figs("tenant", tenant), figs("sender", sender), fig("unregistered_per_day", 0)}}, nil
	}
	limit := s.DSNPerDay
	n, ok, err := e.Counters.AddIfBelow(ctx, tenantKey(tenantID, "dsn"), 1, limit, 24*time.Hour, e.now())
	if err != nil {
		return BounceDecision{}, fmt.Errorf("protect: count DSNs of tenant %d: %w", tenantID, err)
	}
	if !ok {
		d := BounceDecision{Drop: true, Rule: "dsn-limit",
			Reason: fmt.Sprintf("no DSN sent: the tenant's mail caused %d DSNs in 24 h, its limit (dsn_per_day)", n),
			Figures: []policy.Figure{figs("tenant", tenant), figs("sender", sender), fig("dsns_24h", n),
				fig("dsn_per_day", limit), figs("window", "24h")}}
		e.alert(Alert{Kind: AlertLimitExceeded, TenantID: tenantID, Tenant: tenant, Subject: "DSN limit",
			Text: "The tenant's mail caused more bounces (delivery status notifications) than its daily limit; " +
				"further bounces are not sent. Many bounces mean a compromised account or a bad recipient list.",
			Figures: d.Figures})
		return d, nil
	}
	if !verified {
		return BounceDecision{HeadersOnly: true, Rule: "dsn-headers-only",
			Reason:  "the sender's domain is not a verified domain of the tenant: only the original's header is returned",
			Figures: []policy.Figure{figs("sender", sender)}}, nil
	}
	return BounceDecision{}, nil
}
