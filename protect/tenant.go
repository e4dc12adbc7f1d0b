package protect

import (
	"context"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/policy"
)

// TenantBlocked is the 5.7.705 refusal: the tenant is blocked (threshold or
// expired subscription).
var TenantBlocked = policy.Decision{Action: policy.Reject, Code: 550, Enhanced: [3]int{5, 7, 705},
	Text: "Access denied, tenant has exceeded threshold"}

// TenantCheck refuses every message of a blocked tenant or one whose
// subscription expired, and holds a tenant released from a block to its
// probation quota. It reads the snapshot, so a renewal or a release
// applies at once on the node that made it.
type TenantCheck struct{ e *Engine }

// Name implements policy.Check.
func (TenantCheck) Name() string { return "tenant" }

// Mail implements policy.MailChecker.
func (c TenantCheck) Mail(ctx context.Context, env *policy.Envelope) policy.Decision {
	if !env.Attributed() {
		return policy.Accepted
	}
	if d, _ := c.e.tenantStanding(env.Attribution); d.Action != policy.Accept {
		return d
	}
	if c.e.Blocks == nil {
		return policy.Accepted
	}
	now := c.e.now()
	if quota, on := c.e.Blocks.Probation(env.TenantID, now); on {
		n, ok, err := c.e.Counters.AddIfBelow(ctx, tenantKey(env.TenantID, "probation"+c.e.tenantEpoch(env.TenantID)), 1, quota, 24*time.Hour, now)
		if err != nil {
			return c.e.counterFailed("tenant-probation", err)
		}
		if !ok {
			return policy.Decision{Action: policy.Defer, Code: 451, Enhanced: [3]int{4, 7, 500},
				Text: "Tenant released from a block is on probation and has reached its quota for now; try again later",
				Rule: "tenant-probation", Figures: []policy.Figure{figs("tenant", env.Tenant), fig("messages_24h", n), fig("quota", quota)}}
		}
	}
	return policy.Accepted
}

// tenantStanding is the tenant's standing refusal: an expired subscription
// or a block. It holds at MAIL FROM and, for mail queued before it landed,
// before each delivery attempt (Engine.Hold). For a block it returns the
// block too, whose own rule and figures the DSN of a held message carries.
func (e *Engine) tenantStanding(a policy.Attribution) (policy.Decision, *blocks.Block) {
	if t, ok := e.Tenants.SnapshotTenant(a.TenantID); ok && t.LicenseAt(e.now()) == directory.Expired {
		d := TenantBlocked
		d.Text += " (subscription expired)"
		d.Rule = "tenant-expired"
		d.Figures = []policy.Figure{figs("tenant", t.Name), figs("licence", string(t.License))}
		if !t.LicenseExpires.IsZero() {
			d.Figures = append(d.Figures, figs("expired_at", t.LicenseExpires.Format(time.RFC3339)))
		}
		return d, nil
	}
	if e.Blocks == nil {
		return policy.Accepted, nil
	}
	if b, ok := e.Blocks.ActiveBlock(a.TenantID); ok {
		d := TenantBlocked
		d.Rule = "tenant-threshold"
		d.Figures = append([]policy.Figure{figs("tenant", a.Tenant), figs("blocked_at", b.CreatedAt.Format(time.RFC3339)),
			figs("reason", b.Reason)}, b.Figures...)
		return d, &b
	}
	return policy.Accepted, nil
}
