package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/dryrun"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/trace"
)

// localDryRun is `simulate policy --data-dir DIR`: the dry run on a node's
// embedded store without the API (no token needed, the node may be stopped
// or running). The node's files are never opened for writing: each
// database is copied with SQLite's VACUUM INTO through a read-only
// connection (a consistent snapshot, which a running node's WAL allows
// beside its writer), and the copies — in a scratch directory removed
// afterwards — are what the directory, the blocks and the trace are opened
// on.
type localDryRun struct {
	dataDir, configFile string
	since, until        time.Time
	tenant              string
	change              []byte
}

// localDryRunTimeout matches the API's bound on one run.
const localDryRunTimeout = 5 * time.Minute

func (l localDryRun) run(ctx context.Context) (*dryrun.Report, error) {
	cfg := config.Default()
	if l.configFile != "" {
		if err := cfg.LoadFile(l.configFile); err != nil {
			return nil, err
		}
	}
	if cfg.Store.PostgresDSN != "" {
		return nil, fmt.Errorf("--data-dir: %s keeps its store in PostgreSQL, not in the data directory; run the dry run over the API (--server, --token)", l.configFile)
	}
	main, tr := filepath.Join(l.dataDir, "tollgate.db"), filepath.Join(l.dataDir, "trace.db")
	for _, f := range []string{main, tr} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("--data-dir %q: no %s there (is it a tollgate data directory?): %w", l.dataDir, filepath.Base(f), err)
		}
	}
	scratch, err := os.MkdirTemp("", "tollgate-simulate-")
	if err != nil {
		return nil, fmt.Errorf("scratch directory: %w", err)
	}
	defer os.RemoveAll(scratch)
	mainCopy, trCopy := filepath.Join(scratch, "tollgate.db"), filepath.Join(scratch, "trace.db")
	if err := snapshotSQLite(ctx, main, mainCopy); err != nil {
		return nil, err
	}
	if err := snapshotSQLite(ctx, tr, trCopy); err != nil {
		return nil, err
	}
	log := slog.New(slog.DiscardHandler)
	db, err := store.OpenSQLite(ctx, mainCopy)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	dir, err := directory.Open(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("--data-dir %q: read the directory: %w", l.dataDir, err)
	}
	defer dir.Close()
	bs, err := blocks.Open(ctx, db, blocks.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("--data-dir %q: read the policy overrides: %w", l.dataDir, err)
	}
	defer bs.Close()
	tdb, err := store.OpenSQLite(ctx, trCopy)
	if err != nil {
		return nil, err
	}
	defer tdb.Close()
	ts, err := trace.OpenStore(ctx, tdb, cfg.Trace.Retention.Duration, nil, log)
	if err != nil {
		return nil, fmt.Errorf("--data-dir %q: read the trace: %w", l.dataDir, err)
	}
	defer ts.Close()
	var tenantID int64
	if l.tenant != "" {
		t, err := dir.TenantByName(ctx, l.tenant)
		if id, perr := strconv.ParseInt(l.tenant, 10, 64); err != nil && perr == nil {
			t, err = dir.Tenant(ctx, id)
		}
		if err != nil {
			return nil, fmt.Errorf("--tenant %q: %w", l.tenant, err)
		}
		tenantID = t.ID
	}
	ctx, cancel := context.WithTimeout(ctx, localDryRunTimeout)
	defer cancel()
	rep, err := dryrun.Run(ctx, dryrun.Options{Defaults: cfg.Policy.Settings, Overrides: bs.Overrides, Tenants: dir,
		Trace: ts, TempDir: scratch, Logger: log},
		dryrun.Request{Since: l.since, Until: l.until, TenantID: tenantID, Change: l.change})
	if errors.Is(err, dryrun.ErrBadRequest) {
		return nil, fmt.Errorf("--set: %w", err)
	}
	return rep, err
}

// snapshotSQLite copies the database at src to dst as one consistent
// snapshot, through a connection that cannot write to src.
func snapshotSQLite(ctx context.Context, src, dst string) error {
	abs, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open %s read-only: %w", src, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("copy %s (read-only): %w", src, err)
	}
	return nil
}
