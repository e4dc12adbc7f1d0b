// Package gateway assembles one Tollgate node from its configuration: the
// store and directory, the spool and delivery, the SMTP listeners and the
// admin HTTP port. `tollgate serve` runs it; end-to-end tests start it
// in-process on loopback ports.
package gateway

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/api"
	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/certs"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/corrections"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/deliver"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/dkim"
	"github.com/tollgate-mail/tollgate/dnsverify"
	"github.com/tollgate-mail/tollgate/events"
	"github.com/tollgate-mail/tollgate/feedback"
	"github.com/tollgate-mail/tollgate/nodes"
	"github.com/tollgate-mail/tollgate/password"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/postfix"
	"github.com/tollgate-mail/tollgate/protect"
	"github.com/tollgate-mail/tollgate/queue"
	"github.com/tollgate-mail/tollgate/reputation"
	"github.com/tollgate-mail/tollgate/smtpd"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/suppress"
	"github.com/tollgate-mail/tollgate/trace"
)

// Gateway is a running node.
type Gateway struct {
	Config    *config.Config
	DB        *store.DB
	Directory *directory.Directory
	Audit     *audit.Log
	Queue     *queue.Queue
	SMTP      *smtpd.Server
	Sink      *devsink.Sink // dev mode's capture sink, or nil
	Counters  counters.Counter
	Blocks    *blocks.Store
	// Corrections are admins' "not spam" / "spam" marks on traced
	// messages, which the built-in classifier follows.
	Corrections *corrections.Store
	Protect     *protect.Engine
	// Alerts delivers alerts by email and webhook; nil when none is set up.
	Alerts *alert.Notifier
	// Events sends the tenants' delivery events to their webhooks.
	Events *events.Dispatcher
	// EventStore keeps the events not yet sent and the webhooks tenants
	// set through the API.
	EventStore *events.Store
	// Trace is the searchable message trace.
	Trace   *trace.Store
	traceDB *store.DB // its own SQLite file on a single node
	// Space is the spool's free-space floor (452 4.3.1, /healthz 503).
	Space *queue.SpaceGuard
	// Reputation tracks source IPs for 5.7.708.
	Reputation *reputation.Tracker
	// Feedback counts what the next hops said about each tenant's mail
	// (policy.FeedbackSource); FeedbackReceiver takes ARF complaints.
	Feedback         *feedback.Source
	FeedbackReceiver *feedback.Receiver
	feedbackIDs      *feedback.Signer
	// Postfix serves the policy-delegation and milter front ends; nil
	// when [postfix] turns neither on.
	Postfix *postfix.Server

	classifier Classifier
	clock      func() time.Time // Options.Now; nil is time.Now
	Addrs      map[string]net.Addr
	// DevPassword is user@demo.test's password in dev mode.
	DevPassword string
	AdminToken  string

	// Suppress keeps the tenants' and the operators' suppression lists.
	Suppress *suppress.Store
	// DKIM keeps the verified domains' signing keys; nil when signing is off.
	DKIM     *dkim.Store
	stopDKIM func()
	// Nodes holds every node's queue-depth reports (the dashboard's fleet).
	Nodes *nodes.Store

	transport  *deliver.Transport
	stopAnchor func()
	stopNodes  func() // this node's queue-depth reports
	api        *api.Server
	adminHTTP  *http.Server // the admin port: API and web console
	log        *slog.Logger
}

// Start opens everything and starts listening. On error, what was opened is
// closed again.
func Start(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Gateway, error) {
	return StartWith(ctx, cfg, log, Options{})
}

// StartWith is Start with plug-ins beyond the configuration.
func StartWith(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) (_ *Gateway, err error) {
	g := &Gateway{Config: cfg, Addrs: map[string]net.Addr{}, log: log}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data_dir %s: %w", cfg.DataDir, err)
	}
	// Every file Tollgate makes in it is 0600 and every directory 0700; an
	// existing data directory keeps the mode its owner gave it, but say so.
	if fi, err := os.Stat(cfg.DataDir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("data directory is open to other users; Tollgate's files in it are private, but consider chmod 700",
			"data_dir", cfg.DataDir, "mode", fi.Mode().Perm().String())
	}
	tlsConf, err := certs.ServerConfig(cfg.TLS.CertFile, cfg.TLS.KeyFile, cfg.DataDir, cfg.Hostname)
	if err != nil {
		return nil, err
	}
	var clientCAs *x509.CertPool
	if cfg.TLS.ClientCAFile != "" {
		pem, err := os.ReadFile(cfg.TLS.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("config: tls.client_ca_file: %w", err)
		}
		clientCAs = x509.NewCertPool()
		if !clientCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("config: tls.client_ca_file: no PEM certificate in %s", cfg.TLS.ClientCAFile)
		}
	}
	if cfg.Store.PostgresDSN != "" {
		g.DB, err = store.OpenPostgres(ctx, cfg.Store.PostgresDSN)
	} else {
		g.DB, err = store.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "tollgate.db"))
	}
	if err != nil {
		return nil, err
	}
	if g.Directory, err = directory.Open(ctx, g.DB); err != nil {
		return nil, err
	}
	if g.Audit, err = audit.Open(ctx, g.DB); err != nil {
		return nil, err
	}
	g.stopAnchor = g.logAuditHead(time.Hour)
	// The admin port is bound first: with port 0 the links in replies and
	// DSNs must name the port the kernel chose.
	var adminLn net.Listener
	if cfg.Listen.Admin != "" {
		if adminLn, err = net.Listen("tcp", cfg.Listen.Admin); err != nil {
			return nil, fmt.Errorf("listen admin on %s: %w", cfg.Listen.Admin, err)
		}
		defer func() {
			if err != nil {
				adminLn.Close()
			}
		}()
		g.Addrs["admin"] = adminLn.Addr()
		if cfg.Admin.PublicURL == "http://"+cfg.Listen.Admin && strings.HasSuffix(cfg.Listen.Admin, ":0") {
			cfg.Admin.PublicURL = "http://" + adminLn.Addr().String()
		}
	}
	if err := g.openProtection(ctx, cfg, opts); err != nil {
		return nil, err
	}
	if err := g.openDKIM(ctx, cfg); err != nil {
		return nil, err
	}
	if g.Suppress, err = suppress.Open(ctx, g.DB, g.Audit); err != nil {
		return nil, err
	}
	if g.AdminToken, err = adminToken(cfg.Admin.TokenFile); err != nil {
		return nil, err
	}
	if cfg.Dev {
		if err := g.seedDev(ctx); err != nil {
			return nil, err
		}
	}
	smarthost := cfg.Delivery.Smarthost
	if cfg.Dev && smarthost == "" {
		if g.Sink, err = devsink.Start("127.0.0.1:0", filepath.Join(cfg.DataDir, "capture"), nil, devsink.Hooks{}); err != nil {
			return nil, err
		}
		smarthost = g.Sink.Addr()
	}
	// The trace is written far more often than anything else: on one node
	// it gets its own SQLite file, so its batches never hold the writer
	// lock the queue's commits wait for. A fleet shares PostgreSQL.
	traceDB := g.DB
	if cfg.Store.PostgresDSN == "" {
		if g.traceDB, err = store.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "trace.db")); err != nil {
			return nil, err
		}
		traceDB = g.traceDB
	}
	if g.Trace, err = trace.OpenStore(ctx, traceDB, cfg.Trace.Retention.Duration, trace.NewLogger(log), log); err != nil {
		return nil, err
	}
	rec := g.Trace
	if err := g.openEvents(ctx, cfg); err != nil {
		return nil, err
	}
	if err := g.openFeedback(ctx, cfg); err != nil {
		return nil, err
	}
	pools := map[policy.Pool][]netip.Addr{}
	limits := map[policy.Pool]int{}
	for name, p := range cfg.Delivery.Pools {
		pools[policy.Pool(name)] = p.SourceAddresses
		if p.MaxPerDestination > 0 {
			limits[policy.Pool(name)] = p.MaxPerDestination
		}
	}
	d := cfg.Delivery
	g.transport = deliver.New(deliver.Options{
		Hostname: cfg.Hostname, Smarthost: smarthost, Resolver: d.Resolver, Port: d.Port,
		ConnectTimeout: d.ConnectTimeout.Duration, CommandTimeout: d.CommandTimeout.Duration,
		DataTimeout: d.DataTimeout.Duration, IdleTimeout: d.IdleTimeout.Duration,
		MaxPerDestination: d.MaxPerDestination, MaxMessagesPerConn: d.MaxMessagesPerConn,
		RequireTLS: d.RequireTLS, VerifyTLS: d.VerifyTLS, Pools: pools, PoolLimits: limits, Logger: log,
		Assigned: func(tenantID, connectorID int64) policy.Pool {
			return policy.Pool(g.Directory.AssignedPool(tenantID, connectorID))
		},
		AllowedInternal: d.AllowedInternalNextHops, OnConnect: opts.OnConnect,
	})
	retry := make([]time.Duration, len(cfg.Queue.RetrySchedule))
	for i, r := range cfg.Queue.RetrySchedule {
		retry[i] = r.Duration
	}
	if g.Queue, err = queue.Open(ctx, queue.Options{
		Dir: cfg.Queue.Dir, RetrySchedule: retry, MaxAge: cfg.Queue.MaxAge.Duration, Workers: cfg.Queue.Workers,
		Hostname: cfg.Hostname, HelpURL: cfg.Admin.PublicURL, Transport: g.outbound(), Trace: rec, Logger: log,
		Hold: g.hold, Bounce: g.bounce, Feedback: g.Feedback,
		Undelivered: (&events.Transport{Events: g.Events, Classify: g.Feedback.Classify}).Undelivered,
	}); err != nil {
		return nil, err
	}
	g.Queue.Start()
	// The dashboard's fleet-wide queue depth: each node reports its own
	// spool to the shared store (PostgreSQL in a fleet, SQLite alone).
	if g.Nodes, err = nodes.Open(ctx, g.DB); err != nil {
		return nil, err
	}
	// Known by the id in its data directory, not its hostname, which two
	// nodes may share.
	nodeID, err := nodes.NodeID(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if g.stopNodes, err = g.Nodes.Run(context.Background(), nodes.Node{ID: nodeID, Hostname: cfg.Hostname}, opts.NodeReportEvery, g.Queue.Depth, log); err != nil {
		return nil, err
	}
	if err := g.openAlerts(cfg); err != nil {
		return nil, err
	}
	g.Space = queue.NewSpaceGuard(cfg.Queue.Dir, cfg.Queue.MinFreeBytes, cfg.Queue.MinFreePercent)
	chain, err := g.policyChain(cfg)
	if err != nil {
		return nil, err
	}
	if g.SMTP, err = smtpd.New(smtpd.Options{
		Limits: cfg.SMTP, Hostname: cfg.Hostname, HelpURL: cfg.Admin.PublicURL, TLS: tlsConf, ClientCAs: clientCAs,
		Directory: g.Directory, Queue: smtpd.QueueSpool(g.Queue), Policy: chain,
		Classify: g.classifier, ClassifyBytes: cfg.Classify.MaxBytes,
		Feedback: g.FeedbackReceiver, FeedbackIDs: g.feedbackIDs, Trace: rec, Logger: log, Counters: g.Counters, SpoolLow: g.Space.Low,
		TraceBudget: smtpd.TraceBudget{PerMinute: cfg.Trace.UnattributedPerMinute, PerSecond: cfg.Trace.UnattributedPerSecond,
			Window: opts.TraceWindow},
	}); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		kind policy.Listener
		addr string
	}{
		{smtpd.Relay, cfg.Listen.Relay}, {smtpd.Submission, cfg.Listen.Submission}, {smtpd.Submissions, cfg.Listen.Submissions},
	} {
		if l.addr == "" {
			continue
		}
		a, err := g.SMTP.Listen(l.kind, l.addr)
		if err != nil {
			return nil, err
		}
		g.Addrs[string(l.kind)] = a
	}
	if err := g.openPostfix(cfg, chain); err != nil {
		return nil, err
	}
	if ln := adminLn; ln != nil {
		g.api = api.New(api.Options{Token: g.AdminToken, Directory: g.Directory, Audit: g.Audit,
			Tokens: api.DirectoryTokens(g.Directory), Verifier: dnsverify.New(cfg.Delivery.Resolver), Queue: g.Queue, Sink: g.Sink, Logger: log,
			Blocks: g.Blocks, Policy: cfg.Policy.Settings, Trace: g.Trace, Reputation: g.Reputation, SpoolLow: g.Space.Low,
			Feedback: g.FeedbackReceiver, Ready: g.readiness(cfg), Corrections: g.Corrections,
			DKIM: g.DKIM, Suppress: g.Suppress, Nodes: g.Nodes, Events: g.EventStore, DKIMResolver: dnsverify.New(cfg.Delivery.Resolver),
			Notify: func(kind string, tenantID int64, tenant, subject, text string) {
				g.notify(protect.Alert{Kind: kind, TenantID: tenantID, Tenant: tenant, Subject: subject, Text: text})
			}})
		cookieKey, err := g.DB.Secret(ctx, "console-cookie")
		if err != nil {
			return nil, err
		}
		g.adminHTTP = serveAdmin(ln, g.api, cfg, cookieKey, log)
	}
	g.startDKIMSweep(cfg)
	return g, nil
}

// seedDev creates the demo tenant and keeps user@demo.test's password in the
// data directory, so every start of the same directory prints it.
func (g *Gateway) seedDev(ctx context.Context) error {
	pwFile := filepath.Join(g.Config.DataDir, "dev-user-password")
	pw, err := g.Directory.SeedDev(ctx)
	if err != nil {
		return fmt.Errorf("seed dev tenant: %w", err)
	}
	if pw != "" {
		if err := writePrivate(pwFile, pw+"\n"); err != nil {
			return fmt.Errorf("save dev password: %w", err)
		}
	} else if b, err := os.ReadFile(pwFile); err == nil {
		pw = strings.TrimSpace(string(b))
	}
	g.DevPassword = pw
	return nil
}

// adminToken reads the API token, creating it on first start.
func adminToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if tok := strings.TrimSpace(string(b)); tok != "" {
			return tok, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("admin token %s: %w", path, err)
	}
	tok := password.Random(32)
	if err := writePrivate(path, tok+"\n"); err != nil {
		return "", fmt.Errorf("admin token %s: %w", path, err)
	}
	return tok, nil
}

// writePrivate writes a secret to path, 0600 even when the file was there
// already with a looser mode (os.WriteFile keeps an existing file's mode).
func writePrivate(path, data string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Shutdown stops taking mail, lets sessions finish until ctx ends, then
// stops delivery and closes the store.
func (g *Gateway) Shutdown(ctx context.Context) error {
	if g.SMTP != nil {
		g.SMTP.Shutdown(ctx)
	}
	return g.Close()
}

// logAuditHead logs the audit log's head now and every interval: a record
// outside the database, so a later rewrite of the chain (by someone with
// write access to it) shows as a head that no longer matches
// (audit.Log.CheckAnchor, `tollgate admin audit verify`).
func (g *Gateway) logAuditHead(every time.Duration) func() {
	logHead := func() {
		id, hash, err := g.Audit.Head(context.Background())
		if err != nil {
			g.log.Warn("audit head", "err", err)
			return
		}
		g.log.Info("audit head", "audit_id", id, "audit_hash", hash)
	}
	logHead()
	t := time.NewTicker(every)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-t.C:
				logHead()
			case <-done:
				return
			}
		}
	}()
	return func() { t.Stop(); close(done) }
}

// Close stops everything at once.
func (g *Gateway) Close() error {
	if g.stopAnchor != nil {
		g.stopAnchor()
		g.stopAnchor = nil
	}
	if g.SMTP != nil {
		g.SMTP.Close()
	}
	if g.Postfix != nil {
		g.Postfix.Close()
	}
	if g.adminHTTP != nil {
		g.adminHTTP.Shutdown(context.Background())
	}
	if g.Alerts != nil {
		// Let queued alerts reach the spool before it closes.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		g.Alerts.Close(ctx)
		cancel()
	}
	if g.Events != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		g.Events.Close(ctx)
		cancel()
	}
	if g.stopDKIM != nil {
		g.stopDKIM()
		g.stopDKIM = nil
	}
	if g.stopNodes != nil {
		g.stopNodes() // before the queue and the store it reads and writes close
		g.stopNodes = nil
	}
	if g.Queue != nil {
		g.Queue.Close()
	}
	if g.transport != nil {
		g.transport.Close()
	}
	if g.Sink != nil {
		g.Sink.Close()
	}
	g.closeProtection()
	if g.Directory != nil {
		g.Directory.Close()
	}
	if g.DB != nil {
		g.DB.Close()
	}
	return nil
}
