package directory

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// Changes made by another node (here: a second Directory and store.DB on the
// same SQLite file or PostgreSQL schema) reach this node's snapshot within
// the refresh interval.
func TestSnapshotRefreshSeesOtherNode(t *testing.T) {
	forEachStore(t, testSnapshotRefreshSeesOtherNode)
}

func testSnapshotRefreshSeesOtherNode(t *testing.T, db *store.DB) {
	writer := openDir(t, db)
	reader := openDir(t, storetest.Reopen(t, db), WithRefreshInterval(20*time.Millisecond))
	ctx := t.Context()
	ip := netip.MustParseAddr("192.0.2.10")

	tn := tenantWithDomain(t, writer, "a", "a.example")
	c := must[Connector](t)(writer.CreateConnector(ctx, By{Actor: "me"}, tn.ID, "x", prefixes("192.0.2.0/24")))
	eventually(t, "the other node's connector", func() bool {
		got, gotT, ok := reader.ConnectorForIP(ip)
		return ok && got.ID == c.ID && gotT.Name == "a"
	})
	if !reader.IsVerifiedDomain(tn.ID, "a.example") {
		t.Fatal("verified domain not in refreshed snapshot")
	}
	if err := writer.DeleteConnector(ctx, By{}, tn.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion", func() bool {
		_, _, ok := reader.ConnectorForIP(ip)
		return !ok
	})
}

// A refresh that finds nothing changed keeps the snapshot; one that finds
// only connectors changed (their traffic counts) reloads the connectors and
// keeps the tenants; a tenant or domain change, even by another node,
// reloads everything.
func TestSnapshotReloadsOnlyWhatChanged(t *testing.T) {
	forEachStore(t, testSnapshotReloadsOnlyWhatChanged)
}

func testSnapshotReloadsOnlyWhatChanged(t *testing.T, db *store.DB) {
	d := openDir(t, db, WithRefreshInterval(time.Hour))
	other := openDir(t, storetest.Reopen(t, db), WithRefreshInterval(time.Hour))
	ctx := t.Context()
	tn := tenantWithDomain(t, d, "a", "a.example")
	c := must[Connector](t)(d.CreateConnector(ctx, By{Actor: "me"}, tn.ID, "x", prefixes("192.0.2.0/24")))

	before := d.snap.Load()
	if err := d.reload(ctx); err != nil {
		t.Fatal(err)
	}
	if d.snap.Load() != before {
		t.Fatal("a refresh with nothing changed loaded a new snapshot")
	}

	d.NoteConnectorTraffic(c.ID)
	if err := d.FlushTraffic(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.reload(ctx); err != nil {
		t.Fatal(err)
	}
	after := d.snap.Load()
	if after == before || after.byID[c.ID].MessagesToday != 1 {
		t.Fatalf("connector traffic not reloaded: %+v", after.byID[c.ID])
	}
	if reflect.ValueOf(after.tenants).Pointer() != reflect.ValueOf(before.tenants).Pointer() {
		t.Fatal("a connector-only change reloaded the tenants")
	}

	// Another node adds a tenant: the next refresh here loads everything.
	tenantWithDomain(t, other, "b", "b.example")
	if err := d.reload(ctx); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range d.snap.Load().tenants {
		found = found || x.Name == "b"
	}
	if !found || !d.IsVerifiedDomain(d.snapTenantID("b"), "b.example") {
		t.Fatal("the other node's tenant and domain are not in the snapshot")
	}
}

func (d *Directory) snapTenantID(name string) int64 {
	for id, x := range d.snap.Load().tenants {
		if x.Name == name {
			return id
		}
	}
	return 0
}

// A reload that fails keeps the last good snapshot and returns the error;
// it never leaves a nil snapshot behind (the refresher would panic).
func TestSnapshotReloadFailureKeepsSnapshot(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *store.DB) {
		d := openDir(t, db, WithRefreshInterval(time.Hour))
		tenantWithDomain(t, d, "a", "a.example")
		// A stored range that cannot be parsed makes the full load fail,
		// as a database blip would.
		tn := tenantWithDomain(t, d, "b", "b.example")
		c := must[Connector](t)(d.CreateConnector(t.Context(), By{Actor: "me"}, tn.ID, "x", prefixes("192.0.2.0/24")))
		before := d.snap.Load()
		if _, err := db.Write.ExecContext(t.Context(), `INSERT INTO connector_ranges (connector_id, prefix) VALUES ($1, 'garbage')`, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write.ExecContext(t.Context(), `UPDATE snapshot_versions SET version = version + 1 WHERE name = 'tenants'`); err != nil {
			t.Fatal(err)
		}
		if err := d.reload(t.Context()); err == nil {
			t.Fatal("a reload over a corrupt range succeeded")
		}
		if got := d.snap.Load(); got != before {
			t.Fatal("a failed reload replaced the snapshot")
		}
		if _, err := db.Write.ExecContext(t.Context(), `DELETE FROM connector_ranges WHERE prefix = 'garbage'`); err != nil {
			t.Fatal(err)
		}
		if err := d.reload(t.Context()); err != nil {
			t.Fatal(err)
		}
		if d.snap.Load() == nil || d.snapTenantID("b") == 0 {
			t.Fatal("the next reload did not recover")
		}
	})
}
