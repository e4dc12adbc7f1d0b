package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/tollgate-mail/tollgate/client"
)

// Tenant kinds: what each one's senders do.
const (
	kindConnector = "connector" // a tenant's own mail server, by source address
	kindAuth      = "auth"      // users signing in on the submission port
	kindLimited   = "limited"   // one sender pushing twice its per-minute limit
	kindSpam      = "spam"      // the compromised tenant
	kindList      = "list"      // a mailing list: many recipients, List-Id
)

// tenant is one soak tenant as the load generator uses it.
type tenant struct {
	name, domain, kind string
	id                 int64
	source             string   // connector address, for connector-sent mail
	users              []string // AUTH logins (password: userPassword)
}

const userPassword = "soak-password-0123456789"

// externalDomain is where the recipients live: no tenant's domain, so every
// recipient is external.
const externalDomain = "ext.soak.test"

// planTenants lays out the tenants: n ordinary ones (a third of them
// through AUTH, the rest through connectors) and the three special ones.
func planTenants(n int) []*tenant {
	var ts []*tenant
	for i := 1; i <= n; i++ {
		t := &tenant{name: fmt.Sprintf("t%02d", i), kind: kindConnector, source: fmt.Sprintf("127.0.1.%d", i)}
		if i%3 == 0 {
			t.kind = kindAuth
			t.users = []string{"alice@" + t.name + ".soak.test", "bob@" + t.name + ".soak.test"}
		}
		ts = append(ts, t)
	}
	ts = append(ts,
		&tenant{name: "limited", kind: kindLimited, source: "127.0.3.1"},
		&tenant{name: "spammer", kind: kindSpam, source: "127.0.3.2"},
		&tenant{name: "list", kind: kindList, source: "127.0.3.3"})
	for _, t := range ts {
		t.domain = t.name + ".soak.test"
	}
	return ts
}

// Limits the special tenants carry as overrides.
type limits struct {
	limitedPerMinute int64 // the limited tenant's user_messages_per_minute
	spamExternal     int64 // the compromised tenant's tenant_external_per_day
	spamPerHour      int64 // its user_spam_per_hour: spam verdicts before its connector is restricted
}

// createTenants creates every tenant through the admin API of one node,
// verifying its domain through the soak's DNS zone, the way an operator's
// customer does.
func createTenants(ctx context.Context, api *client.Client, z *zone, ts []*tenant, lim limits) error {
	for _, t := range ts {
		tn, err := api.CreateTenant(ctx, client.TenantCreate{Name: t.name, License: "licensed", Seats: 50})
		if err != nil {
			return fmt.Errorf("create tenant %s: %w", t.name, err)
		}
		t.id = tn.ID
		d, err := api.AddDomain(ctx, t.id, t.domain)
		if err != nil {
			return fmt.Errorf("add domain %s: %w", t.domain, err)
		}
		z.publish(t.domain, txtValue(d.Record))
		v, err := api.VerifyDomain(ctx, t.id, t.domain)
		if err != nil || !v.Verified {
			return fmt.Errorf("verify %s (published %q): %+v %v", t.domain, txtValue(d.Record), v, err)
		}
		if t.source != "" && t.kind != kindAuth {
			if _, err := api.CreateConnector(ctx, t.id, client.ConnectorCreate{Name: "mx", IPRanges: []string{t.source + "/32"}}); err != nil {
				return fmt.Errorf("connector for %s: %w", t.name, err)
			}
		}
		for _, u := range t.users {
			if _, err := api.CreateUser(ctx, t.id, client.UserCreate{Address: u, Password: userPassword}); err != nil {
				return fmt.Errorf("user %s: %w", u, err)
			}
		}
		var over map[string]any
		switch t.kind {
		case kindLimited:
			over = map[string]any{"user_messages_per_minute": lim.limitedPerMinute}
		case kindSpam:
			over = map[string]any{"tenant_external_per_day": lim.spamExternal, "user_spam_per_hour": lim.spamPerHour}
		}
		if over != nil {
			if err := api.Do(ctx, "PUT", fmt.Sprintf("/api/v1/tenants/%d/policy", t.id), over, nil); err != nil {
				return fmt.Errorf("policy of %s: %w", t.name, err)
			}
		}
	}
	return nil
}

// txtValue takes the TXT value out of the record the API shows, whether it
// is the bare value or a zone-file line.
func txtValue(record string) string {
	if i := strings.Index(record, "tollgate-verification="); i >= 0 {
		return strings.Trim(record[i:], `" `)
	}
	return record
}
