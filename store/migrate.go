package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrSchemaTooNew is returned by Migrate when the database was migrated by a
// newer Tollgate than this one.
var ErrSchemaTooNew = errors.New("database schema is newer than this program")

// migrateLock is the Lock key Migrate holds on PostgreSQL. It is one key
// for the whole database: schema_migrations is shared by every scope.
const migrateLock = "tollgate/store.Migrate"

type migration struct {
	version int64
	name    string // file name, kept in schema_migrations for people reading it
}

// Migrate applies the *.sql files at the root of fsys that the database has
// not seen for scope, in version order, each in its own transaction together with its
// row in schema_migrations, so a failing file leaves no trace. Names are
// <version>_<description>.sql, e.g. 0001_directory.sql. Running it again is
// a no-op. It refuses to touch a database whose newest applied version is
// beyond the newest file: an older binary must not run against a schema it
// does not know.
//
// scope names the package that owns the files ("directory", "audit",
// "queue"): packages that share one database each number their files from
// 0001, and each has its own versions in schema_migrations.
//
// On PostgreSQL several nodes may start at once: every transaction here
// first takes the advisory lock migrateLock (see Lock), so creating
// schema_migrations, checking a version and applying its file happen one
// node at a time, and the second node finds the work done. On SQLite the
// immediate transaction already excludes other writers.
func (db *DB) Migrate(ctx context.Context, scope string, fsys fs.FS) error {
	if scope == "" {
		return errors.New("store: migrate: empty scope")
	}
	files, err := readMigrations(fsys)
	if err != nil {
		return err
	}
	if err := db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.Lock(ctx, tx, migrateLock); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			scope TEXT NOT NULL,
			version BIGINT NOT NULL,
			name TEXT NOT NULL,
			applied_at BIGINT NOT NULL,
			PRIMARY KEY (scope, version))`)
		return err
	}); err != nil {
		return fmt.Errorf("store: migrate: create schema_migrations: %w", err)
	}

	var newest int64
	if len(files) > 0 {
		newest = files[len(files)-1].version
	}
	var applied sql.NullInt64
	if err := db.Write.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations WHERE scope = $1`, scope).Scan(&applied); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if applied.Int64 > newest {
		return fmt.Errorf("store: migrate %s (%s): database is at schema version %d but the newest migration this program has is %d; run the newer Tollgate or restore a backup: %w",
			db.Path, scope, applied.Int64, newest, ErrSchemaTooNew)
	}

	for _, m := range files {
		body, err := fs.ReadFile(fsys, m.name)
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", m.name, err)
		}
		var ran bool
		err = db.Tx(ctx, func(tx *sql.Tx) error {
			// Checked inside the (immediate or locked) transaction, so
			// two nodes migrating at once cannot both apply the same file.
			ran = false // Tx may run this again on PostgreSQL
			if err := db.Lock(ctx, tx, migrateLock); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE scope = $1 AND version = $2`, scope, m.version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			ran = true
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (scope, version, name, applied_at) VALUES ($1, $2, $3, $4)`,
				scope, m.version, m.name, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", m.name, err)
		}
		if ran {
			slog.Debug("store: applied migration", "scope", scope, "file", m.name, "db", db.Path)
		}
	}
	return nil
}

// readMigrations lists the root of fsys. Any .sql file whose name does not
// parse, and two files with one version, are errors rather than silently
// skipped: a skipped migration would surface much later as a missing table.
func readMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	var out []migration
	seen := map[int64]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("store: migrate: file %q is not named <version>_<description>.sql", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("store: migrate: files %q and %q have the same version %d", prev, name, v)
		}
		seen[v] = name
		out = append(out, migration{version: v, name: name})
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	return out, nil
}
