package directory

import (
	"net/netip"
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
	c := must[Connector](t)(writer.CreateConnector(ctx, tn.ID, "x", prefixes("192.0.2.0/24"), "me"))
	eventually(t, "the other node's connector", func() bool {
		got, gotT, ok := reader.ConnectorForIP(ip)
		return ok && got.ID == c.ID && gotT.Name == "a"
	})
	if !reader.IsVerifiedDomain(tn.ID, "a.example") {
		t.Fatal("verified domain not in refreshed snapshot")
	}
	if err := writer.DeleteConnector(ctx, tn.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion", func() bool {
		_, _, ok := reader.ConnectorForIP(ip)
		return !ok
	})
}
