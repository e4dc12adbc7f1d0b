package gateway

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/protect"
)

// Classifier gives the content verdict of a message (see smtpd.Options.Classify).
type Classifier func(ctx context.Context, raw []byte, recipients int, tenant string) (policy.Verdict, error)

// Options are what a caller can plug into a node beyond its configuration.
type Options struct {
	// Classifier replaces the configured content classifier (tests that
	// need a verdict they choose).
	Classifier Classifier
	// Alert receives every alert besides the configured sinks (tests, demo).
	Alert func(protect.Alert)
}

// openCounters opens the counts behind the limits: Redis for a fleet, or
// this node's memory saved to data_dir/counters.
func openCounters(cfg *config.Config) (counters.Counter, error) {
	if cfg.Counters.RedisURL == "" {
		return counters.OpenFile(filepath.Join(cfg.DataDir, "counters"), cfg.Counters.SaveInterval.Duration)
	}
	opts, err := redis.ParseURL(cfg.Counters.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("config: counters.redis_url: %w", err)
	}
	c, err := counters.NewRedis(opts, cfg.Counters.Prefix)
	if err != nil {
		return nil, fmt.Errorf("counters: %w", err)
	}
	return c, nil
}

// openProtection opens the counters and the block store and builds the
// protection checks.
func (g *Gateway) openProtection(ctx context.Context, cfg *config.Config, opts Options) error {
	var err error
	if g.Counters, err = openCounters(cfg); err != nil {
		return err
	}
	if g.Blocks, err = blocks.Open(ctx, g.DB, blocks.Options{Audit: g.Audit, Logger: g.log}); err != nil {
		return err
	}
	g.Protect = &protect.Engine{
		Defaults: cfg.Policy.Settings(), Counters: g.Counters, Blocks: g.Blocks, Tenants: g.Directory,
		Logger: g.log, Alert: g.alert(opts.Alert),
	}
	return nil
}

// alert logs every alert and passes it on.
func (g *Gateway) alert(extra func(protect.Alert)) func(protect.Alert) {
	return func(a protect.Alert) {
		g.log.Warn("alert", "kind", a.Kind, "tenant", a.Tenant, "subject", a.Subject, "text", a.Text)
		if extra != nil {
			extra(a)
		}
	}
}

// policyChain is the full chain of checks in order.
func (g *Gateway) policyChain(cfg *config.Config) policy.Chain {
	chain := policy.Chain{policy.AttributionCheck{}}
	chain = append(chain, g.Protect.Checks()[0]) // the tenant first: a blocked tenant learns nothing more
	chain = append(chain, policy.ProbationCheck{Quota: cfg.Policy.ConnectorProbationQuota, Connectors: g.Directory})
	chain = append(chain, g.Protect.Checks()[1:]...)
	return chain
}

func (g *Gateway) closeProtection() {
	if g.Blocks != nil {
		g.Blocks.Close()
	}
	if g.Counters != nil {
		g.Counters.Close()
	}
}
