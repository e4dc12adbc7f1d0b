package gateway_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// forEachStore runs fn on a gateway config for each store: the embedded
// SQLite and PostgreSQL (skipped, saying why, when it cannot be reached).
func forEachStore(t *testing.T, smarthost string, fn func(t *testing.T, cfg *config.Config)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, testConfig(t, smarthost)) })
	t.Run("postgres", func(t *testing.T) {
		cfg := testConfig(t, smarthost)
		cfg.Store.PostgresDSN = storetest.PostgresDSN(t)
		fn(t, cfg)
	})
}

// apiErr is one answer of the admin API: the status and, for an error, its
// code and message.
type apiErr struct {
	status        int
	code, message string
	body          string
}

func apiDo(t *testing.T, g *gateway.Gateway, token, method, path string, body any) apiErr {
	t.Helper()
	status, b := apiRequest(t, g, token, method, path, body)
	var e struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(b, &e)
	return apiErr{status, e.Error.Code, e.Error.Message, string(b)}
}

func (a apiErr) want(t *testing.T, status int, code string, says ...string) {
	t.Helper()
	if a.status != status || a.code != code {
		t.Fatalf("answer %d %q, want %d %q: %s", a.status, a.code, status, code, a.body)
	}
	for _, s := range says {
		if !strings.Contains(a.message, s) {
			t.Errorf("message %q does not say %q", a.message, s)
		}
	}
}

func (a apiErr) wantNot(t *testing.T, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(a.body, s) {
			t.Errorf("answer reveals %q: %s", s, a.body)
		}
	}
}

// Issue 10, finding 1: a tenant admin could claim nearly all of IPv4 with
// one /8 connector after another. Now a tenant admin's connectors together
// stay within policy.connector_ipv4_addresses (4096) and
// connector_ipv6_64s (65536) unless an operator creates them or raises the
// tenant's cap, and a refused range relays nothing; an overlap with another
// tenant's connector does not say which range that tenant has.
func TestConnectorAddressSpaceCap(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	forEachStore(t, sink.Addr(), func(t *testing.T, cfg *config.Config) {
		g := start(t, cfg, false)
		alpha := seedTenantWithConnector(t, g, "alpha", "alpha.test", "127.255.0.2/32")
		beta := seedTenantWithConnector(t, g, "beta", "beta.test", "")
		tokA, tokB := tenantToken(t, g, alpha.ID), tenantToken(t, g, beta.ID)
		conns := func(id int64) string { return fmt.Sprintf("/api/v1/tenants/%d/connectors", id) }
		create := func(tok string, tenant int64, name string, ranges ...string) apiErr {
			return apiDo(t, g, tok, "POST", conns(tenant), map[string]any{"name": name, "ip_ranges": ranges})
		}

		// The attack: a /8-sized grab by a tenant admin is refused, with the
		// cap and the size asked for, and that space relays nothing.
		create(tokB, beta.ID, "grab", "127.0.0.0/9").want(t, 403, "connector_space_exceeded",
			"8388608 IPv4 addresses", "cap is 4096", "connector_ipv4_addresses", "operator")
		create(tokB, beta.ID, "grab6", "2001:db8::/32").want(t, 403, "connector_space_exceeded", "IPv6", "4294967296", "cap is 65536")
		c := dialFrom(t, "127.0.0.9", addr(g, "relay"))
		c.Mail("x@beta.test", nil)
		wantCode(t, c.Rcpt("someone@example.net", nil), 550, "5.7.64")

		// Within the cap: overlapping ranges of its own count once.
		create(tokB, beta.ID, "office", "127.0.1.0/24").want(t, 201, "")
		create(tokB, beta.ID, "site", "127.0.0.0/20").want(t, 201, "") // 4096 in all, the /24 inside
		create(tokB, beta.ID, "one-more", "127.0.16.1").want(t, 403, "connector_space_exceeded",
			"asks for 1 IPv4", "to 4097", "cover 4096 now", "cap is 4096")
		if err := relayFrom(t, g, "127.0.1.5", "x@beta.test", "inside the cap"); err != nil {
			t.Fatalf("mail through a connector within the cap: %v", err)
		}
		c = dialFrom(t, "127.0.16.1", addr(g, "relay"))
		c.Mail("x@beta.test", nil)
		wantCode(t, c.Rcpt("someone@example.net", nil), 550, "5.7.64")

		// Overlap with another tenant: the tenant admin learns only that.
		ov := create(tokA, alpha.ID, "steal", "127.0.1.128/25")
		ov.want(t, 409, "conflict", "127.0.1.128/25", "already in use by another tenant")
		ov.wantNot(t, "127.0.1.0/24", "127.0.0.0/20", "beta", fmt.Sprintf("tenant %d", beta.ID))
		// An operator is told whose range it is.
		create(g.AdminToken, alpha.ID, "steal", "127.0.1.128/25").want(t, 409, "conflict", fmt.Sprintf("tenant %d", beta.ID), "127.0.")

		// An operator's connector may go past the cap (the operator is the
		// approval); the tenant may then add ranges inside it, not beyond.
		create(g.AdminToken, beta.ID, "approved", "127.128.0.0/10").want(t, 201, "")
		create(tokB, beta.ID, "inside", "127.128.1.0/24").want(t, 201, "")
		create(tokB, beta.ID, "beyond", "127.64.0.0/24").want(t, 403, "connector_space_exceeded")
		// A tenant admin cannot raise its own cap; an operator can.
		policy := fmt.Sprintf("/api/v1/tenants/%d/policy", beta.ID)
		if a := apiDo(t, g, tokB, "PUT", policy, map[string]any{"connector_ipv4_addresses": 1 << 24}); a.status != 403 && a.status != 404 {
			t.Fatalf("a tenant admin set its own cap: %s", a.body)
		}
		apiDo(t, g, g.AdminToken, "PUT", policy, map[string]any{"connector_ipv4_addresses": 1 << 24}).want(t, 200, "")
		create(tokB, beta.ID, "raised", "127.64.0.0/11").want(t, 201, "")
		if err := relayFrom(t, g, "127.64.0.1", "x@beta.test", "raised cap"); err != nil {
			t.Fatalf("mail through a connector under the raised cap: %v", err)
		}
		if a := apiDo(t, g, tokB, "GET", policy, nil); !strings.Contains(a.body, `"connector_ipv4_addresses": 16777216`) {
			t.Errorf("the tenant's policy does not show its cap: %s", a.body)
		}
		create(tokB, beta.ID, "too-far", "10.0.0.0/8").want(t, 403, "connector_space_exceeded", "cap is 16777216")
	})
}

// Issue 10, finding 10: a tenant admin adds admins only at the tenant's
// verified accepted domains, and an email taken elsewhere gets a generic
// refusal that does not say an admin has it. Operators are free.
func TestAdminEmailsTiedToTenantDomains(t *testing.T) {
	forEachStore(t, "127.0.0.1:1", func(t *testing.T, cfg *config.Config) {
		g := start(t, cfg, false)
		alpha := seedTenantWithConnector(t, g, "alpha", "alpha.test", "")
		beta := seedTenantWithConnector(t, g, "beta", "beta.test", "")
		if _, err := g.Directory.AddDomain(t.Context(), directory.By{}, alpha.ID, "pending.test"); err != nil {
			t.Fatal(err)
		}
		tokA := tenantToken(t, g, alpha.ID)
		admins := func(id int64) string { return fmt.Sprintf("/api/v1/tenants/%d/admins", id) }
		add := func(tok string, tenant int64, email string) apiErr {
			return apiDo(t, g, tok, "POST", admins(tenant), map[string]any{"email": email, "password": "a long admin password"})
		}

		add(tokA, alpha.ID, "second@Alpha.Test").want(t, 201, "")
		add(tokA, alpha.ID, "x@pending.test").want(t, 400, "invalid", "verified accepted domains (alpha.test)", "pending.test is not one")
		add(tokA, alpha.ID, "ceo@beta.test").want(t, 400, "invalid", "beta.test is not one")
		add(tokA, alpha.ID, "someone@gmail.test").want(t, 400, "invalid", "ask an operator")
		// Operators may use any address, for any tenant.
		add(g.AdminToken, alpha.ID, "contractor@elsewhere.test").want(t, 201, "")
		add(g.AdminToken, beta.ID, "boss@beta.test").want(t, 201, "")
		add(g.AdminToken, beta.ID, "ghost@alpha.test").want(t, 201, "")

		// Taken by beta's admin, or by alpha's own: one generic answer.
		elsewhere := add(tokA, alpha.ID, "ghost@alpha.test")
		elsewhere.want(t, 409, "conflict", "cannot be used")
		elsewhere.wantNot(t, "exists", "another tenant", "beta")
		own := add(tokA, alpha.ID, "second@alpha.test")
		own.want(t, 409, "conflict")
		if own.message != elsewhere.message {
			t.Errorf("a taken email's answer differs by where it is taken: %q and %q", own.message, elsewhere.message)
		}
		// Operators are told.
		add(g.AdminToken, alpha.ID, "ghost@alpha.test").want(t, 409, "conflict", "exists")
	})
}
