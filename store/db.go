// Package store opens the database (embedded SQLite by default, PostgreSQL
// when several Tollgate nodes share one), applies schema migrations and runs
// transactions. Higher packages (directory, audit, trace) own their tables
// and pick their migration files by DB.Dialect; store only knows how to
// open, migrate, lock and run transactions, and keeps one table of its own:
// the installation's secrets (Secret), shared by every node.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
)

// Dialects, the values of DB.Dialect. They are also the names of the
// per-dialect migration folders (migrations/sqlite, migrations/postgres).
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DB is an open store. Write is for transactions (use Tx), Read for
// queries outside them. On SQLite they are two pools on one file (see
// OpenSQLite); on PostgreSQL they are the same pool (see OpenPostgres).
//
// Inside Tx use only the *sql.Tx: on SQLite touching Write there would wait
// for the connection the transaction holds, forever, and on PostgreSQL it
// can do the same when the other connections of the pool are all waiting
// for a lock this transaction holds.
type DB struct {
	Write *sql.DB
	Read  *sql.DB
	// Path names the database in messages: the absolute path of the SQLite
	// file, or postgres://host:port/database for PostgreSQL (never a
	// password).
	Path string
	// Dialect is SQLite or Postgres, so packages can pick their migrations
	// and the few statements that differ.
	Dialect string

	ownMigration // the store's own tables (Secret), applied at first use
}

// Close closes the pools (once, where Write and Read are one pool).
func (db *DB) Close() error {
	if db.Write == db.Read {
		return db.Write.Close()
	}
	return errors.Join(db.Write.Close(), db.Read.Close())
}

// Tx runs fn in one write transaction: it commits if fn returns nil and rolls
// back if fn returns an error or panics (the panic then continues). fn's
// error is returned as is, so callers can match their own sentinel errors.
//
// On PostgreSQL the transaction is READ COMMITTED (the server default):
// each statement sees what others committed before it started, and
// check-then-write sequences are made safe with constraints or Lock. It is
// not SERIALIZABLE because hot rows that every writer updates (audit's head
// row) would then abort all but one concurrent writer, where READ
// COMMITTED makes them wait their turn and go on with the new row. If the
// server aborts the transaction as a deadlock victim or with a
// serialization failure (SQLSTATE 40P01, 40001), nothing was committed and
// fn is run again, up to maxAttempts times in all; so fn must do only
// database work through tx and set its results afresh on each run.
func (db *DB) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if db.Dialect != Postgres {
		return runTx(ctx, db.Write, nil, fn)
	}
	return retry(ctx, func() error { return runTx(ctx, db.Write, nil, fn) })
}

// ReadTx runs fn in a read-only transaction that sees one consistent
// snapshot of the database, for readers that need several queries to agree
// (the directory's snapshot reload). On SQLite that is what a WAL read
// transaction gives; on PostgreSQL it needs REPEATABLE READ, since READ
// COMMITTED takes a new snapshot per statement. A write through tx fails.
func (db *DB) ReadTx(ctx context.Context, fn func(*sql.Tx) error) error {
	var opts *sql.TxOptions // the Read pool is query_only on SQLite
	if db.Dialect == Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return runTx(ctx, db.Read, opts, fn)
}

// runTx is one attempt of Tx or ReadTx on pool.
func runTx(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	done = true
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Lock takes a lock named key that lasts until tx ends, for check-then-write
// sequences that no constraint can express, such as "no live IP range of
// another tenant overlaps this one". Every writer whose check must see the
// others' rows takes the same key, as the first statement of its
// transaction: under READ COMMITTED each later statement then sees what
// the previous holder committed.
//
// On PostgreSQL it is pg_advisory_xact_lock on a 64-bit hash of key (a hash
// collision only makes two unrelated writers wait for each other); it
// works through PgBouncer in transaction mode, as session locks would not.
// On SQLite it does nothing: Tx already holds the database's only write
// lock.
func (db *DB) Lock(ctx context.Context, tx *sql.Tx, key string) error {
	if db.Dialect != Postgres {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
		return fmt.Errorf("store: lock %q: %w", key, err)
	}
	return nil
}
