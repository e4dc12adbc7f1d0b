package gateway_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
)

// A block's evidence of directory changes comes from the audit log: the
// rogue connector created by the token that made it (not its record's
// creator only), the seeded one deleted by the actor who deleted it, and
// the token's creation and use, each with its source address.
func TestBlockEvidenceFromAuditLog(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := startWith(t, protectConfig(t, sink.Addr()), false, gateway.Options{Classifier: subjectClassifier})
	ctx := context.Background()
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "")
	local, err := g.Directory.CreateConnector(ctx, directory.By{Actor: "seed"}, acme.ID, "local", []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")})
	if err != nil {
		t.Fatal(err)
	}
	var bot struct {
		ID    int64
		Token string
	}
	if code := apiCall(t, g, g.AdminToken, "POST", "/api/v1/tokens", map[string]any{"name": "deploy-bot", "tenant_id": acme.ID}, &bot); code != 201 {
		t.Fatalf("create token: %d", code)
	}
	var rogue directory.Connector
	if code := apiCall(t, g, bot.Token, "POST", fmt.Sprintf("/api/v1/tenants/%d/connectors", acme.ID),
		map[string]any{"name": "relay-x", "ip_ranges": []string{"127.0.0.5/32"}}, &rogue); code != 201 {
		t.Fatalf("create connector: %d", code)
	}
	if code := apiCall(t, g, g.AdminToken, "DELETE", fmt.Sprintf("/api/v1/tenants/%d/connectors/%d", acme.ID, local.ID), nil, nil); code != 204 {
		t.Fatalf("delete connector: %d", code)
	}
	for i := range 5 {
		_ = relayFrom(t, g, "127.0.0.5", "mallory@acme.test", fmt.Sprintf("[spam] win big %d", i))
	}
	b, ok := g.Blocks.ActiveBlock(acme.ID)
	if !ok {
		t.Fatal("not blocked after 5 spams")
	}
	var created, deleted, seeded *blocks.ConnectorEvent
	for i, c := range b.Evidence.RecentConnectors {
		switch {
		case c.Name == "relay-x" && c.Event == "created":
			created = &b.Evidence.RecentConnectors[i]
		case c.Name == "local" && c.Event == "deleted":
			deleted = &b.Evidence.RecentConnectors[i]
		case c.Name == "local" && c.Event == "created":
			seeded = &b.Evidence.RecentConnectors[i]
		}
	}
	if created == nil || created.Actor() != "token:deploy-bot" || created.SourceIP != "127.0.0.1" || created.AuditID == 0 {
		t.Errorf("relay-x's creation: %+v in %+v", created, b.Evidence.RecentConnectors)
	}
	if deleted == nil || deleted.Actor() != "token:bootstrap" || deleted.AuditID == 0 {
		t.Errorf("local's deletion: %+v in %+v (the deleter, as the audit log says)", deleted, b.Evidence.RecentConnectors)
	}
	if seeded == nil || seeded.Actor() != "seed" || seeded.AuditID != 0 {
		t.Errorf("local's creation outside the API: %+v", seeded)
	}
	var tokCreate, tokUse bool
	for _, a := range b.Evidence.RecentAccess {
		if a.Action == "token.create" && a.Name == "deploy-bot" && a.By == "token:bootstrap" && a.Target == fmt.Sprintf("token:%d", bot.ID) {
			tokCreate = true
		}
		if a.Action == "token.use" && a.By == "token:deploy-bot" && a.SourceIP == "127.0.0.1" {
			tokUse = true
		}
	}
	if !tokCreate || !tokUse {
		t.Errorf("access evidence (token created %v, used %v): %+v", tokCreate, tokUse, b.Evidence.RecentAccess)
	}
}

// The README's dev-mode refusal: the seeded connector covers 127.0.0.1, so
// a client on 127.0.0.2 is unattributed and refused with 5.7.64, while
// 127.0.0.1 relays.
func TestDevSeedRefusesOtherLoopback(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := start(t, testConfig(t, sink.Addr()), true)
	c := dialFrom(t, "127.0.0.2", addr(g, "relay"))
	err := send(c, "a@demo.test", []string{"someone@example.net"}, testMessage("hi", "refused"))
	wantCode(t, err, 550, "5.7.64")
	ok := dialFrom(t, "127.0.0.1", addr(g, "relay"))
	if err := send(ok, "a@demo.test", []string{"someone@example.net"}, testMessage("hi", "relayed")); err != nil {
		t.Fatalf("from 127.0.0.1: %v", err)
	}
}
