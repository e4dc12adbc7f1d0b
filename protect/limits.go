package protect

import (
	"context"
	"time"

	"github.com/tollgate-mail/tollgate/counters"

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

// Mail implements policy.MailChecker: messages a minute per sender.
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

// Rcpt implements policy.RcptChecker: recipients per message, the per-user
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
	// Every count this recipient touches goes in one atomic batch (one
	// Redis round trip): all are added, or none when one limit is reached.
	type tagged struct {
		what   string // policy, daily, external
		name   string // the figure's name
		window string
	}
	var ops []counters.Op
	var tags []tagged
	alertOnly := set.RestrictAction == policy.AlertOnly
	if sender != "" {
		// The policy windows restart when the sender's restriction ends.
		epoch := c.e.restrictionEpoch(env.TenantID, blocks.KindSender, sender, now)
		policyLimit := func(key, name string, limit int64, window time.Duration) {
			if limit <= 0 {
				return
			}
			op := counters.Op{Key: senderKey(env.TenantID, sender, key+epoch), N: 1, Limit: limit, Window: window}
			if alertOnly {
				op.Limit = 0 // count, never refuse; alert past the limit below
			}
			ops = append(ops, op)
			tags = append(tags, tagged{"policy", name, window.String()})
		}
		if external {
			policyLimit("ext1h", "external_recipients_1h", set.UserExternalPerHour, time.Hour)
		} else {
			policyLimit("int1h", "internal_recipients_1h", set.UserInternalPerHour, time.Hour)
		}
		policyLimit("policy24h", "recipients_24h", set.UserDailyRecipients, 24*time.Hour)
		ops = append(ops, counters.Op{Key: senderKey(env.TenantID, sender, "rcpts24h"), N: 1, Limit: set.UserRecipientsPerDay, Window: 24 * time.Hour})
		tags = append(tags, tagged{"daily", "recipients_24h", "24h"})
	}
	seats := 0
	var externalLimit int64
	if external {
		if t, ok := c.e.Tenants.SnapshotTenant(env.TenantID); ok {
			seats = t.Seats
		}
		externalLimit = set.ExternalPerDay(seats)
		ops = append(ops, counters.Op{Key: tenantKey(env.TenantID, "external24h"), N: 1, Limit: externalLimit, Window: 24 * time.Hour})
		tags = append(tags, tagged{"external", "external_recipients_24h", "24h"})
	}
	if len(ops) == 0 {
		return policy.Accepted
	}
	res, err := counters.AddAll(ctx, c.e.Counters, ops, now)
	if err != nil {
		return c.e.counterFailed("sending-limits", err)
	}
	if alertOnly {
		for i, tg := range tags {
			if tg.what == "policy" && res.Failed == -1 && res.Totals[i] > limitOf(set, tg.name) {
				c.e.restrict(ctx, env, blocks.KindSender, sender, "the sender crossed the outbound spam policy's "+tg.name+" limit",
					"outbound-spam-policy", []policy.Figure{figs("sender", sender), fig(tg.name, res.Totals[i]),
						fig("limit", limitOf(set, tg.name)), figs("window", tg.window)})
			}
		}
	}
	if res.Failed < 0 {
		return policy.Accepted
	}
	i, tg := res.Failed, tags[res.Failed]
	switch tg.what {
	case "policy":
		figures := []policy.Figure{figs("sender", sender), fig(tg.name, res.Totals[i]), fig("limit", ops[i].Limit), figs("window", tg.window)}
		return c.e.restrict(ctx, env, blocks.KindSender, sender, "the sender crossed the outbound spam policy's "+tg.name+" limit",
			"outbound-spam-policy", figures)
	case "daily":
		d := DailyRecipientsExceeded
		d.Figures = []policy.Figure{figs("sender", sender), fig("recipients_24h", res.Totals[i]), fig("limit", set.UserRecipientsPerDay), figs("window", "24h")}
		c.e.alert(Alert{Kind: AlertLimitExceeded, TenantID: env.TenantID, Tenant: env.Tenant, Subject: sender,
			Text: "A sender reached its daily recipient limit.", Figures: d.Figures, Code: d.EnhancedString()})
		return d
	default:
		d := TenantExternalExceeded
		d.Figures = []policy.Figure{figs("tenant", env.Tenant), fig("external_recipients_24h", res.Totals[i]), fig("limit", externalLimit),
			fig("licences", int64(seats)), figs("window", "24h")}
		c.e.alert(Alert{Kind: AlertLimitExceeded, TenantID: env.TenantID, Tenant: env.Tenant, Subject: "tenant external recipient rate",
			Text: "The tenant reached its external recipient rate limit.", Figures: d.Figures, Code: d.EnhancedString()})
		return d
	}
}

// limitOf is the outbound spam policy limit behind a figure name.
func limitOf(set policy.Settings, name string) int64 {
	switch name {
	case "external_recipients_1h":
		return set.UserExternalPerHour
	case "internal_recipients_1h":
		return set.UserInternalPerHour
	}
	return set.UserDailyRecipients
}
