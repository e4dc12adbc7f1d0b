package protect

import "github.com/tollgate-mail/tollgate/policy"

// Held is the answer to the hold question for a queued message that may no
// longer go out: the refusal the same checks give at SMTP time, and the
// two explanations of the DSN the sender gets instead of delivery.
type Held struct {
	policy.Decision
	// Sender and Admin are the DSN's explanations for the sender and for
	// the tenant's email admin.
	Sender, Admin string
}

// heldSender is the DSN's explanation for the sender, whatever stopped it.
const heldSender = "Your organisation's outbound mail was stopped after this message was accepted, so it was not delivered. " +
	"Only your email admin can fix this: send them this report."

// Hold answers, before each delivery attempt, whether a queued message may
// still go out. It judges the attribution the message was accepted under
// (kept with it in the spool) and its envelope sender with the standing
// refusals of the SMTP-time checks: the tenant's expired subscription or
// block (5.7.705, TenantCheck), and a restriction of its connector
// (5.7.711), app password or sender (5.1.8, RestrictionCheck). So a block
// or a restriction made while a message waits stops it as it would have
// refused it at MAIL FROM. The checks that count (limits, allowances,
// probation) are not judged again: the message was counted when accepted.
//
// Messages spooled before the ids were kept have the tenant and the sender
// only, so for them a connector or app-password restriction is not seen.
func (e *Engine) Hold(a policy.Attribution, from string) (Held, bool) {
	if !a.Attributed() {
		return Held{}, false
	}
	if d, b := e.tenantStanding(a); d.Action != policy.Accept {
		d.Text += " (stopped while the message was queued)"
		if b != nil && b.Rule != "" {
			// The block's own decision: the rule and figures that
			// crossed the threshold, as its evidence shows them.
			d.Rule, d.Figures = b.Rule, b.Figures
		}
		admin := "The tenant was blocked while this message waited in the queue: its outbound spam crossed the tenant threshold, or its delivery feedback the pause rate. " +
			"Find the compromised account or connector (the block's evidence lists the top senders and recent connectors), fix it, " +
			"and submit an unblock request (tollgate admin unblock-request, or the console)."
		if d.Rule == "tenant-expired" {
			admin = "The tenant's subscription expired while the message was queued. Renew it; mail flows again at once."
		}
		return Held{Decision: d, Sender: heldSender, Admin: admin}, true
	}
	env := policy.Envelope{Attribution: a, From: from}
	if d := e.restricted(a, env.Sender()); d.Action != policy.Accept {
		d.Text += " (restricted while the message was queued)"
		admin := "The sender was restricted while this message waited in the queue" + because(d) + ". " +
			"Secure the account, then release the restriction (tollgate admin release, or the console)."
		if d.Enhanced == ConnectorRestricted.Enhanced {
			admin = "The connector this message came through was restricted while it waited in the queue" + because(d) + ". " +
				"Check the server behind the connector, then release the restriction (tollgate admin release, or the console)."
		}
		return Held{Decision: d, Sender: heldSender, Admin: admin}, true
	}
	return Held{}, false
}

// because is " (reason)" from a restriction refusal's figures, or "".
func because(d policy.Decision) string {
	for _, f := range d.Figures {
		if f.Name == "reason" && f.Value != "" {
			return " (" + f.Value + ")"
		}
	}
	return ""
}
