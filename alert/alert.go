// Package alert tells tenant admins and operators when Tollgate acts on a
// tenant: a user restricted, a sending limit exceeded, a tenant blocked, a
// connector created, a connector behaving suspiciously.
//
// Alerts leave the SMTP path at once: Notifier.Notify never blocks and
// never fails the caller. It drops repeats of the same (kind, tenant,
// subject — or ref, the event's id, when set) within a window, so a spraying account produces one alert, not
// one per refused message, and queues the rest per sink (webhook, email),
// each with its own workers, so a slow webhook cannot hold back the email.
package alert

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// Kind is what happened.
type Kind string

// The kinds of alert.
const (
	UserRestricted      Kind = "user-restricted"      // a user was restricted from sending (5.1.8)
	LimitExceeded       Kind = "limit-exceeded"       // a sending limit was reached
	TenantBlocked       Kind = "tenant-blocked"       // the tenant was blocked (5.7.705)
	ConnectorCreated    Kind = "connector-created"    // a connector was created
	ConnectorSuspicious Kind = "connector-suspicious" // a connector's traffic looks like abuse
)

// Kinds lists every kind, for docs and validation.
var Kinds = []Kind{UserRestricted, LimitExceeded, TenantBlocked, ConnectorCreated, ConnectorSuspicious}

// Title is the kind as words for a mail subject.
func (k Kind) Title() string {
	switch k {
	case UserRestricted:
		return "User restricted from sending"
	case LimitExceeded:
		return "Sending limit exceeded"
	case TenantBlocked:
		return "Tenant blocked from sending"
	case ConnectorCreated:
		return "Connector created"
	case ConnectorSuspicious:
		return "Suspicious connector activity"
	}
	return string(k)
}

// Alert is one notification. It is also the webhook's JSON payload.
type Alert struct {
	// ID is unique per alert (set by Notify); a webhook receiver can use it
	// to spot a retried delivery it has already processed.
	ID       string `json:"id"`
	Kind     Kind   `json:"kind"`
	TenantID int64  `json:"tenant_id"`
	Tenant   string `json:"tenant"`
	// Subject is what the alert is about: a user's address, a connector's
	// name, the tenant itself. Repeats are counted per kind, tenant and
	// subject.
	Subject string `json:"subject"`
	// Ref names the one event behind the alert ("block:12"). When set,
	// repeats are counted per kind, tenant and ref instead of subject, so
	// a tenant blocked a second time gets a second alert.
	Ref  string `json:"ref,omitempty"`
	Text string `json:"text"`
	// Code is the enhanced status code of the refusal behind the alert, if
	// any ("5.1.8"); the email links to its help page.
	Code    string          `json:"code,omitempty"`
	Figures []policy.Figure `json:"figures,omitempty"`
	Time    time.Time       `json:"time"`
	// Repeats counts the alerts with this kind, tenant and subject that were
	// suppressed since the previous one was sent (if this one comes within
	// two dedupe windows of it; older counts are forgotten).
	Repeats int `json:"repeats,omitempty"`
}

type dedupeKey struct {
	kind     Kind
	tenantID int64
	subject  string
}

// String is the key as the fleet's claim store names it.
func (k dedupeKey) String() string {
	return fmt.Sprintf("%s:%d:%s", k.kind, k.tenantID, k.subject)
}

func (a *Alert) key() dedupeKey {
	if a.Ref != "" {
		return dedupeKey{a.Kind, a.TenantID, "ref:" + a.Ref}
	}
	return dedupeKey{a.Kind, a.TenantID, a.Subject}
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
