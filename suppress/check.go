package suppress

import (
	"context"
	"log/slog"

	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/queue"
)

// Suppressed is the refusal of a recipient on the list. X.1.92 sits with
// the other per-address refusals of Tollgate's (5.1.8, 5.1.90).
var Suppressed = policy.Decision{Action: policy.Reject, Code: 550, Enhanced: [3]int{5, 1, 92},
	Text: "Recipient is on the suppression list (an earlier hard bounce or complaint)", Rule: "suppression"}

// Check refuses, at RCPT, a recipient on the sending tenant's list or the
// global one, or drops it (policy.Drop) when the tenant's
// suppression_action says so.
type Check struct {
	Store *Store
	Log   *slog.Logger
	// OnSuppressed hears each recipient the check refuses or drops (the
	// gateway turns it into a suppressed delivery event); reason is the
	// entry's.
	OnSuppressed func(ctx context.Context, tenantID int64, rcpt, reason string, dropped bool)
	// Action returns the tenant's policy.suppression_action; "drop" accepts
	// the recipient and leaves it out of the message. nil: refuse.
	Action func(tenantID int64) string
}

// Name implements policy.Check.
func (Check) Name() string { return "suppression" }

// Rcpt implements policy.RcptChecker.
func (c Check) Rcpt(ctx context.Context, env *policy.Envelope, rcpt string) policy.Decision {
	if !env.Attributed() {
		return policy.Accepted
	}
	e, ok, err := c.Store.Find(ctx, env.TenantID, rcpt)
	if err != nil {
		// The list is advice about deliverability, not a promise: a store
		// failure lets the recipient through rather than refusing mail.
		if c.Log != nil {
			c.Log.Warn("suppression lookup failed; accepting", "err", err)
		}
		return policy.Accepted
	}
	if !ok {
		return policy.Accepted
	}
	d := Suppressed
	if c.Action != nil && c.Action(env.TenantID) == policy.SuppressDrop {
		d.Action = policy.Drop
	}
	list := "tenant"
	if e.TenantID == Global {
		list = "global"
	}
	d.Figures = []policy.Figure{{Name: "recipient", Value: e.Address}, {Name: "reason", Value: e.Reason},
		{Name: "since", Value: e.CreatedAt.Format("2006-01-02T15:04:05Z")}, {Name: "list", Value: list}}
	if c.OnSuppressed != nil {
		c.OnSuppressed(ctx, env.TenantID, rcpt, e.Reason, d.Action == policy.Drop)
	}
	return d
}

// Recorder wraps the delivery transport: a recipient whose delivery failed
// permanently as a hard bounce (Classify says so: the address does not
// exist or cannot receive mail) goes on the tenant's list.
type Recorder struct {
	Next     queue.Transport
	Store    *Store
	Classify func(queue.Result) (class, reason string)
	Log      *slog.Logger
}

// Deliver implements queue.Transport.
func (r *Recorder) Deliver(ctx context.Context, d *queue.Delivery) []queue.Result {
	res := r.Next.Deliver(ctx, d)
	if d.TenantID == 0 || d.Kind == "dsn" {
		return res
	}
	for _, x := range res {
		if !x.Permanent || x.Reply == 0 {
			continue // only what a next hop really said
		}
		if class, _ := r.Classify(x); class != HardBounce {
			continue
		}
		if _, added, err := r.Store.Add(ctx, d.TenantID, x.Rcpt, HardBounce, x.Detail, "system"); err != nil {
			r.Log.Warn("could not add a hard-bounced recipient to the suppression list", "queue_id", d.ID, "err", err)
		} else if added {
			r.Log.Info("recipient suppressed after a hard bounce", "queue_id", d.ID, "tenant_id", d.TenantID)
		}
	}
	return res
}
