package store_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

func files(kv ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
	}
	return m
}

func versions(t *testing.T, db *store.DB) string {
	t.Helper()
	rows, err := db.Read.Query("SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		rows.Scan(&v)
		out = append(out, v)
	}
	return strings.Join(out, ",")
}

func TestMigrateOnceAndIdempotent(t *testing.T) { storetest.ForEach(t, testMigrateOnceAndIdempotent) }

func testMigrateOnceAndIdempotent(t *testing.T, db *store.DB) {
	fsys := files(
		"0002_more.sql", "INSERT INTO a (v) VALUES ('two');",
		"0001_init.sql", "CREATE TABLE a (v TEXT NOT NULL);\nINSERT INTO a (v) VALUES ('one');",
		"README.md", "not a migration",
	)
	for range 3 {
		if err := db.Migrate(t.Context(), "test", fsys); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	db.Read.QueryRow("SELECT COUNT(*) FROM a").Scan(&n)
	if n != 2 || versions(t, db) != "1,2" {
		t.Fatalf("rows %d, versions %s; want 2 rows, 1,2", n, versions(t, db))
	}
	// A later file is applied on the next run.
	fsys["0003_third.sql"] = &fstest.MapFile{Data: []byte("INSERT INTO a (v) VALUES ('three');")}
	if err := db.Migrate(t.Context(), "test", fsys); err != nil {
		t.Fatal(err)
	}
	if versions(t, db) != "1,2,3" {
		t.Fatalf("versions %s", versions(t, db))
	}
}

func TestMigrateFailureLeavesNothing(t *testing.T) {
	storetest.ForEach(t, testMigrateFailureLeavesNothing)
}

func testMigrateFailureLeavesNothing(t *testing.T, db *store.DB) {
	fsys := files(
		"0001_ok.sql", "CREATE TABLE a (v TEXT);",
		"0002_bad.sql", "CREATE TABLE b (v TEXT);\nINSERT INTO a (v) VALUES ('x');\nTHIS IS NOT SQL;",
	)
	err := db.Migrate(t.Context(), "test", fsys)
	if err == nil || !strings.Contains(err.Error(), "0002_bad.sql") {
		t.Fatalf("Migrate = %v, want an error naming 0002_bad.sql", err)
	}
	if versions(t, db) != "1" {
		t.Fatalf("versions %s, want 1", versions(t, db))
	}
	if tableExists(t, db, "b") {
		t.Fatal("table b exists after failed migration")
	}
	var n int
	db.Read.QueryRow("SELECT COUNT(*) FROM a").Scan(&n)
	if n != 0 {
		t.Fatal("insert from failed migration kept")
	}
	// Fixing the file lets it apply.
	fsys["0002_bad.sql"].Data = []byte("CREATE TABLE b (v TEXT);")
	if err := db.Migrate(t.Context(), "test", fsys); err != nil || versions(t, db) != "1,2" {
		t.Fatalf("after fix: %v, versions %s", err, versions(t, db))
	}
}

func TestMigrateRefusesDowngrade(t *testing.T) { storetest.ForEach(t, testMigrateRefusesDowngrade) }

func testMigrateRefusesDowngrade(t *testing.T, db *store.DB) {
	if err := db.Migrate(t.Context(), "test", files("0001_a.sql", "CREATE TABLE a (v TEXT);", "0002_b.sql", "CREATE TABLE b (v TEXT);")); err != nil {
		t.Fatal(err)
	}
	err := db.Migrate(t.Context(), "test", files("0001_a.sql", "CREATE TABLE a (v TEXT);"))
	if !errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("Migrate older = %v, want store.ErrSchemaTooNew naming version 2", err)
	}
}

func TestMigrateBadNames(t *testing.T) { storetest.ForEach(t, testMigrateBadNames) }

func testMigrateBadNames(t *testing.T, db *store.DB) {
	for _, fsys := range []map[string]string{
		{"init.sql": "SELECT 1;"},
		{"0001_a.sql": "SELECT 1;", "1_b.sql": "SELECT 1;"},
	} {
		m := files()
		for k, v := range fsys {
			m[k] = files(k, v)[k]
		}
		if err := db.Migrate(t.Context(), "test", m); err == nil {
			t.Errorf("Migrate(%v) succeeded", fsys)
		}
	}
}

// tableExists looks in the catalogue of db's dialect: sqlite_master, or the
// test's own schema on PostgreSQL.
func tableExists(t *testing.T, db *store.DB, name string) bool {
	t.Helper()
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1`
	if db.Dialect == store.Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	}
	var n int
	if err := db.Read.QueryRow(q, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// Nodes of a fleet start at once and all migrate: each file is applied
// exactly once and none of them fails (on PostgreSQL that is the advisory
// lock's work; CREATE TABLE without IF NOT EXISTS would fail the second
// time).
func TestMigrateConcurrentNodes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		fsys := files(
			"0001_init.sql", "CREATE TABLE a (v TEXT NOT NULL);\nINSERT INTO a (v) VALUES ('one');",
			"0002_more.sql", "INSERT INTO a (v) VALUES ('two');",
		)
		var wg sync.WaitGroup
		for range 6 {
			node := storetest.Reopen(t, db)
			wg.Go(func() {
				if err := node.Migrate(t.Context(), "test", fsys); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		var n int
		if err := db.Read.QueryRow("SELECT COUNT(*) FROM a").Scan(&n); err != nil || n != 2 || versions(t, db) != "1,2" {
			t.Fatalf("rows %d (%v), versions %s; want 2 rows, 1,2", n, err, versions(t, db))
		}
	})
}

// Packages sharing one database each number their files from 0001: scopes
// keep their versions apart, and a newer schema in one scope does not block
// another.
func TestMigrateScopes(t *testing.T) { storetest.ForEach(t, testMigrateScopes) }

func testMigrateScopes(t *testing.T, db *store.DB) {
	if err := db.Migrate(t.Context(), "one", files("0001_a.sql", "CREATE TABLE one_a (v TEXT);", "0002_b.sql", "CREATE TABLE one_b (v TEXT);")); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(t.Context(), "two", files("0001_a.sql", "CREATE TABLE two_a (v TEXT);")); err != nil {
		t.Fatalf("scope two's 0001 beside scope one's: %v", err)
	}
	if _, err := db.Write.Exec("INSERT INTO two_a (v) VALUES ('x')"); err != nil {
		t.Fatalf("scope two's table was not created: %v", err)
	}
	err := db.Migrate(t.Context(), "one", files("0001_a.sql", "CREATE TABLE one_a (v TEXT);"))
	if !errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), "one") {
		t.Fatalf("downgrade in scope one: %v", err)
	}
	if err := db.Migrate(t.Context(), "", files()); err == nil {
		t.Fatal("an empty scope was accepted")
	}
}
