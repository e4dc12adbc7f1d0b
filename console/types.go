package console

import "github.com/tollgate-mail/tollgate/client"

// The API's wire types, from the one package that defines them (the
// console calls the API handler in-process and decodes what it answers).
type (
	tenant      = client.Tenant
	domain      = client.Domain
	user        = client.User
	auditEntry  = client.AuditEntry
	appPassword = client.AppPassword
)

// connector is the API's connector with what the console adds.
type connector struct {
	client.Connector
	// New is set by the console: created in the last day, or just now.
	New bool `json:"-"`
}
