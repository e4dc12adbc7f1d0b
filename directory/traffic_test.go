package directory

import (
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
)

// Traffic through a connector is counted, survives its deletion, and is
// written out on Close.
func TestConnectorTraffic(t *testing.T) { forEachStore(t, testConnectorTraffic) }

func testConnectorTraffic(t *testing.T, db *store.DB) {
	ctx := t.Context()
	d := openDir(t, db)
	tn := tenantWithDomain(t, d, "acme", "acme.test")
	c := must[Connector](t)(d.CreateConnector(ctx, By{Actor: "test"}, tn.ID, "onprem", prefixes("192.0.2.0/24")))
	before := time.Now()
	for i := 0; i < 3; i++ {
		d.NoteConnectorTraffic(c.ID)
	}
	if err := d.FlushTraffic(ctx); err != nil {
		t.Fatal(err)
	}
	d.NoteConnectorTraffic(c.ID)
	if err := d.DeleteConnector(ctx, By{}, tn.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	d.Close() // flushes the fourth
	d2 := openDir(t, db)
	cs := must[[]Connector](t)(d2.Connectors(ctx, tn.ID))
	if len(cs) != 1 || cs[0].Live() || cs[0].Messages != 4 || cs[0].LastTraffic.Before(before.Add(-time.Second)) {
		t.Fatalf("connector after traffic and deletion: %+v", cs)
	}
}
