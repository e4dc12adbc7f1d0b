package gateway_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// Two nodes share PostgreSQL: a connector created on one attributes mail on
// the other within the refresh interval, deleting it stops that on both, and
// the audit log is one log. Each node keeps its own spool.
func TestFleetSharesDirectory(t *testing.T) {
	dsn := storetest.PostgresDSN(t) // skips, naming the server, when PostgreSQL is unreachable
	sink := startSink(t, devsink.Hooks{})
	cfgA, cfgB := testConfig(t, sink.Addr()), testConfig(t, sink.Addr())
	cfgA.Store.PostgresDSN, cfgB.Store.PostgresDSN = dsn, dsn
	a := start(t, cfgA, false)
	b := start(t, cfgB, false)
	ctx := context.Background()

	tn, err := a.Directory.CreateTenant(ctx, directory.By{}, "acme", directory.Licensed, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Directory.AddDomain(ctx, directory.By{}, tn.ID, "acme.test"); err != nil {
		t.Fatal(err)
	}
	if err := a.Directory.MarkDomainVerified(ctx, directory.By{}, tn.ID, "acme.test"); err != nil {
		t.Fatal(err)
	}
	c, err := a.Directory.CreateConnector(ctx, directory.By{Actor: "test"}, tn.ID, "onprem", []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Audit.Append(ctx, audit.Entry{Actor: "test", TenantID: tn.ID, Action: "connector.create", Target: "connector:1"}); err != nil {
		t.Fatal(err)
	}

	// Node B sees the connector once its snapshot refreshes.
	waitUntil(t, "node B attributes 127.0.0.2", func() bool {
		_, _, ok := b.Directory.ConnectorForIP(netip.MustParseAddr("127.0.0.2"))
		return ok
	})
	cl := dialFrom(t, "127.0.0.2", addr(b, "relay"))
	if err := send(cl, "a@acme.test", []string{"x@example.net"}, testMessage("via B", "fleet")); err != nil {
		t.Fatalf("node B refused a connector created on node A: %v", err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatal("message through node B did not arrive")
	}
	// One audit log for the fleet.
	if got, err := b.Audit.Query(ctx, audit.Filter{Action: "connector.create"}); err != nil || len(got) != 1 {
		t.Fatalf("node B's view of the audit log: %v %v", got, err)
	}
	// Deleting on A stops attribution on B.
	if err := a.Directory.DeleteConnector(ctx, directory.By{}, tn.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "node B drops the deleted connector", func() bool {
		_, _, ok := b.Directory.ConnectorForIP(netip.MustParseAddr("127.0.0.2"))
		return !ok
	})
	cl2 := dialFrom(t, "127.0.0.2", addr(b, "relay"))
	cl2.Mail("a@acme.test", nil)
	wantCode(t, cl2.Rcpt("x@example.net", nil), 550, "5.7.64")
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
