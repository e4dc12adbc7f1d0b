package api

import (
	"cmp"
	"strconv"
	"strings"

	"github.com/tollgate-mail/tollgate/client"
)

// How each tenant list is searched (?q=) and sorted (?sort=). The keys are
// part of the API: openapi.json lists them.

var userList = listSpec[client.User]{
	text: func(u client.User) []string { return []string{u.Address} },
	sorts: map[string]func(a, b client.User) int{
		"address":  func(a, b client.User) int { return byFold(a.Address, b.Address) },
		"created":  func(a, b client.User) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"disabled": func(a, b client.User) int { return byBool(a.Disabled, b.Disabled) },
	},
}

var connectorList = listSpec[client.Connector]{
	text: func(c client.Connector) []string {
		return []string{c.Name, c.CreatedBy, c.CertificateDomain, strings.Join(c.IPRanges, " ")}
	},
	sorts: map[string]func(a, b client.Connector) int{
		"name":           func(a, b client.Connector) int { return byFold(a.Name, b.Name) },
		"live":           func(a, b client.Connector) int { return byBool(!a.Live, !b.Live) }, // live ones first
		"created":        func(a, b client.Connector) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"created_by":     func(a, b client.Connector) int { return byFold(a.CreatedBy, b.CreatedBy) },
		"last_traffic":   func(a, b client.Connector) int { return byTime(a.LastTraffic, b.LastTraffic) },
		"messages_today": func(a, b client.Connector) int { return cmp.Compare(a.MessagesToday, b.MessagesToday) },
	},
}

var tokenList = listSpec[client.Token]{
	text: func(t client.Token) []string { return []string{t.Name, t.CreatedBy, t.LastUsedFrom} },
	sorts: map[string]func(a, b client.Token) int{
		"name":       func(a, b client.Token) int { return byFold(a.Name, b.Name) },
		"created":    func(a, b client.Token) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"created_by": func(a, b client.Token) int { return byFold(a.CreatedBy, b.CreatedBy) },
		"last_used":  func(a, b client.Token) int { return byTime(a.LastUsed, b.LastUsed) },
		"revoked":    func(a, b client.Token) int { return byBool(a.Revoked, b.Revoked) },
	},
}

var adminList = listSpec[client.Admin]{
	text: func(a client.Admin) []string { return []string{a.Email} },
	sorts: map[string]func(a, b client.Admin) int{
		"email":   func(a, b client.Admin) int { return byFold(a.Email, b.Email) },
		"created": func(a, b client.Admin) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"mfa":     func(a, b client.Admin) int { return byBool(a.TOTPEnabled, b.TOTPEnabled) },
		"last_sign_in": func(a, b client.Admin) int {
			return byTime(a.LastSignIn, b.LastSignIn)
		},
		"password_changed": func(a, b client.Admin) int { return a.PasswordChangedAt.Compare(b.PasswordChangedAt) },
	},
}

// The operator's global lists take the same ?q=, ?sort=, ?order=, ?limit=
// and ?offset= as a tenant's, and answer the same "total".

var tenantList = listSpec[client.Tenant]{
	text: func(t client.Tenant) []string { return []string{t.Name, strconv.FormatInt(t.ID, 10)} },
	sorts: map[string]func(a, b client.Tenant) int{
		"name":    func(a, b client.Tenant) int { return byFold(a.Name, b.Name) },
		"id":      func(a, b client.Tenant) int { return cmp.Compare(a.ID, b.ID) },
		"created": func(a, b client.Tenant) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"license": func(a, b client.Tenant) int { return cmp.Compare(a.Effective, b.Effective) },
	},
}

var unblockRequestList = listSpec[client.UnblockRequest]{
	text: func(u client.UnblockRequest) []string {
		return []string{u.Tenant, strconv.FormatInt(u.TenantID, 10), u.Cause, u.Fix, u.SubmittedBy, u.DecidedBy, u.Note}
	},
	sorts: map[string]func(a, b client.UnblockRequest) int{
		"submitted": func(a, b client.UnblockRequest) int { return a.SubmittedAt.Compare(b.SubmittedAt) },
		"tenant":    func(a, b client.UnblockRequest) int { return byFold(a.Tenant, b.Tenant) },
		"status":    func(a, b client.UnblockRequest) int { return cmp.Compare(a.Status, b.Status) },
	},
}

// blockList is a tenant's blocks and the operators' blocks of every tenant.
var blockList = listSpec[client.Block]{
	text: func(b client.Block) []string {
		out := []string{b.Tenant, strconv.FormatInt(b.TenantID, 10), b.Reason, b.Rule, b.ReleasedBy}
		for _, f := range b.Figures {
			out = append(out, f.Value)
		}
		return out
	},
	sorts: map[string]func(a, b client.Block) int{
		"created":  func(a, b client.Block) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"tenant":   func(a, b client.Block) int { return byFold(a.Tenant, b.Tenant) },
		"reason":   func(a, b client.Block) int { return cmp.Compare(a.Reason, b.Reason) },
		"released": func(a, b client.Block) int { return a.ReleasedAt.Compare(b.ReleasedAt) }, // live (never) first
	},
}
