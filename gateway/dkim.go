package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/dkim"
	"github.com/tollgate-mail/tollgate/dnsverify"
	"github.com/tollgate-mail/tollgate/events"
	"github.com/tollgate-mail/tollgate/queue"
	"github.com/tollgate-mail/tollgate/suppress"
)

// openDKIM opens the key store when signing is on; the installation's key
// must be there, or the start fails naming where it is looked for.
func (g *Gateway) openDKIM(ctx context.Context, cfg *config.Config) error {
	if !cfg.DKIM.Enabled {
		return nil
	}
	devDir := ""
	if cfg.Dev {
		devDir = cfg.DataDir
	}
	key, from, err := dkim.LoadKey(cfg.DKIM.KeyFile, devDir)
	if err != nil {
		return err
	}
	if g.DKIM, err = dkim.Open(ctx, g.DB, dkim.Options{Key: key, Audit: g.Audit, Refresh: cfg.DKIM.Refresh.Duration}); err != nil {
		return err
	}
	g.log.Info("DKIM signing on", "key", from)
	return nil
}

// startDKIMSweep runs sweepDKIM now and every check_interval, once the
// directory is complete (the dev seed included).
func (g *Gateway) startDKIMSweep(cfg *config.Config) {
	if g.DKIM == nil {
		return
	}
	resolver := dnsverify.New(cfg.Delivery.Resolver)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(cfg.DKIM.CheckInterval.Duration)
		defer t.Stop()
		for {
			g.sweepDKIM(ctx, resolver)
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	g.stopDKIM = func() { cancel(); <-done }
}

// outbound is the transport the queue delivers through: the SMTP client,
// behind the DKIM signer when signing is on, behind the recorder that puts
// hard-bounced recipients on the suppression list.
func (g *Gateway) outbound() queue.Transport {
	var t queue.Transport = g.transport
	if g.DKIM != nil {
		t = &dkim.Transport{Next: t, Keys: g.DKIM, Owns: g.Directory.IsVerifiedDomain, Log: g.log.With("component", "dkim")}
	}
	t = &suppress.Recorder{Next: t, Store: g.Suppress, Classify: g.Feedback.Classify, Log: g.log.With("component", "suppress")}
	return &events.Transport{Next: t, Events: g.Events, Classify: g.Feedback.Classify}
}

// sweepDKIM gives every verified domain without keys its first ones, and
// checks the records of keys not yet seen in DNS, so a published key
// starts signing without an admin's click. Every node sweeps; the store
// makes concurrent sweeps safe.
func (g *Gateway) sweepDKIM(ctx context.Context, resolver dkim.TXTLooker) {
	tenants, err := g.Directory.Tenants(ctx)
	if err != nil {
		g.log.Warn("DKIM sweep: list tenants", "err", err)
		return
	}
	for _, tn := range tenants {
		doms, err := g.Directory.Domains(ctx, tn.ID)
		if err != nil {
			g.log.Warn("DKIM sweep: list domains", "tenant", tn.Name, "err", err)
			continue
		}
		for _, d := range doms {
			if ctx.Err() != nil {
				return
			}
			if !d.Verified {
				continue
			}
			if err := g.sweepDomain(ctx, tn.ID, d.Name, resolver); err != nil {
				g.log.Warn("DKIM sweep", "tenant", tn.Name, "domain", d.Name, "err", err)
			}
		}
	}
}

func (g *Gateway) sweepDomain(ctx context.Context, tenantID int64, domain string, resolver dkim.TXTLooker) error {
	keys, _, err := g.DKIM.Ensure(ctx, tenantID, domain, "system")
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.State == dkim.Pending {
			res, err := g.DKIM.Check(ctx, tenantID, domain, resolver, "system")
			if err != nil {
				return fmt.Errorf("check: %w", err)
			}
			if res.Activated != 0 {
				g.log.Info("DKIM keys seen in DNS; signing with them", "tenant_id", tenantID, "domain", domain, "generation", res.Activated)
			}
			return nil
		}
	}
	return nil
}
