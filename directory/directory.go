// Package directory holds tenants, their accepted domains, users and
// connectors: what the SMTP front end needs to attribute a connection to a
// tenant. The hot-path lookups (ConnectorForIP, IsVerifiedDomain) read an
// in-memory snapshot; everything else goes to the database.
package directory

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-mail/tollgate/password"
	"github.com/tollgate-mail/tollgate/store"
)

// migrations holds one folder per store dialect (store.SQLite,
// store.Postgres), each a complete, equivalent schema history.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Errors callers match with errors.Is. Returned errors wrap them with what
// was being done and the offending value.
var (
	ErrNotFound       = errors.New("not found")
	ErrConflict       = errors.New("conflict")
	ErrInvalid        = errors.New("invalid")
	ErrBadCredentials = errors.New("bad credentials")
)

// License is a tenant's licence state.
type License string

const (
	Trial    License = "trial"
	Licensed License = "licensed"
	Expired  License = "expired"
)

// Valid reports whether l is one of the known states.
func (l License) Valid() bool { return l == Trial || l == Licensed || l == Expired }

type Tenant struct {
	ID        int64
	Name      string
	License   License
	Seats     int
	CreatedAt time.Time
	// LicenseExpires ends a licensed subscription; zero is open-ended.
	LicenseExpires time.Time
	// SenderBinding says which sender addresses the tenant's SMTP AUTH
	// users may use (see SetSenderBinding).
	SenderBinding SenderBinding
	// Pool is the dedicated delivery pool the operator assigned (see
	// SetTenantPool); "" is none: the normal pool.
	Pool string
}

// LicenseAt is the licence in force at now: a licensed tenant whose
// subscription ended counts as expired from that moment.
func (t Tenant) LicenseAt(now time.Time) License {
	if t.License == Licensed && !t.LicenseExpires.IsZero() && !now.Before(t.LicenseExpires) {
		return Expired
	}
	return t.License
}

// Domain is an accepted domain. It is pending until the DNS TXT record
// "tollgate-verification=<Token>" has been seen (Verified).
type Domain struct {
	ID, TenantID int64
	Name         string // lowercase ASCII (A-labels for IDNs), no trailing dot
	Verified     bool
	Token        string
	CreatedAt    time.Time
}

// User is a mailbox that submits mail with SMTP AUTH. Address is lowercase.
type User struct {
	ID, TenantID int64
	Address      string
	Disabled     bool
	CreatedAt    time.Time
	// AppPasswordID is set by Authenticate when the login used one of the
	// user's app passwords rather than the main password, so a restriction
	// can stop that credential alone.
	AppPasswordID int64
}

// Connector is an inbound connector identified by sender IP ranges. Deleted
// connectors are kept for the record with DeletedAt set.
type Connector struct {
	ID, TenantID  int64
	Name          string
	IPRanges      []netip.Prefix // masked, sorted, no duplicates
	CreatedBy     string
	CreatedAt     time.Time
	DeletedAt     time.Time // zero while live
	CertDomain    string    // certificate connectors: the domain its TLS client certificate must name ("*.x" allowed); "" for IP ranges
	ConfirmedAt   time.Time // zero while on probation
	ConfirmedBy   string
	MessagesToday int64     // this UTC day's messages, as of the last flush
	Messages      int64     // messages accepted through it, ever (flushed every refresh interval)
	LastTraffic   time.Time // when the last of them was accepted; zero if never
	Pool          string    // dedicated delivery pool (SetConnectorPool); "": the tenant's

	// dayStart and dayMessages are the stored day count: MessagesToday is
	// worked out from them again at each read, so a snapshot loaded
	// yesterday does not carry yesterday's count past midnight.
	dayStart, dayMessages int64
}

// Live reports whether the connector has not been deleted.
func (c Connector) Live() bool { return c.DeletedAt.IsZero() }

// DefaultRefreshInterval is how often the snapshot is reloaded from the
// database to pick up changes made by other nodes.
const DefaultRefreshInterval = 5 * time.Second

// Option configures Open.
type Option func(*Directory)

// WithRefreshInterval sets how often the snapshot is reloaded (d > 0).
func WithRefreshInterval(d time.Duration) Option {
	return func(dir *Directory) {
		if d > 0 {
			dir.interval = d
		}
	}
}

// Directory is safe for concurrent use. It does not own the store.DB: close
// the Directory first, then the DB.
type Directory struct {
	db       *store.DB
	interval time.Duration

	snap     atomic.Pointer[snapshot]
	reloadMu sync.Mutex // serialises reloads so an older snapshot never replaces a newer one

	// dummyHash is verified against for unknown users, so they cost the
	// same hash as known ones.
	dummyHash func() (string, error)

	// Sign-in throttle for admins (see WithSignInThrottle).
	throttleLimit  int
	throttleWindow time.Duration
	// sourceLimit is the sign-in throttle per source address (see
	// WithSourceThrottle); signInHashes bounds sign-in's argon2 hashes.
	sourceLimit  int
	signInHashes *password.Limiter
	// clock is the time for calls that take no now parameter (token and
	// app-password LastUsed, UseRecoveryCode's throttle); tests replace it.
	clock func() time.Time

	traffic traffic // per-connector counts waiting for the next flush

	cancel context.CancelFunc
	done   chan struct{}
	close  sync.Once
}

// Open migrates the directory tables (with the migrations for db.Dialect),
// loads the snapshot and starts the background refresher.
func Open(ctx context.Context, db *store.DB, opts ...Option) (*Directory, error) {
	d := &Directory{
		db:        db,
		interval:  DefaultRefreshInterval,
		dummyHash: sync.OnceValues(func() (string, error) { return password.Hash(password.Random(24)) }),
		done:      make(chan struct{}),

		throttleLimit:  DefaultThrottleLimit,
		throttleWindow: DefaultThrottleWindow,
		sourceLimit:    DefaultSourceThrottleLimit,
		signInHashes:   password.NewLimiter(runtime.NumCPU() / 2),
		clock:          time.Now,
	}
	for _, o := range opts {
		o(d)
	}
	if db.Dialect != store.SQLite && db.Dialect != store.Postgres {
		return nil, fmt.Errorf("directory: store dialect %q is neither %q nor %q", db.Dialect, store.SQLite, store.Postgres)
	}
	sub, err := fs.Sub(migrations, "migrations/"+db.Dialect)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, "directory", sub); err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	if err := d.reload(ctx); err != nil {
		return nil, fmt.Errorf("directory: load snapshot: %w", err)
	}
	bg, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go d.refresh(bg)
	return d, nil
}

// Close stops the refresher, waits for it and writes out the connector
// traffic it holds. It does not close the DB.
func (d *Directory) Close() error {
	d.close.Do(func() {
		d.cancel()
		<-d.done
		d.FlushTraffic(context.Background())
	})
	return nil
}

func (d *Directory) refresh(ctx context.Context) {
	defer close(d.done)
	t := time.NewTicker(d.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.FlushTraffic(ctx)
			if err := d.reload(ctx); err != nil && ctx.Err() == nil {
				// Keep serving the last good snapshot; the next tick retries.
				slog.Warn("directory: refresh snapshot", "err", err)
			}
		}
	}
}

// changed reloads the snapshot after a committed local change. The change
// stands even if the reload fails, so that is logged rather than returned;
// the refresher catches up.
func (d *Directory) changed(ctx context.Context) {
	if err := d.reload(context.WithoutCancel(ctx)); err != nil {
		slog.Warn("directory: reload snapshot after change", "err", err)
	}
}

// queryer is what *sql.DB and *sql.Tx have in common.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// insertID runs an INSERT … ON CONFLICT (…) DO NOTHING RETURNING id and
// returns the new id, or ErrConflict (with what and why) when a unique
// constraint kept the row out. Both stores take this form. On PostgreSQL
// it waits for a concurrent insert of the same key to commit or roll back
// and leaves the transaction usable, so two nodes racing end in one row and
// one clean ErrConflict rather than a raw constraint error.
func insertID(ctx context.Context, tx *sql.Tx, what, why, query string, args ...any) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, query, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%s: %w: %s", what, ErrConflict, why)
	}
	return id, err
}

// now returns the current time as stored (unix nanoseconds) and as read back.
func now() (time.Time, int64) {
	n := time.Now().UnixNano()
	return fromNanos(n), n
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
