package store

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func files(kv ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
	}
	return m
}

func versions(t *testing.T, db *DB) string {
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

func TestMigrateOnceAndIdempotent(t *testing.T) {
	db := open(t)
	fsys := files(
		"0002_more.sql", "INSERT INTO a (v) VALUES ('two');",
		"0001_init.sql", "CREATE TABLE a (v TEXT NOT NULL);\nINSERT INTO a (v) VALUES ('one');",
		"README.md", "not a migration",
	)
	for range 3 {
		if err := db.Migrate(t.Context(), fsys); err != nil {
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
	if err := db.Migrate(t.Context(), fsys); err != nil {
		t.Fatal(err)
	}
	if versions(t, db) != "1,2,3" {
		t.Fatalf("versions %s", versions(t, db))
	}
}

func TestMigrateFailureLeavesNothing(t *testing.T) {
	db := open(t)
	fsys := files(
		"0001_ok.sql", "CREATE TABLE a (v TEXT);",
		"0002_bad.sql", "CREATE TABLE b (v TEXT);\nINSERT INTO a (v) VALUES ('x');\nTHIS IS NOT SQL;",
	)
	err := db.Migrate(t.Context(), fsys)
	if err == nil || !strings.Contains(err.Error(), "0002_bad.sql") {
		t.Fatalf("Migrate = %v, want an error naming 0002_bad.sql", err)
	}
	if versions(t, db) != "1" {
		t.Fatalf("versions %s, want 1", versions(t, db))
	}
	var n int
	if err := db.Read.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("table b exists after failed migration (%d, %v)", n, err)
	}
	db.Read.QueryRow("SELECT COUNT(*) FROM a").Scan(&n)
	if n != 0 {
		t.Fatal("insert from failed migration kept")
	}
	// Fixing the file lets it apply.
	fsys["0002_bad.sql"].Data = []byte("CREATE TABLE b (v TEXT);")
	if err := db.Migrate(t.Context(), fsys); err != nil || versions(t, db) != "1,2" {
		t.Fatalf("after fix: %v, versions %s", err, versions(t, db))
	}
}

func TestMigrateRefusesDowngrade(t *testing.T) {
	db := open(t)
	if err := db.Migrate(t.Context(), files("0001_a.sql", "CREATE TABLE a (v TEXT);", "0002_b.sql", "CREATE TABLE b (v TEXT);")); err != nil {
		t.Fatal(err)
	}
	err := db.Migrate(t.Context(), files("0001_a.sql", "CREATE TABLE a (v TEXT);"))
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("Migrate older = %v, want ErrSchemaTooNew naming version 2", err)
	}
}

func TestMigrateBadNames(t *testing.T) {
	db := open(t)
	for _, fsys := range []map[string]string{
		{"init.sql": "SELECT 1;"},
		{"0001_a.sql": "SELECT 1;", "1_b.sql": "SELECT 1;"},
	} {
		m := files()
		for k, v := range fsys {
			m[k] = files(k, v)[k]
		}
		if err := db.Migrate(t.Context(), m); err == nil {
			t.Errorf("Migrate(%v) succeeded", fsys)
		}
	}
}
