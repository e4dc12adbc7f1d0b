package protect

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/policy"
)

// VerdictCheck judges the content verdict with the evidence beyond it, at
// the end of DATA (see docs/protection.md, and evidence.go for the
// figures):
//   - the tenant is blocked (sticky, 5.7.705) when its counted verdicts in
//     the window reach the count AND the ratio thresholds AND the evidence
//     says the mail is unwanted and departs from the tenant's baseline;
//   - the credential that sent the spam (app password, connector, or the
//     user's own login) is restricted when it crosses the spam limit, on
//     the same evidence for that credential;
//   - delivery feedback at the pause rate blocks the tenant by itself;
//   - spam that is not refused leaves through the high-risk pool.
//
// Bulk and list mail whose content is not spam count only when the
// tenant's policy says so (bulk_counts) or its delivery feedback says it is
// unwanted; a spam verdict counts whatever the list headers say.
type VerdictCheck struct{ e *Engine }

// Name implements policy.Check.
func (VerdictCheck) Name() string { return "verdict" }

// Data implements policy.DataChecker.
func (c VerdictCheck) Data(ctx context.Context, env *policy.Envelope, msg *policy.Message) policy.Decision {
	v := msg.Verdict
	e := c.e
	if e.Observe != nil && env.ClientIP.IsValid() && env.Attributed() {
		e.Observe(env.ClientIP, v.Class == policy.ClassSpam)
	}
	if !env.Attributed() || v.Class == policy.ClassNone {
		return policy.Accepted
	}
	if e.Blocks != nil {
		e.Blocks.NoteVerdict(env.TenantID, v.Kind())
	}
	set := e.Settings(env.TenantID)
	now := e.now()
	// The delivery feedback: this node's cached read, else read with the
	// evidence in one counter step when whether the message counts does
	// not hang on it (everything but bulk that counts only if unwanted),
	// else read on its own first.
	fb, stale := e.cachedFeedback(env.TenantID, now)
	var merged CountedFeedback
	if stale {
		if cf := e.countedFeedback(); cf != nil && counts(v, msg, set, true) == counts(v, msg, set, false) {
			merged = cf
		} else {
			fb = e.feedback(ctx, env, set, now)
		}
	}
	counted := counts(v, msg, set, fb.unwanted())
	kind, subject := credentialOf(env)
	var reads []counters.Op
	if merged != nil {
		reads = merged.Reads(env.TenantID)
	}
	ev, fbTotals, err := e.gather(ctx, env, msg, set, counted, kind, subject, fb, reads, now)
	if err != nil {
		return e.counterFailed("tenant-threshold", err)
	}
	if merged != nil {
		fb = e.noteFeedback(env, set, merged.FromTotals(fbTotals), nil, now)
		ev.fb = fb
	}
	msg.Evidence = ev.figures(set)
	if fb.level == policy.FeedbackPause {
		return c.block(ctx, env, set, ev, blocks.ReasonFeedback, "tenant-feedback")
	}
	if counted {
		e.remember(env.TenantID, set.TenantWindow, seen{at: now, sender: env.Sender(), connector: env.Connector,
			sample: blocks.Sample{QueueID: msg.QueueID, MessageID: msg.MessageID, Subject: msg.Subject, Sender: env.Sender(), Verdict: v.Kind()}})
		if ev.counted >= set.TenantSpamCount && ev.ratio() >= set.TenantSpamRatio && ev.suspicious(set, false) {
			return c.block(ctx, env, set, ev, blocks.ReasonThreshold, "tenant-threshold")
		}
		if set.UserSpamPerHour > 0 && ev.credSpam >= set.UserSpamPerHour && ev.suspicious(set, true) {
			figures := append([]policy.Figure{figs("credential", kind+" "+subject), fig("spam_1h", ev.credSpam),
				fig("limit", set.UserSpamPerHour), figs("window", "1h")}, ev.credFigures(set)...)
			figures = append(figures, ev.figures(set)...)
			reason := "spam verdicts from this " + kind + " crossed the per-user spam limit, and its mail went to strangers or departed from the tenant's baseline"
			if d := e.restrict(ctx, env, kind, subject, reason, "outbound-spam-policy", figures); d.Action != policy.Accept {
				return d
			}
		}
	}
	if v.Class == policy.ClassSpam {
		msg.Pool = policy.PoolHighRisk
	}
	return policy.Accepted
}

// isBulk is the one place that says whether a message is bulk: the
// classifier's bulk class, or list mail by its header (List-Id,
// List-Unsubscribe).
func isBulk(v policy.Verdict, msg *policy.Message) bool {
	return v.Kind() == policy.ClassBulk || msg.ListMail
}

// counts reports whether a message counts towards the tenant threshold
// and the per-credential spam limit: every spam verdict, and bulk that is
// not spam only when the tenant's policy says bulk counts (bulk_counts) or
// the evidence says it is unwanted. The list headers exempt only mail
// whose content is not spam: anyone can write List-Unsubscribe, and a
// spammer who adds it must not escape the threshold by it.
func counts(v policy.Verdict, msg *policy.Message, set policy.Settings, unwanted bool) bool {
	if v.Class == policy.ClassSpam {
		return true
	}
	if isBulk(v, msg) {
		return set.BulkCounts || unwanted
	}
	return false
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

func (c VerdictCheck) block(ctx context.Context, env *policy.Envelope, set policy.Settings, ev evidence, reason, rule string) policy.Decision {
	e := c.e
	figures := []policy.Figure{fig("spam_bulk", ev.counted), fig("messages", ev.total), figs("ratio", fmt.Sprintf("%.3f", ev.ratio())),
		fig("count_threshold", set.TenantSpamCount), figs("ratio_threshold", fmt.Sprintf("%.3f", set.TenantSpamRatio)),
		figs("window", set.TenantWindow.String())}
	figures = append(figures, ev.figures(set)...)
	d := TenantBlocked
	d.Rule = rule
	d.Figures = append([]policy.Figure{figs("tenant", env.Tenant)}, figures...)
	if e.Blocks == nil {
		return d
	}
	var conns ConnectorLister
	if cl, ok := e.Tenants.(ConnectorLister); ok {
		conns = cl
	}
	bev := e.evidence(ctx, env.TenantID, set.TenantWindow, ev.total, ev.counted, conns)
	bev.Signals = ev.signals(set)
	b := blocks.Block{TenantID: env.TenantID, Reason: reason, Rule: rule, Figures: figures, Evidence: bev}
	got, created, err := e.Blocks.BlockTenant(ctx, b, "system")
	if err != nil {
		e.log().Error("protect: record tenant block; refusing this message only", "tenant", env.TenantID, "err", err)
		return d
	}
	if created {
		e.log().Warn("tenant blocked", "tenant", env.Tenant, "block", got.ID, "rule", rule, "spam_bulk", ev.counted, "messages", ev.total)
		text := "The tenant's outbound spam crossed the tenant threshold, sent to strangers or departing from its baseline; all its outbound mail is refused until an operator approves an unblock request."
		if reason == blocks.ReasonFeedback {
			text = "The tenant's delivery feedback (bounces, spam refusals, complaints) reached the pause rate; all its outbound mail is refused until an operator approves an unblock request."
		}
		e.alert(Alert{Kind: AlertTenantBlocked, TenantID: env.TenantID, Tenant: env.Tenant, Subject: env.Tenant, Ref: "block:" + strconv.FormatInt(got.ID, 10),
			Text: text, Figures: figures, Code: d.EnhancedString()})
	}
	return d
}

// campaignBand is the fingerprint's first band: similar content shares it.
func campaignBand(fp string) string {
	band, _, _ := strings.Cut(fp, "-")
	return band
}
