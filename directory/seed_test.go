package directory

import (
	"net/netip"
	"testing"
)

func TestSeedDev(t *testing.T) {
	forEachDir(t, testSeedDev)
}

func testSeedDev(t *testing.T, d *Directory) {
	ctx := t.Context()
	pw, err := d.SeedDev(ctx)
	if err != nil || len(pw) < 16 {
		t.Fatalf("SeedDev = %q, %v", pw, err)
	}
	u, tn, err := d.Authenticate(ctx, DemoUser, pw)
	if err != nil || tn.Name != DemoTenant || tn.License != Trial || u.Address != DemoUser {
		t.Fatalf("Authenticate demo user = %+v %+v %v", u, tn, err)
	}
	for _, ip := range []string{"127.0.0.1", "::1"} {
		c, ct, ok := d.ConnectorForIP(netip.MustParseAddr(ip))
		if !ok || c.Name != DemoConnector || c.CreatedBy != "seed" || ct.ID != tn.ID {
			t.Fatalf("%s: %+v %+v %v", ip, c, ct, ok)
		}
	}
	// Other loopback addresses are not covered: the README's 5.7.64 example.
	if c, _, ok := d.ConnectorForIP(netip.MustParseAddr("127.0.0.2")); ok {
		t.Fatalf("127.0.0.2 is attributed to %+v", c)
	}
	if !d.IsVerifiedDomain(tn.ID, DemoDomain) {
		t.Fatal("demo domain not verified")
	}

	again, err := d.SeedDev(ctx)
	if err != nil || again != "" {
		t.Fatalf("second SeedDev = %q, %v; want \"\", nil", again, err)
	}
	if _, _, err := d.Authenticate(ctx, DemoUser, pw); err != nil {
		t.Fatal("password changed by second seed:", err)
	}
	doms := must[[]Domain](t)(d.Domains(ctx, tn.ID))
	conns := must[[]Connector](t)(d.Connectors(ctx, tn.ID))
	if len(doms) != 1 || len(conns) != 1 {
		t.Fatalf("after two seeds: %d domains, %d connectors", len(doms), len(conns))
	}
}
