package gateway

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/classify"
	"github.com/tollgate-mail/tollgate/corrections"
	"github.com/tollgate-mail/tollgate/feedback"
	"github.com/tollgate-mail/tollgate/queue"
	"github.com/tollgate-mail/tollgate/reputation"
	"github.com/tollgate-mail/tollgate/suppress"

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
	// OnConnect sees each address delivery is about to connect to (tests
	// that prove a refused next hop was never dialled).
	OnConnect func(netip.AddrPort)
	// Feedback gives the tenants' delivery feedback (bounces, complaints)
	// to the protection decisions; nil is the node's own counts (feedback/).
	Feedback policy.FeedbackSource
	// TraceWindow shortens the summary interval of unattributed trace
	// events from a minute (tests).
	TraceWindow time.Duration
	// NodeReportEvery shortens how often this node reports its queue
	// depth to the shared store (tests); zero is nodes.ReportEvery.
	NodeReportEvery time.Duration
	// Now is the clock of every protection decision (the checks, the
	// block store, campaign counts, IP reputation, the queue's hold); nil is
	// time.Now. tollgate simulate drives a gateway on a virtual clock with it,
	// so hours of traffic replay in seconds through the real checks.
	Now func() time.Time
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
	g.clock = opts.Now
	if g.Counters, err = openCounters(cfg); err != nil {
		return err
	}
	if g.Blocks, err = blocks.Open(ctx, g.DB, blocks.Options{Audit: g.Audit, Logger: g.log, Now: opts.Now}); err != nil {
		return err
	}
	if g.Corrections, err = corrections.Open(ctx, g.DB, corrections.Options{Audit: g.Audit, Logger: g.log, Now: opts.Now}); err != nil {
		return err
	}
	rc := cfg.Reputation
	if g.Reputation, err = reputation.Open(ctx, g.DB, reputation.Config{NewIPAge: rc.NewIPAge.Duration,
		MinMessages: rc.MinMessages, PoorRatio: rc.PoorRatio,
		DNSBL: reputation.DNSBLConfig{Zones: rc.DNSBLZones, Server: rc.DNSBLServer, Timeout: rc.DNSBLTimeout.Duration}}); err != nil {
		return err
	}
	// The tenant decisions read the node's own delivery feedback counts
	// (shared through the counters) unless a caller plugs in others.
	g.Feedback = feedback.NewSource(g.Counters, cfg.Feedback.Window.Duration, g.log)
	var fb policy.FeedbackSource = g.Feedback
	if opts.Feedback != nil {
		fb = opts.Feedback
	}
	g.Protect = &protect.Engine{
		Defaults: cfg.Policy.Settings, Counters: g.Counters, Blocks: g.Blocks, Tenants: g.Directory,
		Logger: g.log, Alert: g.alert(opts.Alert), Observe: g.Reputation.Observe,
		Feedback: fb, Now: opts.Now, Audit: g.Audit,
	}
	g.classifier = opts.Classifier
	if g.classifier == nil && cfg.Classify.Engine != "off" {
		if g.classifier, err = g.openClassifier(cfg); err != nil {
			return err
		}
	}
	return nil
}

// openClassifier builds the configured engine: the built-in model (with
// campaign counts in the shared counters), rspamd, or the two together.
func (g *Gateway) openClassifier(cfg *config.Config) (Classifier, error) {
	cc := cfg.Classify
	caps := classify.Caps{MaxScanBytes: cc.MaxBytes, MaxDepth: cc.MaxMIMEDepth, MaxParts: cc.MaxMIMEParts, MaxDecodedBytes: cc.MaxDecodedBytes}
	builtin := func() (*classify.Engine, error) {
		e, err := classify.Load(cc.Model, classify.Options{Caps: caps, SpamThreshold: cc.SpamThreshold, BulkThreshold: cc.BulkThreshold,
			Campaigns: g.Counters, CampaignWindow: cc.CampaignWindow.Duration, CampaignRecipients: cc.CampaignRecipients, Logger: g.log,
			Now: g.clock, Corrections: g.Corrections})
		if err != nil {
			return nil, fmt.Errorf("config: classify.model: %w", err)
		}
		return e, nil
	}
	rspamd := &classify.Rspamd{URL: cc.RspamdURL, Password: cc.RspamdPassword, Timeout: cc.RspamdTimeout.Duration,
		BulkThreshold: cc.BulkThreshold, Caps: caps}
	var c classify.Classifier
	switch cc.Engine {
	case "rspamd", "fallback", "both":
		b, err := builtin()
		if err != nil {
			return nil, err
		}
		// rspamd's verdicts get the built-in engine's fingerprint and the
		// tenant's marks too, so every classified message can be corrected.
		withMarks := classify.WithCorrections{Inner: rspamd, Fingerprint: b, Corrections: g.Corrections, Logger: g.log}
		switch cc.Engine {
		case "rspamd":
			c = withMarks
		case "fallback":
			c = classify.Fallback{Primary: withMarks, Secondary: b, Logger: g.log}
		default:
			c = classify.Both{A: b, B: rspamd, Logger: g.log}
		}
	default:
		b, err := builtin()
		if err != nil {
			return nil, err
		}
		c = b
	}
	return adaptClassifier(c), nil
}

// adaptClassifier turns a classify.Classifier into the front end's seam.
func adaptClassifier(c classify.Classifier) Classifier {
	return func(ctx context.Context, raw []byte, n int, tenant string) (policy.Verdict, error) {
		r, err := c.Classify(ctx, classify.Input{Raw: raw, Recipients: n, Tenant: tenant})
		if err != nil {
			return policy.Verdict{}, err
		}
		v := policy.Verdict{Class: r.Verdict, Score: r.Score, Bulk: r.Bulk, IsBulk: r.IsBulk, Engine: r.Engine, Fingerprint: r.Fingerprint,
			Tokens: r.Tokens}
		for _, reason := range r.Reasons {
			v.Reasons = append(v.Reasons, fmt.Sprintf("%s (%+.2f)", reason.Name, reason.Weight))
		}
		return v, nil
	}
}

// alert logs every alert and passes it on.
func (g *Gateway) alert(extra func(protect.Alert)) func(protect.Alert) {
	return func(a protect.Alert) {
		g.log.Warn("alert", "kind", a.Kind, "tenant", a.Tenant, "subject", a.Subject, "text", a.Text)
		g.notify(a)
		if extra != nil {
			extra(a)
		}
	}
}

// policyChain is the full chain of checks, built by protect in its order.
func (g *Gateway) policyChain(cfg *config.Config) (policy.Chain, error) {
	ch, err := g.Protect.Chain(protect.ChainOptions{InternalNextHops: cfg.Delivery.AllowedInternalNextHops,
		Reputation: g.Reputation, TrustedRanges: cfg.Reputation.TrustedRanges,
		Probation: g.Directory, ProbationQuota: cfg.Policy.ConnectorProbationQuota,
		Suppression: suppress.Check{Store: g.Suppress, Log: g.log, OnSuppressed: g.onSuppressed,
			Action: func(tenantID int64) string { return g.Protect.Settings(tenantID).SuppressionAction }}})
	if err != nil {
		return policy.Chain{}, fmt.Errorf("policy chain: %w", err)
	}
	return ch, nil
}

func (g *Gateway) closeProtection() {
	if g.Trace != nil {
		g.Trace.Close()
	}
	if g.traceDB != nil {
		g.traceDB.Close()
	}
	if g.Reputation != nil {
		g.Reputation.Close(context.Background())
	}
	if g.Blocks != nil {
		g.Blocks.Close()
	}
	if g.Corrections != nil {
		g.Corrections.Close()
	}
	if g.Counters != nil {
		if g.Protect != nil {
			// The block evidence pushed in the background goes out
			// before the counters close (each push is bounded anyway).
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			_ = g.Protect.FlushEvidence(ctx)
			cancel()
		}
		g.Counters.Close()
	}
}

// hold asks protect whether a queued message may still go out (see
// protect.Engine.Hold): the same checks as at SMTP time, on the attribution
// the message was accepted under. A held message is bounced with the
// refusal's code, rule and figures instead of delivered, so a block or a
// restriction also stops the mail already queued.
func (g *Gateway) hold(m *queue.Message) *queue.Hold {
	h, ok := g.Protect.Hold(m.Attribution, m.From)
	if !ok {
		return nil
	}
	return &queue.Hold{Code: h.EnhancedString(), Reason: h.Text, Rule: h.Rule, Figures: joinFigures(h.Figures),
		Sender: h.Sender, Admin: h.Admin}
}

// joinFigures is figures as one "name=value; …" line (the DSN's
// X-Tollgate-Figures).
func joinFigures(fs []policy.Figure) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		parts = append(parts, f.Name+"="+f.Value)
	}
	return strings.Join(parts, "; ")
}

// bounce applies the backscatter rules (protect.Engine.Bounce) to a DSN
// that is due: the queue envelope names the tenant, and the directory's
// snapshot says, as of now, which domains it has verified.
func (g *Gateway) bounce(ctx context.Context, m *queue.Message) (queue.BounceDecision, error) {
	d, err := g.Protect.Bounce(ctx, m.TenantID, m.Tenant, m.From)
	if err != nil {
		return queue.BounceDecision{}, err
	}
	return queue.BounceDecision{Drop: d.Drop, HeadersOnly: d.HeadersOnly, Rule: d.Rule, Reason: d.Reason,
		Figures: joinFigures(d.Figures)}, nil
}
