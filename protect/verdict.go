package protect

import (
	"context"
	"fmt"
	"github.com/tollgate-mail/tollgate/counters"
	"strconv"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/policy"
)

// VerdictCheck counts the content verdict towards the tenant threshold and
// the per-credential spam limit, at the end of DATA:
//   - the tenant is blocked (sticky, 5.7.705) when its spam+bulk verdicts
//     in the window reach the count AND the ratio thresholds;
//   - the credential that sent the spam (app password, connector, or the
//     user's own login) is restricted when it crosses the spam limit;
//   - spam that is not refused leaves through the high-risk pool.
type VerdictCheck struct{ e *Engine }

// Name implements policy.Check.
func (VerdictCheck) Name() string { return "verdict" }

// Mail implements policy.Check.
func (VerdictCheck) Mail(context.Context, *policy.Envelope) policy.Decision { return policy.Accepted }

// Rcpt implements policy.Check.
func (VerdictCheck) Rcpt(context.Context, *policy.Envelope, string) policy.Decision {
	return policy.Accepted
}

// Data implements policy.Check.
func (c VerdictCheck) Data(ctx context.Context, env *policy.Envelope, msg *policy.Message) policy.Decision {
	v := msg.Verdict
	e := c.e
	if e.Observe != nil && env.ClientIP.IsValid() && env.Attributed() {
		e.Observe(env.ClientIP, v.Class == "spam")
	}
	if !env.Attributed() || v.Class == "" {
		return policy.Accepted
	}
	if e.Blocks != nil {
		e.Blocks.NoteVerdict(env.TenantID, v.Class)
	}
	set := e.Settings(env.TenantID)
	now := e.now()
	// The tenant's window and, for spam, the credential's hour: one atomic
	// batch (one Redis round trip). A clean verdict reads spam+bulk with n 0.
	epoch := e.tenantEpoch(env.TenantID)
	ops := []counters.Op{{Key: tenantKey(env.TenantID, "verdicts"+epoch), N: 1, Window: set.TenantWindow},
		{Key: tenantKey(env.TenantID, "spambulk"+epoch), Window: set.TenantWindow}}
	counted := counts(v, msg, set, false)
	if counted {
		ops[1].N = 1
	}
	kind, subject := credentialOf(env)
	if counted && set.UserSpamPerHour > 0 {
		ops = append(ops, counters.Op{Key: "cred:" + strconv.FormatInt(env.TenantID, 10) + ":" + kind + ":" + subject + ":spam1h" + epoch + e.restrictionEpoch(env.TenantID, kind, subject, now), N: 1, Window: hour})
	}
	res, err := counters.AddAll(ctx, e.Counters, ops, now)
	if err != nil {
		return e.counterFailed("tenant-threshold", err)
	}
	total, spamBulk := res.Totals[0], res.Totals[1]
	if counted {
		e.recent.add(env.TenantID, seen{at: now, sender: env.Sender(), connector: env.Connector,
			sample: blocks.Sample{QueueID: msg.QueueID, MessageID: msg.MessageID, Subject: msg.Subject, Sender: env.Sender(), Verdict: v.Class}})
		ratio := float64(spamBulk) / float64(max(total, 1))
		if spamBulk >= set.TenantSpamCount && ratio >= set.TenantSpamRatio {
			return c.block(ctx, env, set, total, spamBulk, ratio)
		}
	}
	if !counted {
		if v.Class == "spam" {
			msg.Pool = "high-risk"
		}
		return policy.Accepted
	}
	if len(res.Totals) == 3 {
		if n := res.Totals[2]; n >= set.UserSpamPerHour {
			figures := []policy.Figure{figs("credential", kind+" "+subject), fig("spam_1h", n), fig("limit", set.UserSpamPerHour), figs("window", "1h")}
			reason := "spam verdicts from this " + kind + " crossed the per-user spam limit"
			if d := e.restrict(ctx, env, kind, subject, reason, "outbound-spam-policy", figures); d.Action != policy.Accept {
				return d
			}
		}
	}
	if v.Class == "spam" {
		msg.Pool = "high-risk"
	}
	return policy.Accepted
}

// isBulk is the one place that says whether a message is bulk: the
// classifier's bulk class, or list mail by its header (List-Id,
// List-Unsubscribe). A spam verdict on list mail is judged as bulk: the
// header says a list sent it, and whether the list is wanted is for the
// delivery feedback to say, not the content score.
func isBulk(v policy.Verdict, msg *policy.Message) bool {
	return v.Class == "bulk" || msg.ListMail
}

// counts reports whether a message counts towards the tenant threshold
// and the per-credential spam limit: spam that is not bulk, and bulk only
// when the tenant's policy says bulk counts (bulk_counts) or the evidence
// says it is unwanted.
func counts(v policy.Verdict, msg *policy.Message, set policy.Settings, unwanted bool) bool {
	if isBulk(v, msg) {
		return set.BulkCounts || unwanted
	}
	return v.Class == "spam"
}

// credentialOf is the narrowest channel the message came through: the app
// password or connector if one was used, else the sender's login.
func credentialOf(env *policy.Envelope) (kind, subject string) {
	switch {
	case env.AppPasswordID != 0:
		return blocks.KindAppPassword, strconv.FormatInt(env.AppPasswordID, 10)
	case env.ConnectorID != 0:
		return blocks.KindConnector, strconv.FormatInt(env.ConnectorID, 10)
	}
	return blocks.KindSender, env.Sender()
}

func (c VerdictCheck) block(ctx context.Context, env *policy.Envelope, set policy.Settings, total, spamBulk int64, ratio float64) policy.Decision {
	e := c.e
	figures := []policy.Figure{fig("spam_bulk", spamBulk), fig("messages", total), figs("ratio", fmt.Sprintf("%.3f", ratio)),
		fig("count_threshold", set.TenantSpamCount), figs("ratio_threshold", fmt.Sprintf("%.3f", set.TenantSpamRatio)),
		figs("window", set.TenantWindow.String())}
	d := TenantBlocked
	d.Rule = "tenant-threshold"
	d.Figures = append([]policy.Figure{figs("tenant", env.Tenant)}, figures...)
	if e.Blocks == nil {
		return d
	}
	var conns ConnectorLister
	if cl, ok := e.Tenants.(ConnectorLister); ok {
		conns = cl
	}
	b := blocks.Block{TenantID: env.TenantID, Reason: blocks.ReasonThreshold, Rule: "tenant-threshold", Figures: figures,
		Evidence: e.evidence(ctx, env.TenantID, set.TenantWindow, total, spamBulk, conns)}
	got, created, err := e.Blocks.BlockTenant(ctx, b, "system")
	if err != nil {
		e.log().Error("protect: record tenant block; refusing this message only", "tenant", env.TenantID, "err", err)
		return d
	}
	if created {
		e.log().Warn("tenant blocked", "tenant", env.Tenant, "block", got.ID, "spam_bulk", spamBulk, "messages", total)
		e.alert(Alert{Kind: AlertTenantBlocked, TenantID: env.TenantID, Tenant: env.Tenant, Subject: env.Tenant, Ref: "block:" + strconv.FormatInt(got.ID, 10),
			Text:    "The tenant's outbound spam and bulk mail crossed the tenant threshold; all its outbound mail is refused until an operator approves an unblock request.",
			Figures: figures, Code: d.EnhancedString()})
	}
	return d
}
