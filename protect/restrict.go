package protect

import (
	"context"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/policy"
)

// Restriction refusals, with the hosted service's codes and texts.
var (
	SenderRestricted = policy.Decision{Action: policy.Reject, Code: 550, Enhanced: [3]int{5, 1, 8},
		Text: "Access denied, bad outbound sender", Rule: "restricted-sender"}
	ConnectorRestricted = policy.Decision{Action: policy.Reject, Code: 550, Enhanced: [3]int{5, 7, 711},
		Text: "Access denied, bad inbound connector", Rule: "restricted-connector"}
)

// RestrictionCheck refuses a restricted connector (5.7.711), app password
// or sender (5.1.8). Only the restricted channel stops: the user's other
// credentials, the tenant's other connectors and senders keep sending.
type RestrictionCheck struct{ e *Engine }

// Name implements policy.Check.
func (RestrictionCheck) Name() string { return "restriction" }

// Mail implements policy.MailChecker.
func (c RestrictionCheck) Mail(_ context.Context, env *policy.Envelope) policy.Decision {
	if !env.Attributed() {
		return policy.Accepted
	}
	return c.e.restricted(env.Attribution, env.Sender())
}

// restricted is the refusal of a restricted connector, app password or
// sender (the envelope's Sender), at MAIL FROM and, for mail queued before
// the restriction, before each delivery attempt (Engine.Hold).
func (e *Engine) restricted(a policy.Attribution, sender string) policy.Decision {
	if e.Blocks == nil {
		return policy.Accepted
	}
	now := e.now()
	refuse := func(d policy.Decision, r blocks.Restriction) policy.Decision {
		d.Figures = append([]policy.Figure{figs("restricted", r.Kind+" "+r.Subject), figs("since", r.Created.Format(time.RFC3339)),
			figs("reason", r.Reason)}, r.Figures...)
		if !r.Until.IsZero() {
			d.Figures = append(d.Figures, figs("until", r.Until.Format(time.RFC3339)))
		}
		return d
	}
	if a.ConnectorID != 0 {
		if r, ok := e.Blocks.Restricted(a.TenantID, blocks.KindConnector, strconv.FormatInt(a.ConnectorID, 10), now); ok {
			return refuse(ConnectorRestricted, r)
		}
	}
	if a.AppPasswordID != 0 {
		if r, ok := e.Blocks.Restricted(a.TenantID, blocks.KindAppPassword, strconv.FormatInt(a.AppPasswordID, 10), now); ok {
			return refuse(SenderRestricted, r)
		}
	}
	if sender != "" {
		if r, ok := e.Blocks.Restricted(a.TenantID, blocks.KindSender, sender, now); ok {
			return refuse(SenderRestricted, r)
		}
	}
	return policy.Accepted
}

// Data implements policy.DataChecker: connector mail whose header From is a
// restricted sender is refused too, so a restricted user cannot send
// through the tenant's server under another envelope sender (or <>).
func (c RestrictionCheck) Data(_ context.Context, env *policy.Envelope, msg *policy.Message) policy.Decision {
	if !env.Attributed() || env.User != "" || c.e.Blocks == nil || msg.HeaderFrom == "" {
		return policy.Accepted
	}
	addrs, err := mail.ParseAddressList(msg.HeaderFrom)
	if err != nil {
		return policy.Accepted // the unregistered-domain check judges an unparsable From
	}
	now := c.e.now()
	for _, a := range addrs {
		if r, ok := c.e.Blocks.Restricted(env.TenantID, blocks.KindSender, strings.ToLower(a.Address), now); ok {
			d := SenderRestricted
			d.Figures = append([]policy.Figure{figs("restricted", r.Kind+" "+r.Subject), figs("checked", "header From"),
				figs("since", r.Created.Format(time.RFC3339)), figs("reason", r.Reason)}, r.Figures...)
			return d
		}
	}
	return policy.Accepted
}

// restrict records a restriction per the tenant's action and returns the
// refusal for the message that crossed the line, or Accepted when the
// action is alert-only. It always alerts.
func (e *Engine) restrict(ctx context.Context, env *policy.Envelope, kind, subject, reason, rule string, figures []policy.Figure) policy.Decision {
	set := e.Settings(env.TenantID)
	deny := SenderRestricted
	if kind == blocks.KindConnector {
		deny = ConnectorRestricted
	}
	a := Alert{Kind: AlertUserRestricted, TenantID: env.TenantID, Tenant: env.Tenant, Subject: kind + " " + subject,
		Text: reason, Figures: figures, Code: deny.EnhancedString()}
	if kind == blocks.KindConnector {
		a.Kind = AlertConnectorSuspicious
	}
	if set.RestrictAction == policy.AlertOnly || e.Blocks == nil {
		a.Text += " (alert only: the sender was not restricted)"
		e.alert(a)
		return policy.Accepted
	}
	r := blocks.Restriction{TenantID: env.TenantID, Kind: kind, Subject: subject, Reason: reason, Rule: rule, Figures: figures}
	if set.RestrictAction == policy.RestrictUntilTomorrow {
		r.Until = dayAfter(e.now())
	}
	got, created, err := e.Blocks.Restrict(ctx, r, "system")
	if err != nil {
		e.log().Error("protect: record restriction; refusing this message only", "kind", kind, "subject", subject, "err", err)
		got = r
	}
	if created {
		a.Ref = "restriction:" + strconv.FormatInt(got.ID, 10)
		e.alert(a)
	}
	d := deny
	d.Rule = rule
	d.Figures = append([]policy.Figure{figs("restricted", kind+" "+subject)}, figures...)
	if !got.Until.IsZero() {
		d.Figures = append(d.Figures, figs("until", got.Until.Format(time.RFC3339)))
	}
	return d
}

// dayAfter is the next UTC midnight.
func dayAfter(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}
