package protect

import (
	"context"

	"github.com/tollgate-mail/tollgate/policy"
)

// ForeignDomain is the 5.7.751 refusal: the sender domain is a verified
// accepted domain of another tenant. It sits next to 5.7.750 (a domain the
// tenant has not registered) and outside 5.7.700–749, which the hosted
// service keeps for tenant-wide bans: this one refuses one message, the
// tenant keeps sending as its own domains.
var ForeignDomain = policy.Decision{Action: policy.Reject, Code: 550, Enhanced: [3]int{5, 7, 751},
	Text: "Access denied, sender domain belongs to another tenant", Rule: "foreign-tenant-domain"}

// ForeignDomainCheck refuses mail whose envelope sender, or any address of
// a From, Sender, Resent-From or Resent-Sender field, is in a domain (or a subdomain of a domain)
// another tenant has verified. Once a domain is verified, only its tenant
// may send as it through Tollgate: on every path (users, app passwords, IP
// and certificate connectors), with no allowance, since receivers would
// take the mail as the owner's (SPF passes through the shared IPs, and a
// DKIM signature or DMARC alignment could too).
//
// The refusal names the sender and the matched domain, never the tenant
// that owns it. The lookup is one map probe per label in the directory's
// snapshot.
type ForeignDomainCheck struct{ e *Engine }

// Name implements policy.Check.
func (ForeignDomainCheck) Name() string { return "foreign-tenant-domain" }

// Mail implements policy.MailChecker: the envelope sender.
func (c ForeignDomainCheck) Mail(_ context.Context, env *policy.Envelope) policy.Decision {
	if !env.Attributed() || env.From == "" {
		return policy.Accepted // unattributed mail is refused at RCPT; <> names no domain
	}
	return c.judge(env, "envelope", env.From)
}

// Data implements policy.DataChecker: every address of every From, Sender,
// Resent-From and Resent-Sender field (policy.Message.Originators). A field
// that does not parse is judged by every domain it names.
func (c ForeignDomainCheck) Data(_ context.Context, env *policy.Envelope, msg *policy.Message) policy.Decision {
	if !env.Attributed() {
		return policy.Accepted
	}
	for _, f := range msg.Originators() {
		addrs, _ := headerAddresses(f.Value)
		for _, a := range addrs {
			if d := c.judge(env, f.Where, a); d.Action != policy.Accept {
				return d
			}
		}
	}
	return policy.Accepted
}

func (c ForeignDomainCheck) judge(env *policy.Envelope, where, addr string) policy.Decision {
	for _, dom := range senderDomains(addr) {
		owner, verified, ok := c.e.Tenants.DomainOwner(dom)
		if !ok || owner == env.TenantID {
			continue
		}
		d := ForeignDomain
		d.Figures = []policy.Figure{figs("tenant", env.Tenant), figs("sender", addr), figs("checked", where),
			figs("domain", dom), figs("verified_domain", verified), figs("owner", "another tenant")}
		return d
	}
	return policy.Accepted
}
