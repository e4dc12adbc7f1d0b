package api

import (
	"cmp"
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
