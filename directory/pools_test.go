package directory

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// Pool assignments on tenants and connectors: unset by default, refused
// for a bad name or another tenant's connector, audited in the change's
// transaction, and seen by another node's snapshot.
func TestPools(t *testing.T) { forEachStore(t, testPools) }

func testPools(t *testing.T, db *store.DB) {
	ctx := t.Context()
	d := openDir(t, db)
	other := openDir(t, storetest.Reopen(t, db), WithRefreshInterval(20*time.Millisecond))
	log, err := audit.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	by := By{Actor: "admin:op", Audit: log}
	a := tenantWithDomain(t, d, "a", "a.example")
	b := tenantWithDomain(t, d, "b", "b.example")
	ca := must[Connector](t)(d.CreateConnector(ctx, by, a.ID, "office", []netip.Prefix{netip.MustParsePrefix("192.0.2.0/28")}))
	cb := must[Connector](t)(d.CreateConnector(ctx, by, b.ID, "office", []netip.Prefix{netip.MustParsePrefix("198.51.100.0/28")}))
	if a.Pool != "" || ca.Pool != "" {
		t.Fatalf("new tenant pool %q, connector pool %q, want none", a.Pool, ca.Pool)
	}

	_, _, err = d.SetTenantPool(ctx, by, a.ID, "Acme Pool")
	wantErr(t, err, ErrInvalid, "Acme Pool")
	_, _, err = d.SetTenantPool(ctx, by, b.ID+100, "acme")
	wantErr(t, err, ErrNotFound)
	before, after, err := d.SetTenantPool(ctx, by, a.ID, "acme")
	if err != nil || before.Pool != "" || after.Pool != "acme" {
		t.Fatalf("set tenant pool: %v %q → %q", err, before.Pool, after.Pool)
	}
	if got := must[Tenant](t)(d.Tenant(ctx, a.ID)); got.Pool != "acme" {
		t.Fatalf("stored tenant pool %q", got.Pool)
	}
	eventually(t, "the other node's snapshot of the tenant", func() bool {
		got, _ := other.SnapshotTenant(a.ID)
		return got.Pool == "acme"
	})

	// Tenant a cannot touch b's connector through its own tenant id.
	_, _, err = d.SetConnectorPool(ctx, by, a.ID, cb.ID, "acme")
	wantErr(t, err, ErrNotFound)
	_, _, err = d.SetConnectorPool(ctx, by, a.ID, ca.ID, "x_y")
	wantErr(t, err, ErrInvalid, "x_y")
	if _, after, err := d.SetConnectorPool(ctx, by, a.ID, ca.ID, "office-ips"); err != nil || after.Pool != "office-ips" {
		t.Fatalf("set connector pool: %v %+v", err, after)
	}
	eventually(t, "the other node's snapshot of the connector", func() bool {
		c, _, ok := other.ConnectorForIP(netip.MustParseAddr("192.0.2.3"))
		return ok && c.Pool == "office-ips"
	})
	if c, _, _ := other.ConnectorForIP(netip.MustParseAddr("198.51.100.3")); c.Pool != "" {
		t.Fatalf("the other tenant's connector got pool %q", c.Pool)
	}
	if _, after, err := d.SetConnectorPool(ctx, by, a.ID, ca.ID, ""); err != nil || after.Pool != "" {
		t.Fatalf("clear connector pool: %v %+v", err, after)
	}
	// Setting the same pool again is no change and leaves no entry.
	if _, _, err := d.SetTenantPool(ctx, by, a.ID, "acme"); err != nil {
		t.Fatal(err)
	}

	entries, err := log.Query(ctx, audit.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var pools []string
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Action != "tenant.pool" && e.Action != "connector.pool" {
			continue
		}
		var v struct{ Pool string }
		if err := json.Unmarshal(e.After, &v); err != nil {
			t.Fatal(err)
		}
		pools = append(pools, e.Action+"="+v.Pool)
		if e.TenantID != a.ID {
			t.Errorf("%s entry for tenant %d, want %d", e.Action, e.TenantID, a.ID)
		}
	}
	if got, want := len(pools), 3; got != want || pools[0] != "tenant.pool=acme" || pools[1] != "connector.pool=office-ips" || pools[2] != "connector.pool=" {
		t.Fatalf("pool audit entries %v", pools)
	}
}
