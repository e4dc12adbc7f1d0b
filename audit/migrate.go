package audit

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/store"
)

// migrate applies migrations/sqlite/*.sql that the database has not seen,
// recording them in audit_schema_migrations.
//
// Why not store.DB.Migrate: it keeps one version sequence per database in
// schema_migrations, and audit shares its database with directory (AppendTx
// needs that). Directory's 0001 would mark audit's 0001 as applied, and any
// file numbered past the other package's newest trips ErrSchemaTooNew for
// that package. Until store keeps versions per package, audit keeps its own
// table with the same rules: <version>_<description>.sql, each file in one
// transaction with its bookkeeping row, and refusal to run against a newer
// schema.
func migrate(ctx context.Context, db *store.DB) error {
	sub, err := fs.Sub(migrations, "migrations/sqlite")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	files, err := migrationFiles(sub)
	if err != nil {
		return err
	}
	return db.Tx(ctx, func(tx *sql.Tx) error {
		// One transaction for all files: the write lock is held throughout,
		// so two processes opening the log at once cannot both apply a file,
		// and a failing file leaves no trace.
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS audit_schema_migrations (
			version BIGINT PRIMARY KEY,
			name TEXT NOT NULL,
			applied_at BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("migrate: create audit_schema_migrations: %w", err)
		}
		var applied sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM audit_schema_migrations`).Scan(&applied); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		newest := files[len(files)-1].version
		if applied.Int64 > newest {
			return fmt.Errorf("migrate: the audit schema is at version %d but this program knows only up to %d; run the newer Tollgate: %w",
				applied.Int64, newest, store.ErrSchemaTooNew)
		}
		for _, f := range files {
			if f.version <= applied.Int64 {
				continue
			}
			body, err := fs.ReadFile(sub, f.name)
			if err != nil {
				return fmt.Errorf("migrate %s: %w", f.name, err)
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migrate %s: %w", f.name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				f.version, f.name, time.Now().UnixNano()); err != nil {
				return fmt.Errorf("migrate %s: %w", f.name, err)
			}
		}
		return nil
	})
}

type migrationFile struct {
	version int64
	name    string
}

// migrationFiles lists the embedded files in version order; a badly named
// file or a repeated version is a build mistake and fails loudly.
func migrationFiles(fsys fs.FS) ([]migrationFile, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var out []migrationFile
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migrate: file %q is not named <version>_<description>.sql", e.Name())
		}
		out = append(out, migrationFile{version: v, name: e.Name()})
	}
	slices.SortFunc(out, func(a, b migrationFile) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrate: files %q and %q have the same version", out[i-1].name, out[i].name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("migrate: no migration files")
	}
	return out, nil
}
