package directory

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// Conformance tests for a fleet: several nodes (Directory and store.DB
// pairs) on one database, racing. Every test here runs on both stores.

// twoNodes opens two Directories on one store, as two Tollgate nodes.
func twoNodes(t *testing.T, db *store.DB) [2]*Directory {
	return [2]*Directory{openDir(t, db), openDir(t, storetest.Reopen(t, db))}
}

// race runs n calls of fn at once (released together) and returns their
// errors by index.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one call succeeded and every other failed
// with ErrConflict (not a raw constraint or lock error), and returns the
// winner's index.
func oneWinner(t *testing.T, what string, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner < 0:
			winner = i
		case err == nil:
			t.Fatalf("%s: calls %d and %d both succeeded", what, winner, i)
		case !errors.Is(err, ErrConflict):
			t.Fatalf("%s: call %d: %v, want ErrConflict", what, i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: nobody won: %v", what, errs)
	}
	return winner
}

// licensedTenants creates n licensed tenants, t0 to t<n-1>, on d.
func licensedTenants(t *testing.T, d *Directory, n int) []Tenant {
	var tenants []Tenant
	for i := range n {
		tenants = append(tenants, must[Tenant](t)(d.CreateTenant(t.Context(), By{}, fmt.Sprint("t", i), Licensed, 1)))
	}
	return tenants
}

// Tenants on two nodes verifying one domain at once: one wins, the others
// get ErrConflict, and one verified row exists.
func TestConcurrentVerifySameDomain(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *store.DB) {
		nodes := twoNodes(t, db)
		ctx := t.Context()
		const n = 6
		tenants := licensedTenants(t, nodes[0], n)
		for round := range 4 {
			name := fmt.Sprintf("contested-%d.example", round)
			for _, tn := range tenants {
				must[Domain](t)(nodes[0].AddDomain(ctx, By{}, tn.ID, name))
			}
			errs := race(n, func(i int) error { return nodes[i%2].MarkDomainVerified(ctx, By{}, tenants[i].ID, name) })
			w := oneWinner(t, "verify "+name, errs)
			var rows int
			if err := db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM domains WHERE name = $1 AND verified`, name).Scan(&rows); err != nil || rows != 1 {
				t.Fatalf("%s: %d verified rows (%v), want 1", name, rows, err)
			}
			if !nodes[w%2].IsVerifiedDomain(tenants[w].ID, name) {
				t.Fatalf("%s: winner's node does not see it verified", name)
			}
		}
	})
}

// Tenants on two nodes claiming overlapping IP ranges at once: one gets
// its connector, the others ErrConflict, and no live ranges of two tenants
// overlap afterwards.
func TestConcurrentConnectorOverlap(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *store.DB) {
		nodes := twoNodes(t, db)
		ctx := t.Context()
		const n = 6
		tenants := licensedTenants(t, nodes[0], n)
		for round := range 4 {
			errs := race(n, func(i int) error {
				// All contain 10.<round>.0.1, none is equal to another.
				r := prefixes(fmt.Sprintf("10.%d.0.0/%d", round, 16+i), fmt.Sprintf("2001:db8:%d::/%d", round, 48+i))
				_, err := nodes[i%2].CreateConnector(ctx, By{Actor: "admin"}, tenants[i].ID, fmt.Sprint("c", round), r)
				return err
			})
			oneWinner(t, fmt.Sprint("round ", round), errs)
		}
		var live []Connector
		for _, tn := range tenants {
			for _, c := range must[[]Connector](t)(nodes[1].Connectors(ctx, tn.ID)) {
				if c.Live() {
					live = append(live, c)
				}
			}
		}
		for i, a := range live {
			for _, b := range live[i+1:] {
				for _, p := range a.IPRanges {
					for _, q := range b.IPRanges {
						if a.TenantID != b.TenantID && p.Overlaps(q) {
							t.Fatalf("tenants %d and %d both hold %s and %s", a.TenantID, b.TenantID, p, q)
						}
					}
				}
			}
		}
	})
}

// Creating the same name on two nodes at once ends in one row and clean
// ErrConflicts, for every kind of named thing.
func TestConcurrentCreateSameName(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *store.DB) {
		nodes := twoNodes(t, db)
		ctx := t.Context()
		const n = 6
		oneWinner(t, "tenant", race(n, func(i int) error {
			_, err := nodes[i%2].CreateTenant(ctx, By{}, "same", Trial, 0)
			return err
		}))
		tn := tenantWithDomain(t, nodes[0], "owner", "owner.example")
		oneWinner(t, "domain", race(n, func(i int) error {
			_, err := nodes[i%2].AddDomain(ctx, By{}, tn.ID, "new.example")
			return err
		}))
		oneWinner(t, "user", race(n, func(i int) error {
			_, err := nodes[i%2].CreateUser(ctx, By{}, tn.ID, "same@owner.example", "longenough")
			return err
		}))
		oneWinner(t, "connector", race(n, func(i int) error {
			_, err := nodes[i%2].CreateConnector(ctx, By{Actor: "admin"}, tn.ID, "same", prefixes(fmt.Sprintf("192.0.2.%d/32", i)))
			return err
		}))
	})
}

// A change that fails half-way leaves nothing behind: here the second
// range of a connector is refused by a trigger after the connector row and
// its first range were written.
func TestFailedChangeLeavesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *store.DB) {
		d := openDir(t, db)
		ctx := t.Context()
		tn := must[Tenant](t)(d.CreateTenant(ctx, By{}, "a", Licensed, 1))
		trigger := map[string][]string{
			store.SQLite: {`CREATE TRIGGER fail_range BEFORE INSERT ON connector_ranges
				WHEN NEW.prefix = '203.0.113.0/24' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`},
			store.Postgres: {`CREATE FUNCTION fail_range() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN IF NEW.prefix = '203.0.113.0/24' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`,
				`CREATE TRIGGER fail_range BEFORE INSERT ON connector_ranges FOR EACH ROW EXECUTE FUNCTION fail_range()`},
		}
		for _, q := range trigger[db.Dialect] {
			if _, err := db.Write.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		ranges := prefixes("198.51.100.0/24", "203.0.113.0/24") // inserted in this order
		if _, err := d.CreateConnector(ctx, By{Actor: "admin"}, tn.ID, "office", ranges); err == nil {
			t.Fatal("CreateConnector succeeded despite the trigger")
		}
		var conns, rs int
		db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM connectors`).Scan(&conns)
		db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM connector_ranges`).Scan(&rs)
		if conns != 0 || rs != 0 {
			t.Fatalf("after the failure: %d connectors, %d ranges; want none", conns, rs)
		}
		if _, _, ok := d.ConnectorForIP(netip.MustParseAddr("198.51.100.1")); ok {
			t.Fatal("half-written connector matches")
		}
		if _, err := db.Write.ExecContext(ctx, `DROP TRIGGER fail_range`+map[string]string{store.Postgres: ` ON connector_ranges`}[db.Dialect]); err != nil {
			t.Fatal(err)
		}
		c := must[Connector](t)(d.CreateConnector(ctx, By{Actor: "admin"}, tn.ID, "office", ranges))
		if got, _, ok := d.ConnectorForIP(netip.MustParseAddr("203.0.113.9")); !ok || got.ID != c.ID {
			t.Fatal("connector not usable after the retry")
		}
	})
}
