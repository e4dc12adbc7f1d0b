package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sync"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Secret returns the installation's random secret called name, 32 bytes,
// creating it on first use. It lives in the database, not a node's data
// directory, so every node of a fleet has the same one (a console cookie
// signed by one node is good on the next), and on SQLite it is as private
// as the database file (0600).
func (db *DB) Secret(ctx context.Context, name string) ([]byte, error) {
	if name == "" {
		return nil, errors.New("store: secret: empty name")
	}
	if err := db.migrateOwn(ctx); err != nil {
		return nil, err
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("store: secret %s: %w", name, err)
	}
	var value string
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		// Two nodes starting at once: the first insert wins and both read it.
		if _, err := tx.ExecContext(ctx, `INSERT INTO install_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
			name, hex.EncodeToString(fresh)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM install_secrets WHERE name = $1`, name).Scan(&value)
	})
	if err != nil {
		return nil, fmt.Errorf("store: secret %s: %w", name, err)
	}
	b, err := hex.DecodeString(value)
	if err != nil || len(b) < 16 {
		return nil, fmt.Errorf("store: secret %s: stored value is not a hex key of at least 16 bytes", name)
	}
	return b, nil
}

// migrateOwn applies the store's own tables (scope "store") once per DB.
func (db *DB) migrateOwn(ctx context.Context) error {
	db.ownOnce.Do(func() {
		sub, err := fs.Sub(migrations, "migrations/"+db.Dialect)
		if err == nil {
			err = db.Migrate(ctx, "store", sub)
		}
		db.ownErr = err
	})
	if db.ownErr != nil {
		return fmt.Errorf("store: %w", db.ownErr)
	}
	return nil
}

// ownMigration is embedded in DB.
type ownMigration struct {
	ownOnce sync.Once
	ownErr  error
}
