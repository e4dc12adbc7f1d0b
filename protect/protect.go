// Package protect holds the outbound protection checks: the tenant
// threshold and expired subscriptions (5.7.705), sender domains verified by
// another tenant (5.7.751), the sender binding of logins (5.7.60),
// unregistered domains (5.7.750), restricted senders, app passwords and
// connectors (5.1.8, 5.7.711) and the sending limits (4.7.500, 5.1.90,
// 5.7.233, 4.5.3).
//
// Engine.Chain builds the whole ordered policy chain (attribution,
// destinations, IP reputation and connector probation included), so the
// order lives in one place. The checks read three sources: the sticky state in
// package blocks, the sliding-window counters (one node in memory, a fleet
// in Redis) and the directory's snapshot. Every threshold comes from
// policy.Settings with the tenant's overrides applied.
//
// When a counter cannot be read (Redis down) a check defers with 451 4.3.0:
// the client keeps the message and retries, so no mail is lost and no
// limit is silently skipped.
package protect

import (
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/policy"
)

// Alert kinds the checks raise (the alert package delivers them).
const (
	AlertUserRestricted      = "user-restricted"
	AlertLimitExceeded       = "limit-exceeded"
	AlertTenantBlocked       = "tenant-blocked"
	AlertConnectorSuspicious = "connector-suspicious"
)

// Alert is one notice for a tenant's admins and the operators.
type Alert struct {
	Kind     string
	TenantID int64
	Tenant   string
	Subject  string
	Text     string
	Figures  []policy.Figure
	Code     string // the enhanced code whose help page explains it
	// Ref names the one event behind the alert ("block:12",
	// "restriction:7"): alerts are de-duplicated on it when set, so a
	// second block of the same tenant raises its own alert.
	Ref string
}

// Tenants is what the checks read of the directory: the snapshot, never a
// query per message.
type Tenants interface {
	SnapshotTenant(id int64) (directory.Tenant, bool)
	IsVerifiedDomain(tenantID int64, domain string) bool
	// DomainOwner finds the tenant that verified domain or a parent of it.
	DomainOwner(domain string) (tenantID int64, verified string, ok bool)
	// IsUserAlias reports whether a (lowercase) address is one of the
	// user's aliases.
	IsUserAlias(userID int64, address string) bool
}

// Engine holds what the checks share. Build it once; Chain returns the
// whole policy chain in the order it runs, and Hold answers for queued mail.
type Engine struct {
	Defaults policy.Settings
	Counters counters.Counter
	Blocks   *blocks.Store
	Tenants  Tenants
	// Alert is called (from the SMTP goroutine: it must not block) when a
	// check blocks, restricts or limits; nil for none.
	Alert func(Alert)
	// Observe records each classified message against its source IP
	// (the IP reputation behind 5.7.708); nil for none.
	Observe func(ip netip.Addr, spam bool)
	// Feedback gives the tenants' delivery feedback (bounces,
	// complaints); nil for none: the decisions then rest on the other
	// evidence.
	Feedback policy.FeedbackSource
	// Audit is where a block's evidence of directory changes comes from;
	// nil: the connectors' own records.
	Audit  AuditReader
	Now    func() time.Time
	Logger *slog.Logger

	recent  evidenceRing
	fleet   fleetEvidence
	fbCache feedbackCache
}

// Settings are the defaults with the tenant's overrides applied.
func (e *Engine) Settings(tenantID int64) policy.Settings {
	if e.Blocks == nil {
		return e.Defaults
	}
	return e.Blocks.Overrides(tenantID).Apply(e.Defaults)
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) log() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.Default()
}

func (e *Engine) alert(a Alert) {
	if e.Alert != nil {
		e.Alert(a)
	}
}

// counterFailed is the decision when a counter cannot be read: a 4xx, so
// the message stays with the client, and the failure is logged.
func (e *Engine) counterFailed(rule string, err error) policy.Decision {
	e.log().Error("protect: counter unavailable; deferring", "rule", rule, "err", err)
	return policy.Decision{Action: policy.Defer, Code: 451, Enhanced: [3]int{4, 3, 0},
		Text: "Temporary policy failure: sending limits cannot be checked right now; try again later",
		Rule: rule, Figures: []policy.Figure{{Name: "error", Value: "counter unavailable"}}}
}

const hour = time.Hour

// Counter keys. One window per key (see package counters).
func tenantKey(id int64, what string) string { return "t:" + strconv.FormatInt(id, 10) + ":" + what }
func senderKey(tenant int64, sender, what string) string {
	return "s:" + strconv.FormatInt(tenant, 10) + ":" + sender + ":" + what
}

// epochSuffix names a window's generation: the windows that trip a block
// or a restriction get fresh keys when it is released, so the release
// resets what caused it on both counter stores and every node.
func epochSuffix(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ":e" + strconv.FormatInt(t.UnixMilli(), 10)
}

// tenantEpoch is the suffix of the tenant's decision windows.
func (e *Engine) tenantEpoch(id int64) string {
	if e.Blocks == nil {
		return ""
	}
	return epochSuffix(e.Blocks.TenantEpoch(id))
}

// restrictionEpoch is the suffix of the windows that restrict a subject.
func (e *Engine) restrictionEpoch(tenant int64, kind, subject string, now time.Time) string {
	if e.Blocks == nil {
		return ""
	}
	return epochSuffix(e.Blocks.RestrictionEpoch(tenant, kind, subject, now))
}

func fig(name string, v int64) policy.Figure {
	return policy.Figure{Name: name, Value: strconv.FormatInt(v, 10)}
}
func figs(name, v string) policy.Figure { return policy.Figure{Name: name, Value: v} }

// domainOf is the domain of an address, lowercased; "" for none.
func domainOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == '@' {
			return strings.ToLower(addr[i+1:])
		}
	}
	return ""
}
