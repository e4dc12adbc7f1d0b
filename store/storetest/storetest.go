// Package storetest gives tests a fresh store of each dialect, so a
// package's tests run against SQLite and PostgreSQL alike and form one
// conformance suite for both.
//
// PostgreSQL comes from $TOLLGATE_TEST_POSTGRES or DefaultPostgresDSN. Each
// test gets its own schema (created here, selected with the DSN's
// search_path, dropped when the test ends), so tests never see each other's
// tables and may run in parallel, also from several packages at once. If
// the server cannot be reached, the PostgreSQL half of each test skips and
// says which DSN failed and why; nothing else skips.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
)

// EnvPostgres names the variable that overrides DefaultPostgresDSN.
const EnvPostgres = "TOLLGATE_TEST_POSTGRES"

// DefaultPostgresDSN is the server the tests use when EnvPostgres is unset.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ForEach runs fn once per dialect, as subtests named "sqlite" and
// "postgres", each with a fresh, empty store that is closed (and, for
// PostgreSQL, dropped) when the subtest ends.
func ForEach(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run(store.SQLite, func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run(store.Postgres, func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a fresh database file in a temporary directory.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	return open(t, func(ctx context.Context) (*store.DB, error) {
		return store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "tollgate.db"))
	})
}

// Postgres opens a fresh schema on the test server, or skips t if the
// server cannot be reached.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	dsn := PostgresDSN(t)
	db := open(t, func(ctx context.Context) (*store.DB, error) { return store.OpenPostgres(ctx, dsn) })
	dsns.Store(db, dsn)
	return db
}

// PostgresDSN creates a fresh schema, dropped when the test ends, and
// returns a DSN whose search_path selects it: for tests that start whole
// gateways (or several, as a fleet) on PostgreSQL. It skips like Postgres.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	srv := server()
	if srv.err != nil {
		t.Skipf("PostgreSQL half skipped: cannot reach %s (set $%s to a reachable server): %v", redact(srv.dsn), EnvPostgres, srv.err)
	}
	admin, base := srv.admin, srv.dsn
	schema := schemaName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.Write.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema %s on %s: %v", schema, admin.Path, err)
	}
	// Registered before the DB's Close, so it runs after it (cleanups run
	// last-in first-out) and no connection of the test is still in there.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.Write.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	return withSearchPath(base, schema)
}

// Reopen opens a second, independent handle on the store db is open on, as
// another Tollgate node would: the same SQLite file, or the same PostgreSQL
// schema through a new pool. db must come from this package.
func Reopen(t testing.TB, db *store.DB) *store.DB {
	t.Helper()
	if db.Dialect == store.SQLite {
		return open(t, func(ctx context.Context) (*store.DB, error) { return store.OpenSQLite(ctx, db.Path) })
	}
	dsn, ok := dsns.Load(db)
	if !ok {
		t.Fatalf("storetest.Reopen: %s was not opened by storetest.Postgres", db.Path)
	}
	return open(t, func(ctx context.Context) (*store.DB, error) { return store.OpenPostgres(ctx, dsn.(string)) })
}

// dsns remembers each test DB's DSN (with its search_path) for Reopen:
// store.DB keeps no DSN, as it could hold a password.
var dsns sync.Map // *store.DB → string

func open(t testing.TB, opener func(context.Context) (*store.DB, error)) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := opener(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		dsns.Delete(db)
		db.Close()
	})
	return db
}

// server connects once per test binary to the server that holds the test
// schemas; a failure is remembered, so an unreachable server costs one
// timeout, not one per test.
var server = sync.OnceValue(func() pgServer {
	dsn := os.Getenv(EnvPostgres)
	if dsn == "" {
		dsn = DefaultPostgresDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := store.OpenPostgres(ctx, dsn)
	return pgServer{admin: db, dsn: dsn, err: err}
})

type pgServer struct {
	admin *store.DB // never closed: it lives as long as the test binary
	dsn   string
	err   error
}

// schemaName makes a fresh schema name from the test name and random bytes.
// It is a plain lowercase identifier (no quoting needed in SQL or in
// search_path) within PostgreSQL's 63 bytes, recognisable in a listing.
func schemaName(test string) string {
	b := make([]byte, 6)
	rand.Read(b)
	clean := strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(test), "_"), "_")
	name := "tollgate_test_" + hex.EncodeToString(b) + "_" + clean
	return name[:min(len(name), 63)]
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9]+`)

// withSearchPath adds search_path to a DSN in URL or keyword/value form.
func withSearchPath(dsn, schema string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// redact hides a password in a DSN before it goes into a test log.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return kvPassword.ReplaceAllString(dsn, "password=xxxxx")
}

var kvPassword = regexp.MustCompile(`password=('(\\.|[^'])*'|\S+)`)
