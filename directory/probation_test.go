package directory

import "testing"

func TestConnectorProbation(t *testing.T) { forEachDir(t, testConnectorProbation) }

func testConnectorProbation(t *testing.T, d *Directory) {
	ctx := t.Context()
	tn := tenantWithDomain(t, d, "acme", "acme.test")
	c := must[Connector](t)(d.CreateConnector(ctx, By{Actor: "test"}, tn.ID, "onprem", prefixes("192.0.2.0/24")))
	if !c.ConfirmedAt.IsZero() {
		t.Fatal("a new connector must start on probation")
	}
	for i := 0; i < 3; i++ {
		d.NoteConnectorTraffic(c.ID)
	}
	if n := d.MessagesToday(c.ID); n != 3 {
		t.Fatalf("today before flush: %d", n)
	}
	if err := d.FlushTraffic(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.reload(ctx); err != nil {
		t.Fatal(err)
	}
	d.NoteConnectorTraffic(c.ID)
	if n := d.MessagesToday(c.ID); n != 4 {
		t.Fatalf("today after flush: %d", n)
	}
	got := must[Connector](t)(d.ConfirmConnector(ctx, By{Actor: "admin:boss@acme.test"}, tn.ID, c.ID))
	if got.ConfirmedAt.IsZero() || got.ConfirmedBy != "admin:boss@acme.test" {
		t.Fatalf("confirmed: %+v", got)
	}
	// Idempotent; another tenant's id or a deleted one is not found.
	must[Connector](t)(d.ConfirmConnector(ctx, By{Actor: "someone else"}, tn.ID, c.ID))
	other := tenantWithDomain(t, d, "other", "other.test")
	_, err := d.ConfirmConnector(ctx, By{Actor: "x"}, other.ID, c.ID)
	wantErr(t, err, ErrNotFound)
	// The dev seed's connector is confirmed.
	must[string](t)(d.SeedDev(ctx))
	demo := must[Tenant](t)(d.TenantByName(ctx, DemoTenant))
	cs := must[[]Connector](t)(d.Connectors(ctx, demo.ID))
	if len(cs) != 1 || cs[0].ConfirmedAt.IsZero() {
		t.Fatalf("seeded connector %+v", cs)
	}
}
