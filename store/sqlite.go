package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// OpenSQLite opens (creating if needed) the database file at path.
//
// SQLite allows one writer at a time and answers a second with SQLITE_BUSY,
// so all writes go through Write, a pool of exactly one connection whose
// transactions start with BEGIN IMMEDIATE; concurrent Tx calls queue in
// database/sql instead of failing. Reads use Read, a pool of read-only
// connections that WAL lets run alongside the writer.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("store: open %q: %w", path, err)
	}
	if err := private(abs); err != nil {
		return nil, fmt.Errorf("store: open %q: %w", path, err)
	}
	// synchronous(FULL): a committed transaction survives power loss, which
	// the promises in DESIGN.md need more than the extra fsync per commit costs.
	common := []string{"busy_timeout(5000)", "foreign_keys(1)", "synchronous(FULL)"}
	w, err := openPool(ctx, abs, append(common, "journal_mode(WAL)"), "_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)

	// The writer has switched the file to WAL (a persistent setting), so
	// readers need not; query_only makes a stray write through Read fail
	// loudly instead of contending with the writer.
	r, err := openPool(ctx, abs, append(common, "query_only(1)"))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(max(4, runtime.NumCPU()))
	r.SetMaxIdleConns(max(4, runtime.NumCPU()))

	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || !strings.EqualFold(mode, "wal") {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: open %q: journal_mode is %q, want wal (%v)", path, mode, err)
	}
	return &DB{Write: w, Read: r, Path: abs, Dialect: SQLite}, nil
}

// openPool opens a pool with the given pragmas and pings it so a bad path or
// DSN fails here rather than at first use. The path is URI-escaped so '?' or
// '#' in a directory name cannot be read as DSN syntax.
func openPool(ctx context.Context, abs string, pragmas []string, extra ...string) (*sql.DB, error) {
	q := make([]string, 0, len(pragmas)+len(extra))
	for _, p := range pragmas {
		q = append(q, "_pragma="+url.QueryEscape(p))
	}
	q = append(q, extra...)
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + strings.Join(q, "&")
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", abs, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %q: %w", abs, err)
	}
	return db, nil
}

// private creates the database file 0600 before SQLite opens it, and
// tightens it (and its -wal and -shm files) when an older version or
// another tool left it readable by others: it holds password hashes, TOTP
// secrets and mail metadata. SQLite creates the -wal and -shm files with
// the database file's mode, so they follow. The umask would otherwise
// decide (0644 under the usual 022).
func private(abs string) error {
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{abs, abs + "-wal", abs + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			continue // no such file yet
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("make %s private: %w", p, err)
			}
		}
	}
	return nil
}
