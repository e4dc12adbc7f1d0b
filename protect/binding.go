package protect

import (
	"context"

	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/policy"
)

// SendAsDenied is the hosted service's SendAs refusal, 5.7.60: the login
// may not send as this address.
var SendAsDenied = policy.Decision{Action: policy.Reject, Code: 550, Enhanced: [3]int{5, 7, 60},
	Text: "Client does not have permissions to send as this sender", Rule: "sender-binding"}

// SenderBindingCheck holds a tenant's SMTP AUTH users to their own address
// when the tenant's sender binding is "login": the envelope sender and
// every address of the From, Sender, Resent-From and Resent-Sender fields
// must be the login or one of
// the aliases an admin gave the user. Connectors are not bound (a server
// relays for many addresses); with the binding off, this check says
// nothing. The null sender (MAIL FROM:<>, e.g. a read receipt) names no
// address; its From field is still judged.
type SenderBindingCheck struct{ e *Engine }

// Name implements policy.Check.
func (SenderBindingCheck) Name() string { return "sender-binding" }

// Mail implements policy.MailChecker.
func (c SenderBindingCheck) Mail(_ context.Context, env *policy.Envelope) policy.Decision {
	if env.From == "" || !c.bound(env) {
		return policy.Accepted
	}
	return c.judge(env, "envelope", env.From)
}

// Data implements policy.DataChecker: the From, Sender, Resent-From and
// Resent-Sender fields (policy.Message.Originators). One that does not parse
// cannot be shown to be the user's, so it is refused.
func (c SenderBindingCheck) Data(_ context.Context, env *policy.Envelope, msg *policy.Message) policy.Decision {
	if !c.bound(env) {
		return policy.Accepted
	}
	for _, f := range msg.Originators() {
		addrs, ok := headerAddresses(f.Value)
		if !ok {
			return c.refuse(env, f.Where, "unparsable")
		}
		for _, a := range addrs {
			if d := c.judge(env, f.Where, a); d.Action != policy.Accept {
				return d
			}
		}
	}
	return policy.Accepted
}

// bound reports whether the envelope is a logged-in user's of a tenant
// that binds senders.
func (c SenderBindingCheck) bound(env *policy.Envelope) bool {
	if env.User == "" || env.UserID == 0 {
		return false
	}
	t, ok := c.e.Tenants.SnapshotTenant(env.TenantID)
	return ok && t.SenderBinding == directory.BindingLogin
}

func (c SenderBindingCheck) judge(env *policy.Envelope, where, addr string) policy.Decision {
	a := canonAddress(addr)
	if a == env.User || c.e.Tenants.IsUserAlias(env.UserID, a) {
		return policy.Accepted
	}
	return c.refuse(env, where, addr)
}

func (c SenderBindingCheck) refuse(env *policy.Envelope, where, addr string) policy.Decision {
	d := SendAsDenied
	d.Figures = []policy.Figure{figs("tenant", env.Tenant), figs("user", env.User), figs("sender", addr),
		figs("checked", where), figs("binding", string(directory.BindingLogin))}
	return d
}
