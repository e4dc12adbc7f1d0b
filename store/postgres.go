package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// maxPostgresConns bounds each node's pool. A fleet shares the server's
// max_connections (100 by default), so a node must not take them all;
// callers with a bigger server can raise it with db.Write.SetMaxOpenConns.
const maxPostgresConns = 10

// OpenPostgres connects to the PostgreSQL server dsn names, in URL or
// keyword/value form, with any pgx connection parameters: search_path
// selects the schema, and behind PgBouncer in transaction mode add
// default_query_exec_mode=simple_protocol. Write and Read are one pool:
// PostgreSQL has no single-writer limit to work around, and one pool lets a
// caller read its own writes at once.
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgconn redacts the password from its parse errors.
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	name := fmt.Sprintf("postgres://%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	if sp := cfg.RuntimeParams["search_path"]; sp != "" {
		name += "?search_path=" + sp
	}
	pool := stdlib.OpenDB(*cfg)
	pool.SetMaxOpenConns(maxPostgresConns)
	pool.SetMaxIdleConns(maxPostgresConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: open %s: %w", name, err)
	}
	return &DB{Write: pool, Read: pool, Path: name, Dialect: Postgres}, nil
}

// maxAttempts is how often Tx runs fn on PostgreSQL before it gives up on
// deadlocks and serialization failures. Those should be rare under READ
// COMMITTED, so a few runs are plenty; more would hide a design problem.
const maxAttempts = 4

// retry runs attempt until it succeeds, fails with an error that is not
// worth retrying, runs maxAttempts times, or ctx ends.
func retry(ctx context.Context, attempt func() error) error {
	for n := 1; ; n++ {
		err := attempt()
		if err == nil || n == maxAttempts || !retryable(err) {
			return err
		}
		// Back off with jitter so two deadlock victims do not meet again.
		wait := time.Duration(n) * time.Duration(5+rand.IntN(20)) * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// retryable reports whether err is a server abort that left nothing
// committed and may well succeed on a second run.
func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}
