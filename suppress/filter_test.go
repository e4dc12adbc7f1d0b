package suppress

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// Two nodes of a fleet on one database: an entry one node adds is refused
// by the other within the freshness interval (at once with SetFresh(0)),
// an entry removed on one is accepted again by both, and the filter that
// keeps most lookups off the database never answers "not suppressed" for
// an entry it has seen.
func TestFilterAcrossNodes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := twoNodes(t, db)
		b.SetFresh(200 * time.Millisecond)
		found := func(s *Store, tenant int64, addr string) bool {
			t.Helper()
			_, ok, err := s.Find(ctx, tenant, addr)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		// b loads its filter before a adds anything.
		if found(b, 7, "new@example.net") {
			t.Fatal("found on an empty list")
		}
		if _, _, err := a.Add(ctx, 7, "New@Example.net", HardBounce, "550 5.1.1", "system"); err != nil {
			t.Fatal(err)
		}
		if !found(a, 7, "new@example.net") {
			t.Fatal("the adding node does not see its own entry at once")
		}
		deadline := time.Now().Add(5 * time.Second)
		for !found(b, 7, "NEW@example.net") {
			if time.Now().After(deadline) {
				t.Fatal("the other node never saw the entry")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if found(b, 8, "new@example.net") {
			t.Fatal("another tenant's entry suppresses")
		}
		// A global entry holds for every tenant, on the other node too.
		b.SetFresh(0)
		if _, _, err := a.Add(ctx, Global, "trap@example.org", Manual, "", "admin:ops"); err != nil {
			t.Fatal(err)
		}
		if !found(b, 9, "trap@example.org") {
			t.Fatal("a global entry added on another node is not seen with SetFresh(0)")
		}
		if err := a.Remove(ctx, 7, "new@example.net", "admin:x"); err != nil {
			t.Fatal(err)
		}
		if found(a, 7, "new@example.net") || found(b, 7, "new@example.net") {
			t.Fatal("a removed entry still suppresses")
		}
	})
}

// Many entries, looked up by a node that did not add them: every one is
// found (the filter's refresh reads them all), and addresses on no list are
// not.
func TestFilterManyEntries(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := twoNodes(t, db)
		b.SetFresh(0)
		for i := range 300 {
			if _, _, err := a.Add(ctx, int64(1+i%3), fmt.Sprintf("user%d@example.net", i), HardBounce, "", "system"); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 300 {
			if _, ok, err := b.Find(ctx, int64(1+i%3), fmt.Sprintf("user%d@example.net", i)); err != nil || !ok {
				t.Fatalf("entry %d not found: %v", i, err)
			}
			if _, ok, _ := b.Find(ctx, int64(1+i%3), fmt.Sprintf("other%d@example.net", i)); ok {
				t.Fatalf("other%d found", i)
			}
		}
	})
}

// twoNodes opens two stores on one database, as two nodes of a fleet do.
func twoNodes(t *testing.T, db *store.DB) (a, b *Store) {
	t.Helper()
	var err error
	if a, err = Open(context.Background(), db, nil); err != nil {
		t.Fatal(err)
	}
	if b, err = Open(context.Background(), db, nil); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// BenchmarkFindMiss is the RCPT check's usual case: a recipient on no list,
// with 10,000 entries in the table.
func BenchmarkFindMiss(b *testing.B) {
	ctx := context.Background()
	db := storetest.SQLite(b)
	s, err := Open(ctx, db, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		if _, _, err := s.Add(ctx, int64(1+i%50), fmt.Sprintf("user%d@example.net", i), HardBounce, "", "system"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok, err := s.Find(ctx, 3, fmt.Sprintf("rcpt%d@example.com", i)); err != nil || ok {
			b.Fatal(ok, err)
		}
	}
}
