package gateway

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/dkim"
	"github.com/tollgate-mail/tollgate/events"
	"github.com/tollgate-mail/tollgate/metrics"
	"github.com/tollgate-mail/tollgate/nexthop"
	"github.com/tollgate-mail/tollgate/suppress"
)

var registerEventMetrics sync.Once

// openEvents builds the delivery-event dispatcher: its outbox and the
// webhooks tenants set are in the shared store; those of [[events.webhook]]
// are pinned by the operator and win. Every webhook is checked against
// the internal-address guard and signed with its own secret by the alert
// webhook's code. The events a previous run left unsent are resumed.
func (g *Gateway) openEvents(ctx context.Context, cfg *config.Config) error {
	registerEventMetrics.Do(func() { metrics.Registry.MustRegister(events.Collectors()...) })
	guard := nexthop.Guard{Allowed: cfg.Events.AllowedInternalWebhooks}
	if cfg.Dev {
		// Dev mode's receivers run on the developer's machine: the URL
		// rules allow http:// to loopback there, so the guard must too.
		guard.Allowed = append(slices.Clone(guard.Allowed), netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
	}
	client := events.GuardedClient(guard)
	hooks := map[string]*alert.Webhook{}
	pinned := map[string]*events.WebhookConfig{}
	for i, h := range cfg.Events.Webhooks {
		if err := events.CheckURL(h.URL, guard); err != nil {
			return fmt.Errorf("config: events.webhook[%d].url: %w", i, err)
		}
		wh, err := alert.NewWebhook(h.URL, h.Secret)
		if err != nil {
			return fmt.Errorf("config: events.webhook[%d]: %w", i, err)
		}
		wh.Client, wh.UserAgent, wh.IDHeader = client, events.UserAgent, events.IDHeader
		hooks[h.Tenant] = wh
		pinned[h.Tenant] = &events.WebhookConfig{URL: h.URL, Secret: h.Secret}
	}
	key, err := webhookSealKey(cfg)
	if err != nil {
		return err
	}
	if g.EventStore, err = events.Open(ctx, g.DB, g.Audit, events.StoreOptions{
		Rules: events.URLRules{Guard: guard, Dev: cfg.Dev}, Client: client, Pinned: pinned, Key: key,
		FailedRetention: cfg.Events.FailedRetention.Duration, FailedPerTenant: cfg.Events.FailedPerTenant,
	}); err != nil {
		return err
	}
	names := &tenantNames{g: g, byID: map[int64]cachedName{}}
	st := g.EventStore
	d, err := events.NewDispatcher(events.Config{QueueSize: cfg.Events.QueueSize, Log: g.log.With("component", "events"),
		Outbox: st, Node: cfg.Hostname,
		Hook: func(ctx context.Context, id int64) *alert.Webhook {
			if len(hooks) > 0 {
				if h := hooks[names.name(ctx, id)]; h != nil {
					return h
				}
			}
			return st.Hook(ctx, id)
		}})
	if err != nil {
		return err
	}
	g.Events = d
	st.Attach(d)
	if _, err := d.Resume(ctx); err != nil {
		return err
	}
	return nil
}

// webhookSealKey is the key the stored webhooks' signing secrets are
// sealed with: the installation's DKIM key ([dkim] key_file or
// TOLLGATE_DKIM_KEY; in dev mode data_dir/dkim-key), read whenever one is
// set even with signing off. nil when none is: webhooks can then only be
// pinned in the config file.
func webhookSealKey(cfg *config.Config) ([]byte, error) {
	if !cfg.DKIM.Enabled && cfg.DKIM.KeyFile == "" && !cfg.Dev && strings.TrimSpace(os.Getenv(dkim.EnvKey)) == "" {
		return nil, nil
	}
	devDir := ""
	if cfg.Dev {
		devDir = cfg.DataDir
	}
	key, _, err := dkim.LoadKey(cfg.DKIM.KeyFile, devDir)
	if err != nil {
		return nil, fmt.Errorf("events: the key that seals webhook secrets: %w", err)
	}
	return key, nil
}

// tenantNames caches tenant id → name for a minute, so the webhook lookup
// on every delivery result does not cost a directory query.
type tenantNames struct {
	g    *Gateway
	mu   sync.Mutex
	byID map[int64]cachedName
}

type cachedName struct {
	name string
	at   time.Time
}

func (n *tenantNames) name(ctx context.Context, id int64) string {
	n.mu.Lock()
	c, ok := n.byID[id]
	n.mu.Unlock()
	if ok && time.Since(c.at) < time.Minute {
		return c.name
	}
	t, err := n.g.Directory.Tenant(ctx, id)
	if err != nil {
		return c.name // a directory hiccup keeps the last known name
	}
	n.mu.Lock()
	n.byID[id] = cachedName{t.Name, time.Now()}
	n.mu.Unlock()
	return t.Name
}

// onSuppressed turns a recipient refused (or dropped) by the suppression
// check into a suppressed delivery event.
func (g *Gateway) onSuppressed(ctx context.Context, tenantID int64, rcpt, reason string, dropped bool) {
	detail := "refused at RCPT: " + suppress.Suppressed.Text
	if dropped {
		detail = "dropped (suppression_action = drop): accepted at RCPT, not delivered"
	}
	g.Events.Emit(ctx, events.Event{Kind: events.Suppressed, TenantID: tenantID, Recipient: rcpt,
		Code: suppress.Suppressed.EnhancedString(), Reason: reason, Detail: detail})
}
