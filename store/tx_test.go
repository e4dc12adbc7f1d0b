package store_test

import (
	"database/sql"
	"sync"
	"testing"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// Lock makes read-then-write sequences from two nodes safe: without it,
// READ COMMITTED on PostgreSQL loses increments here.
func TestLockSerialisesReadThenWrite(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		if _, err := db.Write.Exec("CREATE TABLE k (v BIGINT NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write.Exec("INSERT INTO k (v) VALUES (0)"); err != nil {
			t.Fatal(err)
		}
		nodes := []*store.DB{db, storetest.Reopen(t, db)}
		const workers, each = 8, 10
		var wg sync.WaitGroup
		for i := range workers {
			node := nodes[i%2]
			wg.Go(func() {
				for range each {
					err := node.Tx(ctx, func(tx *sql.Tx) error {
						if err := node.Lock(ctx, tx, "counter"); err != nil {
							return err
						}
						var v int64
						if err := tx.QueryRowContext(ctx, "SELECT v FROM k").Scan(&v); err != nil {
							return err
						}
						_, err := tx.ExecContext(ctx, "UPDATE k SET v = $1", v+1)
						return err
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		var v int
		if err := db.Read.QueryRow("SELECT v FROM k").Scan(&v); err != nil || v != workers*each {
			t.Fatalf("counter = %d, %v; want %d", v, err, workers*each)
		}
	})
}

// ReadTx sees one snapshot: a write committed while it runs is not seen
// until the next ReadTx, and it cannot write.
func TestReadTxSnapshot(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		if _, err := db.Write.Exec("CREATE TABLE r (v TEXT)"); err != nil {
			t.Fatal(err)
		}
		count := func(q interface {
			QueryRow(string, ...any) *sql.Row
		}) int {
			var n int
			if err := q.QueryRow("SELECT COUNT(*) FROM r").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		insert := func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO r (v) VALUES ('x')")
			return err
		}
		if err := db.Tx(ctx, insert); err != nil {
			t.Fatal(err)
		}
		err := db.ReadTx(ctx, func(tx *sql.Tx) error {
			before := count(tx)
			if err := db.Tx(ctx, insert); err != nil {
				return err
			}
			if after := count(tx); before != 1 || after != 1 {
				t.Errorf("inside ReadTx: %d rows, then %d; want 1 and 1", before, after)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(db.Read); n != 2 {
			t.Fatalf("after ReadTx: %d rows, want 2", n)
		}
		if err := db.ReadTx(ctx, insert); err == nil {
			t.Fatal("write inside ReadTx succeeded")
		}
	})
}
