// Package reputation keeps a reputation record per source IP and decides
// whether a trial tenant may send from an IP (550 5.7.708).
//
// A tenant that has not bought licences costs an attacker nothing to create,
// so it may only send from IPs that have earned a reputation with paying
// tenants' traffic, unless an operator vouches for the IP (allow list) or for
// the tenant on that IP (an exception with an expiry).
//
// The hot path (Assess, Observe) works from memory: counts are aggregated per
// IP and written to the store by a periodic flush (and at Close) as
// additive upserts, so several gateways sharing PostgreSQL build one record
// per IP. Lists and exceptions are a snapshot reloaded at every flush and
// after each local change; other nodes see a change within FlushInterval.
package reputation

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-mail/tollgate/store"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Level is the outcome of an assessment.
type Level string

// The levels, from the operator's explicit word down to the record.
const (
	Allowed  Level = "allowed"  // on the operator allow list
	Excepted Level = "excepted" // the tenant holds a live exception for the IP
	Good     Level = "good"     // an established IP with a clean record
	New      Level = "new"      // seen, but too recently or too little
	Unknown  Level = "unknown"  // never seen (or the record could not be read)
	Poor     Level = "poor"     // spam ratio at or above the threshold
	Listed   Level = "listed"   // listed by a DNSBL zone
	Denied   Level = "denied"   // on the operator deny list
)

// Low reports whether l is a reputation a trial tenant may not send from.
func (l Level) Low() bool {
	switch l {
	case New, Unknown, Poor, Listed, Denied:
		return true
	}
	return false
}

// Defaults for Config's zero fields.
const (
	DefaultNewIPAge        = 24 * time.Hour
	DefaultMinMessages     = 100
	DefaultPoorRatio       = 0.3
	DefaultPoorMinMessages = 20
	DefaultFlushInterval   = 30 * time.Second
	DefaultIdleTTL         = time.Hour
)

// Config tunes a Tracker. Zero fields take the defaults above.
type Config struct {
	// NewIPAge: an IP first seen less than this long ago is new.
	NewIPAge time.Duration
	// MinMessages: an IP with fewer messages than this is new.
	MinMessages int64
	// PoorRatio: spam/messages at or above it makes an IP poor, once it has
	// PoorMinMessages messages (so two spams out of three are not a verdict).
	PoorRatio       float64
	PoorMinMessages int64
	// FlushInterval is how often counts are written and lists reloaded.
	FlushInterval time.Duration
	// IdleTTL: a cached record not used for this long is dropped at a flush,
	// so memory follows the IPs in use rather than every IP ever seen.
	IdleTTL time.Duration
	// DNSBL, if it has zones, is consulted for IPs no list decides.
	DNSBL DNSBLConfig
	// Clock gives the time for Observe (tests set it); default time.Now.
	Clock func() time.Time
}

// positiveOr sets *v to def unless it is positive: an unset (or nonsense)
// setting takes its documented default.
func positiveOr[T ~int | ~int64 | ~float64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

func (c *Config) setDefaults() {
	positiveOr(&c.NewIPAge, DefaultNewIPAge)
	positiveOr(&c.MinMessages, DefaultMinMessages)
	positiveOr(&c.PoorRatio, DefaultPoorRatio)
	positiveOr(&c.PoorMinMessages, DefaultPoorMinMessages)
	positiveOr(&c.FlushInterval, DefaultFlushInterval)
	positiveOr(&c.IdleTTL, DefaultIdleTTL)
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// Tracker holds the reputation records, lists and exceptions of one node.
type Tracker struct {
	db    *store.DB
	cfg   Config
	dnsbl *dnsbl // nil without zones

	mu   sync.Mutex
	ips  map[netip.Addr]*entry // cached records and unflushed counts
	seen time.Time             // start of the last refresh, for the next one's "updated since"

	lists atomic.Pointer[snapshot]

	flushMu sync.Mutex // one Flush at a time, so a failed batch is put back before the next
	cancel  context.CancelFunc
	done    chan struct{}
	close   sync.Once
}

// Open migrates the reputation tables (scope "reputation"), loads the lists
// and exceptions and starts the background flush. Close stops it.
func Open(ctx context.Context, db *store.DB, cfg Config) (*Tracker, error) {
	cfg.setDefaults()
	if db.Dialect != store.SQLite && db.Dialect != store.Postgres {
		return nil, fmt.Errorf("reputation: store dialect %q is neither %q nor %q", db.Dialect, store.SQLite, store.Postgres)
	}
	sub, err := fs.Sub(migrations, "migrations/"+db.Dialect)
	if err != nil {
		return nil, fmt.Errorf("reputation: migrations: %w", err)
	}
	if err := db.Migrate(ctx, "reputation", sub); err != nil {
		return nil, fmt.Errorf("reputation: %w", err)
	}
	t := &Tracker{db: db, cfg: cfg, ips: map[netip.Addr]*entry{}, done: make(chan struct{})}
	if len(cfg.DNSBL.Zones) > 0 {
		if t.dnsbl, err = newDNSBL(cfg.DNSBL); err != nil {
			return nil, fmt.Errorf("reputation: %w", err)
		}
	}
	if err := t.reloadLists(ctx); err != nil {
		return nil, fmt.Errorf("reputation: load lists: %w", err)
	}
	t.seen = cfg.Clock()
	bg, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	go t.loop(bg)
	return t, nil
}

// Close stops the background flush and writes out the counts still in
// memory. It does not close the DB.
func (t *Tracker) Close(ctx context.Context) error {
	var err error
	t.close.Do(func() {
		t.cancel()
		<-t.done
		err = t.Flush(ctx)
	})
	return err
}

func (t *Tracker) loop(ctx context.Context) {
	defer close(t.done)
	tick := time.NewTicker(t.cfg.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := t.Sync(ctx); err != nil && ctx.Err() == nil {
				// Counts that failed to write are kept; the next tick retries.
				slog.Warn("reputation: sync", "err", err)
			}
		}
	}
}

// Sync is one background round: flush the counts, re-read records other
// nodes changed, reload lists and exceptions, drop idle cache entries.
func (t *Tracker) Sync(ctx context.Context) error {
	return errors.Join(t.Flush(ctx), t.Refresh(ctx), t.reloadLists(ctx))
}
