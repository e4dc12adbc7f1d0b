package events

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/store"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// ErrNotFound says the tenant has no webhook set through the API.
var ErrNotFound = errors.New("no delivery-event webhook set")

// ErrInvalid wraps a webhook URL the rules refuse.
var ErrInvalid = errors.New("invalid")

// ErrPinned says the operator set the tenant's webhook in the config file
// ([[events.webhook]]): the tenant can see its URL but not change it.
var ErrPinned = errors.New("the operator set this tenant's webhook in the config file ([[events.webhook]]); ask them to change it")

// StoreOptions configures Open.
type StoreOptions struct {
	// Rules check a URL a tenant sets.
	Rules URLRules
	// Client posts to the tenants' webhooks (GuardedClient).
	Client *http.Client
	// Pinned are the webhooks of the config file by tenant name: they win
	// over a stored one, and the API refuses to change them.
	Pinned map[string]*WebhookConfig
	// Key is the installation's 32-byte key (dkim.LoadKey: [dkim] key_file
	// or TOLLGATE_DKIM_KEY) that seals the stored webhooks' signing
	// secrets, as it seals the DKIM private keys. Without it no webhook can
	// be set through the API (ErrNoKey), and Open refuses a database that
	// holds stored webhooks.
	Key []byte
	// FailedRetention is how long an event whose sends all failed is kept
	// for a redelivery; default 7 days.
	FailedRetention time.Duration
	// FailedPerTenant bounds the failed events kept per tenant (the newest
	// stay); default 1000.
	FailedPerTenant int
	// Refresh is how old the cached webhooks may get before they are read
	// again, so a change made on another node of a fleet is seen; default
	// 10 s. A change made through this Store is seen at once.
	Refresh time.Duration
}

// WebhookConfig is a webhook's URL and signing secret.
type WebhookConfig struct {
	URL, Secret string
}

// Store keeps the outbox of unsent events (Outbox) and the webhooks
// tenants set, in the shared database.
type Store struct {
	db    *store.DB
	audit *audit.Log
	opts  StoreOptions
	seal  *store.Sealer // nil without a key
	now   func() time.Time

	// requeue hands a redelivered event to the dispatcher (Attach).
	requeue func(Event) bool
	node    string

	mu     sync.Mutex
	hooks  map[int64]cachedHook
	loaded time.Time
}

type cachedHook struct {
	url, secret string
	hook        *alert.Webhook
}

// Open applies the migrations.
func Open(ctx context.Context, db *store.DB, log *audit.Log, opts StoreOptions) (*Store, error) {
	sub, err := fs.Sub(migrations, "migrations/"+db.Dialect)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, "events", sub); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	if opts.Refresh <= 0 {
		opts.Refresh = 10 * time.Second
	}
	if opts.FailedRetention <= 0 {
		opts.FailedRetention = DefaultFailedRetention
	}
	if opts.FailedPerTenant <= 0 {
		opts.FailedPerTenant = DefaultFailedPerTenant
	}
	s := &Store{db: db, audit: log, opts: opts, now: time.Now}
	if opts.Key != nil {
		if s.seal, err = store.NewSealer(opts.Key); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
	}
	if err := s.sealPlain(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Save implements Outbox.
func (s *Store) Save(ctx context.Context, node string, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = s.db.Write.ExecContext(ctx, `INSERT INTO event_outbox (id, node, tenant_id, body, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO NOTHING`, e.ID, node, e.TenantID, string(body), e.Time.UnixNano())
	if err != nil {
		return fmt.Errorf("events: save %s: %w", e.ID, err)
	}
	return nil
}

// Delete implements Outbox.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.db.Write.ExecContext(ctx, `DELETE FROM event_outbox WHERE id = $1`, id); err != nil {
		return fmt.Errorf("events: delete %s: %w", id, err)
	}
	return nil
}

// Pending implements Outbox: node's unsent events, oldest first (not
// those that failed: they wait for a redelivery).
func (s *Store) Pending(ctx context.Context, node string) ([]Event, error) {
	rows, err := s.db.Write.QueryContext(ctx, `SELECT id, body FROM event_outbox WHERE node = $1 AND failed_at = 0 ORDER BY created_at, id`, node)
	if err != nil {
		return nil, fmt.Errorf("events: pending: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, fmt.Errorf("events: pending: %w", err)
		}
		var e Event
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.ID != id {
			return nil, fmt.Errorf("events: pending: row %s holds no event: %v", id, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: pending: %w", err)
	}
	return out, nil
}
