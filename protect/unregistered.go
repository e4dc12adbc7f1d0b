package protect

import (
	"context"
	"net/mail"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// UnregisteredDomain is the 5.7.750 refusal.
var UnregisteredDomain = policy.Decision{Action: policy.Reject, Code: 550, Enhanced: [3]int{5, 7, 750},
	Text: "Client blocked from sending from unregistered domain", Rule: "unregistered-domain"}

// UnregisteredCheck counts mail whose envelope sender or header From is not
// one of the tenant's verified accepted domains against the tenant's daily
// allowance (rolling 24 h), and refuses beyond it. A message counts once
// even when both senders are foreign.
//
// Mail through a certificate connector is exempt: its certificate names a
// domain inside one of the tenant's verified domains (the directory refuses
// any other), which is the documented way for a tenant's server to relay
// for domains it does not own.
type UnregisteredCheck struct{ e *Engine }

// Name implements policy.Check.
func (UnregisteredCheck) Name() string { return "unregistered-domain" }

// Mail implements policy.MailChecker: the envelope sender.
func (c UnregisteredCheck) Mail(ctx context.Context, env *policy.Envelope) policy.Decision {
	if env.From == "" {
		return policy.Accepted // a bounce from the tenant's own server: no sender domain to judge
	}
	return c.check(ctx, env, "envelope", env.From)
}

// Data implements policy.DataChecker: the header From.
func (c UnregisteredCheck) Data(ctx context.Context, env *policy.Envelope, msg *policy.Message) policy.Decision {
	if msg.HeaderFrom == "" {
		return policy.Accepted
	}
	addrs, err := mail.ParseAddressList(msg.HeaderFrom)
	if err != nil || len(addrs) == 0 {
		// An unparsable From is judged as foreign: it is not one of the
		// tenant's domains.
		return c.check(ctx, env, "header", "unparsable@invalid")
	}
	for _, a := range addrs {
		if d := c.check(ctx, env, "header", a.Address); d.Action != policy.Accept {
			return d
		}
		if counted(env) {
			break
		}
	}
	return policy.Accepted
}

func (c UnregisteredCheck) check(ctx context.Context, env *policy.Envelope, where, addr string) policy.Decision {
	if !env.Attributed() || counted(env) || env.Method == policy.MethodConnectorCert {
		return policy.Accepted
	}
	domain := domainOf(addr)
	if domain != "" && c.e.Tenants.IsVerifiedDomain(env.TenantID, domain) {
		return policy.Accepted
	}
	env.SetTxnValue(unregisteredCounted{}, true)
	limit := c.e.Settings(env.TenantID).UnregisteredPerDay
	n, ok, err := c.e.Counters.AddIfBelow(ctx, tenantKey(env.TenantID, "unregistered"), 1, limit, 24*time.Hour, c.e.now())
	if err != nil {
		return c.e.counterFailed("unregistered-domain", err)
	}
	if ok {
		return policy.Accepted
	}
	d := UnregisteredDomain
	d.Figures = []policy.Figure{figs("tenant", env.Tenant), figs("sender", addr), figs("checked", where),
		fig("messages_24h", n), fig("allowance", limit), figs("window", "24h")}
	c.e.alert(Alert{Kind: AlertLimitExceeded, TenantID: env.TenantID, Tenant: env.Tenant, Subject: "unregistered-domain allowance",
		Text:    "The tenant sent more mail from domains that are not its verified accepted domains than its daily allowance.",
		Figures: d.Figures, Code: d.EnhancedString()})
	return d
}

// unregisteredCounted keys the transaction's note that it was counted
// against the tenant's unregistered-domain allowance, so a message whose
// envelope and header senders are both foreign counts once.
type unregisteredCounted struct{}

func counted(env *policy.Envelope) bool { return env.TxnValue(unregisteredCounted{}) != nil }
