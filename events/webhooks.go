package events

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/nexthop"
)

// URLRules say which webhook URLs a tenant may set. A tenant chooses the
// URL and Tollgate connects to it from inside the operator's network, so
// the rules are strict by default:
//   - https only; plain http only in dev mode, and then only to loopback
//     (a receiver on the developer's machine);
//   - no user name or password in the URL: requests are authenticated by
//     the signature, and a URL is shown in the console and the audit log;
//   - no address literal in a reserved range (private, loopback,
//     link-local, …) unless Guard allows it (events.allowed_internal_webhooks);
//     a name that resolves to one is refused when it is dialled
//     (GuardedClient), so DNS cannot route around the rule.
type URLRules struct {
	Guard nexthop.Guard
	// Dev allows http:// to loopback (serve --dev).
	Dev bool
}

// maxURLLength bounds a stored URL; real receivers' URLs are far shorter.
const maxURLLength = 2000

// Check refuses a URL the rules do not allow, saying why.
func (r URLRules) Check(raw string) error {
	if len(raw) > maxURLLength {
		return fmt.Errorf("%w webhook url: longer than %d characters", ErrInvalid, maxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" || u.Opaque != "" {
		return fmt.Errorf("%w webhook url %q: want https://host/path", ErrInvalid, raw)
	}
	if u.User != nil {
		return fmt.Errorf("%w webhook url: no user name or password in the URL (requests are signed; check the Tollgate-Signature header instead)", ErrInvalid)
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	ip, perr := netip.ParseAddr(host)
	isIP := perr == nil
	loopback := host == "localhost" || strings.HasSuffix(host, ".localhost") || (isIP && ip.IsLoopback())
	switch u.Scheme {
	case "https":
	case "http":
		if !r.Dev || !loopback {
			return fmt.Errorf("%w webhook url %q: must be https (plain http only to loopback, in dev mode)", ErrInvalid, raw)
		}
	default:
		return fmt.Errorf("%w webhook url %q: must be https", ErrInvalid, raw)
	}
	if isIP {
		if err := r.Guard.Check(ip); err != nil {
			return fmt.Errorf("%w webhook url %q: %v (the operator may allow it in events.allowed_internal_webhooks)", ErrInvalid, raw, err)
		}
	} else if loopback {
		if err := r.Guard.Check(netip.MustParseAddr("127.0.0.1")); err != nil {
			return fmt.Errorf("%w webhook url %q: %s is loopback (the operator may allow it in events.allowed_internal_webhooks)", ErrInvalid, raw, host)
		}
	}
	return nil
}

// Webhook is a tenant's delivery-event receiver as the API shows it.
type Webhook struct {
	TenantID int64
	URL      string
	// Secret signs each request; empty for a pinned (config) webhook,
	// whose secret is the operator's to share.
	Secret    string
	Pinned    bool
	UpdatedBy string
	UpdatedAt time.Time
}

// auditForm is how a webhook reads in the audit log: never the secret,
// only a fingerprint, so a rotation shows without leaking the key.
func auditForm(w Webhook) json.RawMessage {
	sum := sha256.Sum256([]byte(w.Secret))
	b, _ := json.Marshal(map[string]string{"url": w.URL, "secret_sha256": hex.EncodeToString(sum[:4])})
	return b
}

// Webhook returns the tenant's webhook: the config file's (pinned) if it
// has one there, else the one it set.
func (s *Store) Webhook(ctx context.Context, tenantID int64, tenantName string) (Webhook, error) {
	if p := s.opts.Pinned[tenantName]; p != nil {
		return Webhook{TenantID: tenantID, URL: p.URL, Pinned: true, UpdatedBy: "config"}, nil
	}
	w, err := s.stored(ctx, s.db.Write, tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return Webhook{}, fmt.Errorf("tenant %d: %w", tenantID, ErrNotFound)
	}
	return w, err
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) stored(ctx context.Context, q queryer, tenantID int64) (Webhook, error) {
	w := Webhook{TenantID: tenantID}
	var at int64
	var plain, sealed string
	err := q.QueryRowContext(ctx, `SELECT url, secret, secret_sealed, updated_by, updated_at FROM event_webhooks WHERE tenant_id = $1`, tenantID).
		Scan(&w.URL, &plain, &sealed, &w.UpdatedBy, &at)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Webhook{}, err
		}
		return Webhook{}, fmt.Errorf("events: webhook of tenant %d: %w", tenantID, err)
	}
	if w.Secret, err = s.openSecret(tenantID, plain, sealed); err != nil {
		return Webhook{}, err
	}
	w.UpdatedAt = time.Unix(0, at).UTC()
	return w, nil
}

// SetWebhook points the tenant's events at rawURL, checked by the rules.
// The first set makes a signing secret; a later one keeps it, so moving
// the receiver does not break its signature check. Audited.
func (s *Store) SetWebhook(ctx context.Context, tenantID int64, tenantName, rawURL, actor, sourceIP string) (Webhook, error) {
	rawURL = strings.TrimSpace(rawURL)
	if err := s.opts.Rules.Check(rawURL); err != nil {
		return Webhook{}, err
	}
	return s.change(ctx, tenantID, tenantName, actor, sourceIP, "events.webhook.set", func(old *Webhook) (*Webhook, error) {
		w := Webhook{TenantID: tenantID, URL: rawURL}
		if old != nil {
			w.Secret = old.Secret
		} else {
			w.Secret = newSecret()
		}
		return &w, nil
	})
}

// RotateSecret gives the tenant's webhook a new signing secret; the old
// one stops signing at once. Audited (a fingerprint, not the secret).
func (s *Store) RotateSecret(ctx context.Context, tenantID int64, tenantName, actor, sourceIP string) (Webhook, error) {
	return s.change(ctx, tenantID, tenantName, actor, sourceIP, "events.webhook.rotate_secret", func(old *Webhook) (*Webhook, error) {
		if old == nil {
			return nil, fmt.Errorf("tenant %d: %w", tenantID, ErrNotFound)
		}
		w := *old
		w.Secret = newSecret()
		return &w, nil
	})
}

// ClearWebhook removes the tenant's webhook: its events are no longer
// queued, and those queued are not sent. Audited.
func (s *Store) ClearWebhook(ctx context.Context, tenantID int64, tenantName, actor, sourceIP string) error {
	_, err := s.change(ctx, tenantID, tenantName, actor, sourceIP, "events.webhook.clear", func(old *Webhook) (*Webhook, error) {
		if old == nil {
			return nil, fmt.Errorf("tenant %d: %w", tenantID, ErrNotFound)
		}
		return nil, nil
	})
	return err
}

// change applies edit to the tenant's stored webhook (nil: none) and
// writes its audit entry in the same transaction.
func (s *Store) change(ctx context.Context, tenantID int64, tenantName, actor, sourceIP, action string, edit func(old *Webhook) (*Webhook, error)) (Webhook, error) {
	if s.opts.Pinned[tenantName] != nil {
		return Webhook{}, ErrPinned
	}
	if actor == "" {
		actor = "system"
	}
	var out Webhook
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var old *Webhook
		w, err := s.stored(ctx, tx, tenantID)
		switch {
		case err == nil:
			old = &w
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		next, err := edit(old)
		if err != nil {
			return err
		}
		entry := audit.Entry{Actor: actor, TenantID: tenantID, SourceIP: sourceIP, Action: action, Target: "tenant:" + strconv.FormatInt(tenantID, 10)}
		if old != nil {
			entry.Before = auditForm(*old)
		}
		if next == nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM event_webhooks WHERE tenant_id = $1`, tenantID); err != nil {
				return err
			}
		} else {
			next.UpdatedBy, next.UpdatedAt = actor, time.Now().UTC()
			sealed, err := s.sealSecret(tenantID, next.Secret)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO event_webhooks (tenant_id, url, secret, secret_sealed, updated_by, updated_at) VALUES ($1, $2, '', $3, $4, $5)
				ON CONFLICT (tenant_id) DO UPDATE SET url = excluded.url, secret = '', secret_sealed = excluded.secret_sealed, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
				tenantID, next.URL, sealed, next.UpdatedBy, next.UpdatedAt.UnixNano()); err != nil {
				return err
			}
			entry.After = auditForm(*next)
			out = *next
		}
		if s.audit != nil {
			_, err = s.audit.AppendTx(ctx, tx, entry)
		}
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrNoKey) {
			return Webhook{}, err
		}
		return Webhook{}, fmt.Errorf("events: %s for tenant %d: %w", action, tenantID, err)
	}
	s.mu.Lock()
	s.loaded = time.Time{} // read again at the next lookup
	s.mu.Unlock()
	return out, nil
}

func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Hook returns the tenant's stored webhook ready to post, nil when it has
// none: the Dispatcher's Hook lookup for webhooks set through the API. It
// answers from a cache read again every Refresh; a database error keeps
// the last good cache (events keep flowing through a hiccup).
func (s *Store) Hook(ctx context.Context, tenantID int64) *alert.Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.loaded) >= s.opts.Refresh {
		if hooks, err := s.loadHooks(ctx); err == nil {
			s.hooks, s.loaded = hooks, time.Now()
		}
	}
	return s.hooks[tenantID].hook
}

// loadHooks reads every stored webhook, keeping the built Webhook of
// those that did not change (its client and settings).
func (s *Store) loadHooks(ctx context.Context) (map[int64]cachedHook, error) {
	rows, err := s.db.Write.QueryContext(ctx, `SELECT tenant_id, url, secret, secret_sealed FROM event_webhooks`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]cachedHook{}
	for rows.Next() {
		var id int64
		var c cachedHook
		var plain, sealed string
		if err := rows.Scan(&id, &c.url, &plain, &sealed); err != nil {
			return nil, err
		}
		secret, err := s.openSecret(id, plain, sealed)
		if err != nil {
			continue // a key that does not open it: Open said so at start
		}
		c.secret = secret
		if old, ok := s.hooks[id]; ok && old.url == c.url && old.secret == c.secret {
			out[id] = old
			continue
		}
		wh, err := alert.NewWebhook(c.url, c.secret)
		if err != nil {
			continue // refused when set; a hand-edited row is skipped
		}
		wh.Client, wh.UserAgent, wh.IDHeader = s.opts.Client, UserAgent, IDHeader
		c.hook = wh
		out[id] = c
	}
	return out, rows.Err()
}

// The headers of a delivery-event request besides alert's signature.
const (
	UserAgent = "Tollgate-Events/1"
	IDHeader  = "Tollgate-Event-Id"
)
