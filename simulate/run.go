package simulate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/mailgen"
	"github.com/tollgate-mail/tollgate/policy"
)

// clock is the virtual time every protection decision reads.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time   { return time.Unix(0, c.ns.Load()) }
func (c *clock) Set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func newClock(t time.Time) *clock { c := &clock{}; c.Set(t); return c }
func sourceIP(tenant int) [4]byte { return [4]byte{127, byte(10 + tenant/250), byte(tenant % 250), 1} }
func sourceNet(tenant int) string {
	ip := sourceIP(tenant)
	return fmt.Sprintf("%d.%d.%d.0/24", ip[0], ip[1], ip[2])
}
func stopCode(enhanced string) bool {
	return enhanced == "5.7.705" || enhanced == "5.7.711" || enhanced == "5.1.8"
}

// Options say where a run keeps its state and what it starts from.
type Options struct {
	// Config is the configuration to try (the operator's file, with the
	// settings under test); nil is config.Default(). Only its protection,
	// classifier, queue and SMTP settings are used: see nodeConfig.
	Config *config.Config
	// DataDir keeps the node's database, spool and trace; "" is a
	// temporary directory removed at the end.
	DataDir string
	// RedisURL, if set, puts the counters in that Redis under a prefix of
	// the run's own, to try the fleet's counters.
	RedisURL string
	Logger   *slog.Logger
}

// nodeConfig is the configuration a run's node starts with: base with
// loopback listeners on free ports, a private data directory, the embedded
// store and in-process counters (never a production database or Redis: a
// simulation must not touch live state), no alerts, and the run's sink as
// the next hop. Every protection and classifier setting is left as given:
// that is what is being tried.
func nodeConfig(base *config.Config, dataDir, sink, redisURL string, seed uint64) (*config.Config, error) {
	c := *base
	def := config.Default()
	c.DataDir = dataDir
	c.Store = def.Store
	c.Counters = def.Counters
	if redisURL != "" {
		c.Counters.RedisURL = redisURL
		c.Counters.Prefix = fmt.Sprintf("tollgate-simulate:%d:%d:", time.Now().UnixNano(), seed)
	}
	c.Queue.Dir = ""
	c.Admin = def.Admin
	c.Dev = false
	c.Listen = config.Listen{Relay: "127.0.0.1:0"}
	c.Delivery.Smarthost = sink
	c.Delivery.Resolver = ""
	c.Reputation.DNSBLZones = nil
	c.Alerts = def.Alerts
	if err := c.Finish(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Run plays sc through a gateway of its own and reports what happened to
// each tenant.
func Run(ctx context.Context, sc Scenario, opts Options) (*Result, error) {
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := opts.Config
	if base == nil {
		base = config.Default()
	}
	dir := opts.DataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "tollgate-simulate-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	sink, err := devsink.Start("127.0.0.1:0", "", nil, devsink.Hooks{})
	if err != nil {
		return nil, fmt.Errorf("start sink: %w", err)
	}
	defer sink.Close()
	cfg, err := nodeConfig(base, dir, sink.Addr(), opts.RedisURL, sc.Seed)
	if err != nil {
		return nil, err
	}
	start := sc.Start
	if start.IsZero() {
		start = time.Now()
	}
	clk := newClock(start)
	g, err := gateway.StartWith(ctx, cfg, log, gateway.Options{Now: clk.Now})
	if err != nil {
		return nil, fmt.Errorf("start gateway: %w", err)
	}
	defer g.Close()
	rng := rand.New(rand.NewPCG(sc.Seed, sc.Seed+1))
	gen := mailgen.New(sc.Seed)
	run := &runner{g: g, sc: sc, clk: clk, start: start, res: &Result{Scenario: sc}}
	if err := run.setUp(ctx, rng); err != nil {
		return nil, err
	}
	defer run.hangUp()
	began := time.Now()
	for _, ev := range schedule(sc, rng) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		run.advance(ctx, start.Add(ev.at))
		tr := &run.res.Tenants[ev.tenant]
		if ev.spam && tr.fixed {
			continue // the admin secured the tenant: the spammer is gone
		}
		from, rcpts, m := compose(sc.Tenants[ev.tenant], run.people[ev.tenant], ev, gen, rng, start.Add(ev.at))
		out := run.send(ev.tenant, from, rcpts, m.Raw)
		tr.record(ev, out)
		if out.stop && tr.StoppedAt < 0 {
			tr.StoppedAt, tr.StopCode, tr.StopRule = ev.at, out.enhanced, out.text
			tr.Evidence = run.evidence(ev.tenant)
			if sc.UnblockAfter > 0 && sc.Tenants[ev.tenant].Kind == Compromised {
				tr.fixAt = ev.at + sc.UnblockAfter
			}
		}
	}
	run.res.Wall = time.Since(began)
	run.res.Delivered = sink.Count()
	return run.res, nil
}

// runner is one run's state.
type runner struct {
	g       *gateway.Gateway
	sc      Scenario
	clk     *clock
	start   time.Time
	res     *Result
	people  []*people
	ids     []int64
	clients []*smtp.Client
}

// setUp creates each tenant as an established customer: licensed, its
// domain verified, its connector for its own /24 confirmed by an admin.
func (r *runner) setUp(ctx context.Context, rng *rand.Rand) error {
	d := r.g.Directory
	for i, t := range r.sc.Tenants {
		tn, err := d.CreateTenant(ctx, directory.By{}, t.Name, directory.Licensed, 50)
		if err != nil {
			return fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		p := newPeople(t, rng)
		if _, err := d.AddDomain(ctx, directory.By{}, tn.ID, p.domain); err != nil {
			return fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		if err := d.MarkDomainVerified(ctx, directory.By{}, tn.ID, p.domain); err != nil {
			return fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		c, err := d.CreateConnector(ctx, directory.By{Actor: "simulate"}, tn.ID, "mail", []netip.Prefix{netip.MustParsePrefix(sourceNet(i))})
		if err != nil {
			return fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		if _, err := d.ConfirmConnector(ctx, directory.By{Actor: "simulate"}, tn.ID, c.ID); err != nil {
			return fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		r.ids = append(r.ids, tn.ID)
		r.people = append(r.people, p)
		r.res.Tenants = append(r.res.Tenants, TenantResult{Name: t.Name, Kind: t.Kind, StoppedAt: -1, Refused: map[string]int{}})
	}
	r.clients = make([]*smtp.Client, len(r.sc.Tenants))
	return nil
}

// advance moves the clock, and carries out each compromised tenant's fix
// whose time has come: the admin secures the tenant and asks for the
// unblock, an operator approves it and releases its restrictions.
func (r *runner) advance(ctx context.Context, to time.Time) {
	r.clk.Set(to)
	for i := range r.res.Tenants {
		tr := &r.res.Tenants[i]
		if tr.fixed || tr.fixAt == 0 || to.Before(r.start.Add(tr.fixAt)) {
			continue
		}
		tr.fixed, tr.UnblockedAt = true, to.Sub(r.start)
		if err := r.release(ctx, r.ids[i]); err != nil {
			tr.Problems = append(tr.Problems, "unblock: "+err.Error())
		}
	}
}

// release approves an unblock request for the tenant's block, if any, and
// lifts its restrictions, as an operator does after the admin's fix.
func (r *runner) release(ctx context.Context, tenantID int64) error {
	b := r.g.Blocks
	set := r.g.Protect.Settings(tenantID)
	if blk, ok := b.ActiveBlock(tenantID); ok {
		req, err := b.RequestUnblock(ctx, tenantID, "a stolen connector credential", "credential rotated, server cleaned", "admin:simulate")
		if err != nil {
			return fmt.Errorf("request unblock of block %d: %w", blk.ID, err)
		}
		if _, err := b.Decide(ctx, req.ID, true, "fixed", "operator:simulate", set.ProbationQuota, set.ProbationDays); err != nil {
			return fmt.Errorf("approve unblock: %w", err)
		}
	}
	rs, err := b.Restrictions(ctx, tenantID, false)
	if err != nil {
		return err
	}
	for _, x := range rs {
		if _, err := b.Release(ctx, tenantID, x.ID, "operator:simulate"); err != nil {
			return fmt.Errorf("release restriction %d: %w", x.ID, err)
		}
	}
	return nil
}

// evidence is what the tenant's block (or restrictions) say, as figures.
func (r *runner) evidence(tenant int) []policy.Figure {
	id := r.ids[tenant]
	if b, ok := r.g.Blocks.ActiveBlock(id); ok {
		return append([]policy.Figure{{Name: "rule", Value: b.Rule}}, b.Figures...)
	}
	rs, err := r.g.Blocks.Restrictions(context.Background(), id, false)
	if err != nil || len(rs) == 0 {
		return nil
	}
	return append([]policy.Figure{{Name: "rule", Value: rs[0].Rule}}, rs[0].Figures...)
}

// outcome is what the gateway answered to one message.
type outcome struct {
	accepted bool
	stop     bool   // a refusal that stops the tenant or its sender
	enhanced string // the refusal's enhanced code, "" when accepted
	text     string
	err      error // not an SMTP answer: the connection failed
}

// send delivers one message over the tenant's connection, dialling from
// the tenant's own source address when there is none.
func (r *runner) send(tenant int, from string, rcpts []string, raw []byte) outcome {
	c, err := r.client(tenant)
	if err != nil {
		return outcome{err: err}
	}
	out := transact(c, from, rcpts, raw)
	if out.err != nil || out.enhanced != "" {
		if c.Reset() != nil {
			c.Close()
			r.clients[tenant] = nil
		}
	}
	return out
}

func (r *runner) client(tenant int) (*smtp.Client, error) {
	if c := r.clients[tenant]; c != nil {
		return c, nil
	}
	ip := sourceIP(tenant)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IP(ip[:])}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", r.g.Addrs[string(policy.Relay)].String())
	if err != nil {
		return nil, fmt.Errorf("dial from %v: %w", net.IP(ip[:]), err)
	}
	c := smtp.NewClient(conn)
	if err := c.Hello("mail." + r.people[tenant].domain); err != nil {
		c.Close()
		return nil, err
	}
	r.clients[tenant] = c
	return c, nil
}

func (r *runner) hangUp() {
	for _, c := range r.clients {
		if c != nil {
			c.Quit()
		}
	}
}

// transact runs MAIL, RCPT and DATA; the message counts as accepted when
// DATA is, whatever some of its recipients got.
func transact(c *smtp.Client, from string, rcpts []string, raw []byte) outcome {
	refused := func(err error) outcome {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			e := fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
			return outcome{enhanced: e, text: se.Message, stop: stopCode(e)}
		}
		return outcome{err: err}
	}
	if err := c.Mail(from, nil); err != nil {
		return refused(err)
	}
	var first *outcome
	ok := 0
	for _, rc := range rcpts {
		if err := c.Rcpt(rc, nil); err != nil {
			if first == nil {
				o := refused(err)
				first = &o
			}
			continue
		}
		ok++
	}
	if ok == 0 {
		return *first
	}
	w, err := c.Data()
	if err != nil {
		return refused(err)
	}
	if _, err := w.Write(raw); err != nil {
		return outcome{err: err}
	}
	if err := w.Close(); err != nil {
		return refused(err)
	}
	return outcome{accepted: true}
}
