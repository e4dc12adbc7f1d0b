package store_test

import (
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// Opening fails with the reason and without the password, server or not.
func TestOpenPostgresErrors(t *testing.T) {
	for _, dsn := range []string{
		"postgres://tollgate:hunter2@127.0.0.1:1/x?sslmode=disable&connect_timeout=2",
		"host=127.0.0.1 port=notanumber password=hunter2",
		"postgres://tollgate:hunter2@127.0.0.1:5432/x?sslmode=bogus",
	} {
		db, err := store.OpenPostgres(t.Context(), dsn)
		if err == nil {
			db.Close()
			t.Errorf("OpenPostgres(%q) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error reveals the password: %v", err)
		}
	}
}

func TestOpenPostgres(t *testing.T) {
	db := storetest.Postgres(t)
	if db.Dialect != store.Postgres || db.Write != db.Read ||
		!strings.HasPrefix(db.Path, "postgres://") || !strings.Contains(db.Path, "search_path=tollgate_test_") {
		t.Fatalf("DB = %+v", db)
	}
	var sp string
	if err := db.Read.QueryRow("SHOW search_path").Scan(&sp); err != nil || !strings.HasPrefix(sp, "tollgate_test_") {
		t.Fatalf("search_path = %q, %v", sp, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal("Close:", err)
	}
}

// raise makes the server abort the transaction with the given SQLSTATE.
func raise(t *testing.T, tx *sql.Tx, code string) error {
	_, err := tx.ExecContext(t.Context(), `DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '`+code+`'; END $$`)
	return err
}

func sqlstate(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	return ""
}

// Serialization failures and deadlocks run fn again; other errors do not,
// and the retries are bounded.
func TestTxRetriesOnPostgres(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := t.Context()
	if _, err := db.Write.Exec("CREATE TABLE t (v TEXT)"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		fail      func(call int) string // SQLSTATE to fail call with, "" to succeed
		wantCalls int
		wantCode  string
	}{
		{"serialization failure then success", func(n int) string { return map[bool]string{true: "40001"}[n < 3] }, 3, ""},
		{"deadlock then success", func(n int) string { return map[bool]string{true: "40P01"}[n < 2] }, 2, ""},
		{"always serialization failure", func(int) string { return "40001" }, 4, "40001"},
		{"other error", func(int) string { return "23505" }, 1, "23505"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := db.Write.Exec("DELETE FROM t"); err != nil {
				t.Fatal(err)
			}
			calls := 0
			err := db.Tx(ctx, func(tx *sql.Tx) error {
				calls++
				if _, err := tx.ExecContext(ctx, "INSERT INTO t (v) VALUES ('x')"); err != nil {
					return err
				}
				if code := c.fail(calls); code != "" {
					return raise(t, tx, code)
				}
				return nil
			})
			var n int
			db.Read.QueryRow("SELECT COUNT(*) FROM t").Scan(&n)
			if calls != c.wantCalls || sqlstate(err) != c.wantCode || (err == nil) != (c.wantCode == "") || n != map[bool]int{true: 1}[err == nil] {
				t.Fatalf("calls %d, err %v, rows %d; want %d calls, SQLSTATE %q", calls, err, n, c.wantCalls, c.wantCode)
			}
		})
	}
}

// A real deadlock between two transactions: the server aborts one, Tx runs
// it again, and both changes land.
func TestTxSurvivesDeadlock(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := t.Context()
	if _, err := db.Write.Exec("CREATE TABLE d (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO d VALUES (1, 0), (2, 0)"); err != nil {
		t.Fatal(err)
	}
	var ready sync.WaitGroup
	ready.Add(2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	attempts := 0
	for _, order := range [][2]int{{1, 2}, {2, 1}} {
		wg.Go(func() {
			first := true
			err := db.Tx(ctx, func(tx *sql.Tx) error {
				mu.Lock()
				attempts++
				mu.Unlock()
				for i, id := range order {
					if _, err := tx.ExecContext(ctx, "UPDATE d SET n = n + 1 WHERE id = $1", id); err != nil {
						return err
					}
					if i == 0 && first { // both hold their first row before either asks for the second
						first = false
						ready.Done()
						ready.Wait()
					}
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var sum int
	if err := db.Read.QueryRow("SELECT SUM(n) FROM d").Scan(&sum); err != nil || sum != 4 || attempts != 3 {
		t.Fatalf("sum %d (%v), attempts %d; want 4 and 3", sum, err, attempts)
	}
}
