package store_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// open is a SQLite store in a directory whose name needs escaping in a DSN,
// for the tests that are about SQLite itself.
func open(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "sub dir?#", "tollgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenPragmas(t *testing.T) {
	db := open(t)
	for pool, want := range map[*sql.DB]map[string]string{
		db.Write: {"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000", "synchronous": "2"},
		db.Read:  {"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000", "query_only": "1"},
	} {
		for pragma, v := range want {
			var got string
			if err := pool.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != v {
				t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, v)
			}
		}
	}
	if db.Dialect != store.SQLite {
		t.Errorf("Dialect = %q", db.Dialect)
	}
	if !strings.HasSuffix(db.Path, filepath.Join("sub dir?#", "tollgate.db")) {
		t.Errorf("Path = %q", db.Path)
	}
	if _, err := db.Read.Exec("CREATE TABLE x (a INTEGER)"); err == nil {
		t.Error("write through Read succeeded")
	}
}

func TestTxCommitRollbackPanic(t *testing.T) {
	storetest.ForEach(t, testTxCommitRollbackPanic)
}

func testTxCommitRollbackPanic(t *testing.T, db *store.DB) {
	ctx := t.Context()
	if _, err := db.Write.Exec("CREATE TABLE t (v TEXT)"); err != nil {
		t.Fatal(err)
	}
	insert := func(v string) func(*sql.Tx) error {
		return func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO t (v) VALUES ($1)", v)
			return err
		}
	}
	if err := db.Tx(ctx, insert("kept")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		insert("rolled back")(tx)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx error = %v, want fn's error", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic swallowed")
			}
		}()
		db.Tx(ctx, func(tx *sql.Tx) error {
			insert("panicked")(tx)
			panic("oops")
		})
	}()
	// The connection must be free again after the panic (on SQLite it is
	// the only write connection).
	if err := db.Tx(ctx, insert("after")); err != nil {
		t.Fatal(err)
	}
	var got []string
	rows, err := db.Read.Query("SELECT v FROM t ORDER BY v")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		rows.Scan(&v)
		got = append(got, v)
	}
	if strings.Join(got, ",") != "after,kept" {
		t.Fatalf("rows = %v", got)
	}
}

// Many goroutines writing at once, through one DB and through a second DB on
// the same store (as a second process or node would), never fail: no
// SQLITE_BUSY on SQLite, no lost transaction on PostgreSQL.
func TestConcurrentWriters(t *testing.T) {
	storetest.ForEach(t, testConcurrentWriters)
}

func testConcurrentWriters(t *testing.T, db *store.DB) {
	other := storetest.Reopen(t, db)
	ctx := t.Context()
	if _, err := db.Write.Exec("CREATE TABLE c (n INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	const workers, each = 32, 20
	for i := range workers {
		d := db
		if i%4 == 0 {
			d = other
		}
		wg.Go(func() {
			for range each {
				err := d.Tx(ctx, func(tx *sql.Tx) error {
					// Read then write: the pattern that deadlocks into
					// SQLITE_BUSY with deferred transactions.
					var n int
					if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM c").Scan(&n); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, "INSERT INTO c (n) VALUES ($1)", n)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			var n int
			if err := d.Read.QueryRowContext(ctx, "SELECT COUNT(*) FROM c").Scan(&n); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var n int
	db.Read.QueryRow("SELECT COUNT(*) FROM c").Scan(&n)
	if n != workers*each {
		t.Fatalf("%d rows, want %d", n, workers*each)
	}
}
