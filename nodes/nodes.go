// Package nodes keeps what each node of a fleet reports about itself in
// the shared store (PostgreSQL for a fleet, the embedded SQLite for one
// node), so any node's dashboard can show the whole fleet: each node's
// spool is its own, and only the node can count it.
//
// A node reports every ReportEvery; a report older than StaleAfter is
// shown as stale and not counted as current, so a node that stopped (or
// lost the store) shows as such instead of freezing its last figure into
// the fleet's total.
//
// A node is known by its id, kept in its data directory (NodeID), not by
// its hostname: two nodes configured with the same hostname (a copied
// configuration, a container image) are listed apart instead of taking
// turns overwriting one row, and a node restarted on the same data
// directory keeps its row.
package nodes

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/store"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

const (
	// ReportEvery is how often a running node reports.
	ReportEvery = 10 * time.Second
	// StaleAfter is how old a report may be and still count: three missed
	// reports, so one slow write does not flap a node to stale.
	StaleAfter = 3 * ReportEvery
	// forgetAfter drops a node that has not reported for a day: a node
	// taken out of the fleet leaves the list by itself.
	forgetAfter = 24 * time.Hour
)

// ErrInvalid is a report the store refuses (no node name, negative depth).
var ErrInvalid = errors.New("invalid node report")

// Node is who reports: the id from its data directory and the hostname it
// is configured with (what the dashboard shows; not unique).
type Node struct {
	ID       string
	Hostname string
}

// Report is one node's last report.
type Report struct {
	Node
	QueueDepth int
	ReportedAt time.Time
	Stale      bool // older than StaleAfter when listed
}

// Store reads and writes the reports.
type Store struct{ db *store.DB }

// Open migrates the reports table on db.
func Open(ctx context.Context, db *store.DB) (*Store, error) {
	sub, err := fs.Sub(migrations, "migrations/"+db.Dialect)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, "nodes", sub); err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	return &Store{db: db}, nil
}

// Report records node's queue depth as of at, replacing its last report
// (and its hostname, should it have changed), and forgets nodes silent for
// a day.
func (s *Store) Report(ctx context.Context, node Node, depth int, at time.Time) error {
	node.Hostname = strings.TrimSpace(node.Hostname)
	if !validID(node.ID) {
		return fmt.Errorf("nodes: report: %w: node id %q", ErrInvalid, node.ID)
	}
	if node.Hostname == "" || len(node.Hostname) > 255 {
		return fmt.Errorf("nodes: report %s: %w: hostname %q", node.ID, ErrInvalid, node.Hostname)
	}
	if depth < 0 {
		return fmt.Errorf("nodes: report %s: %w: queue depth %d", node.ID, ErrInvalid, depth)
	}
	if _, err := s.db.Write.ExecContext(ctx, `INSERT INTO node_reports (node_id, hostname, queue_depth, reported_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (node_id) DO UPDATE SET hostname = excluded.hostname, queue_depth = excluded.queue_depth, reported_at = excluded.reported_at`,
		node.ID, node.Hostname, depth, at.UnixNano()); err != nil {
		return fmt.Errorf("nodes: report %s (%s): %w", node.ID, node.Hostname, err)
	}
	if _, err := s.db.Write.ExecContext(ctx, `DELETE FROM node_reports WHERE reported_at < $1`, at.Add(-forgetAfter).UnixNano()); err != nil {
		return fmt.Errorf("nodes: forget silent nodes: %w", err)
	}
	return nil
}

// List is every node's last report by hostname, then id, each marked
// stale when older than StaleAfter at now. A node silent for a day is not
// listed even before the next report deletes it.
func (s *Store) List(ctx context.Context, now time.Time) ([]Report, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT node_id, hostname, queue_depth, reported_at FROM node_reports
		WHERE reported_at >= $1 ORDER BY hostname, node_id`, now.Add(-forgetAfter).UnixNano())
	if err != nil {
		return nil, fmt.Errorf("nodes: list: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		var r Report
		var at int64
		if err := rows.Scan(&r.ID, &r.Hostname, &r.QueueDepth, &at); err != nil {
			return nil, fmt.Errorf("nodes: list: %w", err)
		}
		r.ReportedAt = time.Unix(0, at).UTC()
		r.Stale = now.Sub(r.ReportedAt) > StaleAfter
		out = append(out, r)
	}
	return out, rows.Err()
}

// Run reports depth for node at once and then every interval (0:
// ReportEvery) until stop is called. The first report's error is returned, so a node that cannot reach
// the store says so at start; later ones are logged and retried at the
// next tick.
func (s *Store) Run(ctx context.Context, node Node, every time.Duration, depth func(context.Context) (int, error), log *slog.Logger) (stop func(), err error) {
	if every <= 0 {
		every = ReportEvery
	}
	report := func(ctx context.Context) error {
		n, err := depth(ctx)
		if err != nil {
			return fmt.Errorf("nodes: report %s (%s): %w", node.ID, node.Hostname, err)
		}
		return s.Report(ctx, node, n, time.Now())
	}
	if err := report(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := report(ctx); err != nil && ctx.Err() == nil {
					log.Warn("node report failed; the dashboard shows this node as stale until one succeeds", "node", node.ID, "hostname", node.Hostname, "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }, nil
}
