package protect

import (
	"context"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/policy"
)

// Sending-limit refusals, with the hosted service's codes.
var (
	// MessageRateExceeded throttles a sender over its messages a minute.
	MessageRateExceeded = policy.Decision{Action: policy.Defer, Code: 451, Enhanced: [3]int{4, 7, 500},
		Text: "Sending rate exceeded: too many messages a minute from this sender; try again later", Rule: "sender-message-rate"}
	// DailyRecipientsExceeded refuses a sender over its recipients per
	// rolling 24 hours.
	DailyRecipientsExceeded = policy.Decision{Action: policy.Reject, Code: 550, Enhanced: [3]int{5, 1, 90},
		Text: "Sender has reached its daily limit for message recipients", Rule: "sender-daily-recipients"}
	// TenantExternalExceeded refuses a tenant over its external recipient
	// rate limit.
	TenantExternalExceeded = policy.Decision{Action: policy.Reject, Code: 550, Enhanced: [3]int{5, 7, 233},
		Text: "Tenant has exceeded its external recipient rate limit", Rule: "tenant-external-recipients"}
	// TooManyRecipients refuses recipients beyond the per-message limit;
	// a 4xx, so the client sends them in another transaction.
	TooManyRecipients = policy.Decision{Action: policy.Defer, Code: 452, Enhanced: [3]int{4, 5, 3},
		Text: "Too many recipients for one message", Rule: "recipients-per-message"}
)

// LimitsCheck enforces the sending limits and the per-user outbound spam
// policy's recipient limits.
type LimitsCheck struct{ e *Engine }

// Name implements policy.Check.
func (LimitsCheck) Name() string { return "sending-limits" }

// Mail implements policy.Check: messages a minute per sender.
func (c LimitsCheck) Mail(ctx context.Context, env *policy.Envelope) policy.Decision {
	sender := env.Sender()
	if !env.Attributed() || sender == "" {
		return policy.Accepted
	}
	limit := c.e.Settings(env.TenantID).UserMessagesPerMinute
	n, ok, err := c.e.Counters.AddIfBelow(ctx, senderKey(env.TenantID, sender, "msgs"), 1, limit, time.Minute, c.e.now())
	if err != nil {
		return c.e.counterFailed(MessageRateExceeded.Rule, err)
	}
	if ok {
		return policy.Accepted
	}
	d := MessageRateExceeded
	d.Figures = []policy.Figure{figs("sender", sender), fig("messages_1m", n), fig("limit", limit), figs("window", "1m")}
	return d
}

// Rcpt implements policy.Check: recipients per message, the per-user
// policy (external and internal recipients an hour, recipients a day),
// recipients a day per sender (5.1.90) and the tenant's external rate
// (5.7.233), in that order.
func (c LimitsCheck) Rcpt(ctx context.Context, env *policy.Envelope, rcpt string) policy.Decision {
	if !env.Attributed() {
		return policy.Accepted
	}
	set := c.e.Settings(env.TenantID)
	if int64(len(env.Rcpts)) >= set.RecipientsPerMessage {
		d := TooManyRecipients
		d.Figures = []policy.Figure{fig("recipients", int64(len(env.Rcpts))+1), fig("limit", set.RecipientsPerMessage)}
		return d
	}
	now := c.e.now()
	external := !c.e.Tenants.IsVerifiedDomain(env.TenantID, domainOf(rcpt))
	sender := env.Sender()
	if sender != "" {
		if d := c.userPolicy(ctx, env, sender, external, set, now); d.Action != policy.Accept {
			return d
		}
		n, ok, err := c.e.Counters.AddIfBelow(ctx, senderKey(env.TenantID, sender, "rcpts24h"), 1, set.UserRecipientsPerDay, 24*time.Hour, now)
		if err != nil {
			return c.e.counterFailed(DailyRecipientsExceeded.Rule, err)
		}
		if !ok {
			d := DailyRecipientsExceeded
			d.Figures = []policy.Figure{figs("sender", sender), fig("recipients_24h", n), fig("limit", set.UserRecipientsPerDay), figs("window", "24h")}
			c.e.alert(Alert{Kind: AlertLimitExceeded, TenantID: env.TenantID, Tenant: env.Tenant, Subject: sender,
				Text: "A sender reached its daily recipient limit.", Figures: d.Figures, Code: d.EnhancedString()})
			return d
		}
	}
	if external {
		seats := 0
		if t, ok := c.e.Tenants.SnapshotTenant(env.TenantID); ok {
			seats = t.Seats
		}
		limit := set.ExternalPerDay(seats)
		n, ok, err := c.e.Counters.AddIfBelow(ctx, tenantKey(env.TenantID, "external24h"), 1, limit, 24*time.Hour, now)
		if err != nil {
			return c.e.counterFailed(TenantExternalExceeded.Rule, err)
		}
		if !ok {
			d := TenantExternalExceeded
			d.Figures = []policy.Figure{figs("tenant", env.Tenant), fig("external_recipients_24h", n), fig("limit", limit),
				fig("licences", int64(seats)), figs("window", "24h")}
			c.e.alert(Alert{Kind: AlertLimitExceeded, TenantID: env.TenantID, Tenant: env.Tenant, Subject: "tenant external recipient rate",
				Text: "The tenant reached its external recipient rate limit.", Figures: d.Figures, Code: d.EnhancedString()})
			return d
		}
	}
	return policy.Accepted
}

// userPolicy applies the per-user outbound spam policy: crossing one of its
// limits restricts the sender (or only alerts, per the tenant's action).
func (c LimitsCheck) userPolicy(ctx context.Context, env *policy.Envelope, sender string, external bool, set policy.Settings, now time.Time) policy.Decision {
	type lim struct {
		key, name string
		limit     int64
		window    time.Duration
	}
	var lims []lim
	if external && set.UserExternalPerHour > 0 {
		lims = append(lims, lim{"ext1h", "external_recipients_1h", set.UserExternalPerHour, time.Hour})
	}
	if !external && set.UserInternalPerHour > 0 {
		lims = append(lims, lim{"int1h", "internal_recipients_1h", set.UserInternalPerHour, time.Hour})
	}
	if set.UserDailyRecipients > 0 {
		lims = append(lims, lim{"policy24h", "recipients_24h", set.UserDailyRecipients, 24 * time.Hour})
	}
	for _, l := range lims {
		n, ok, err := c.e.Counters.AddIfBelow(ctx, senderKey(env.TenantID, sender, l.key), 1, l.limit, l.window, now)
		if err != nil {
			return c.e.counterFailed("outbound-spam-policy", err)
		}
		if ok {
			continue
		}
		figures := []policy.Figure{figs("sender", sender), fig(l.name, n), fig("limit", l.limit), figs("window", l.window.String())}
		d := c.e.restrict(ctx, env, blocks.KindSender, sender, "the sender crossed the outbound spam policy's "+l.name+" limit",
			"outbound-spam-policy", figures)
		if d.Action != policy.Accept {
			return d
		}
	}
	return policy.Accepted
}

// Data implements policy.Check.
func (LimitsCheck) Data(context.Context, *policy.Envelope, *policy.Message) policy.Decision {
	return policy.Accepted
}
