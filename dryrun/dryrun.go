// Package dryrun answers an operator's question before a policy change
// ships: "what would tenant_spam_ratio = 0.2 have blocked last week, and
// when?". It reads the tenants' mail transactions back from the message
// trace, oldest first, and puts each through the real protection checks
// (package protect) again — with the changed settings, a fresh in-memory
// counter store, a scratch block store and a virtual clock set to each
// message's recorded time — using the verdict the classifier gave then.
// It reports per tenant whether it would have been blocked or restricted,
// at which message, with which code and on which evidence, beside what
// actually happened.
//
// It never touches live state: the directory is read through its snapshot,
// the tenants' own overrides are copied, and blocks and counters live only
// for the run. What the replay cannot reproduce is listed in Report.Limits
// (see docs/simulate.md).
package dryrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/protect"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/trace"
)

// Source is the recorded traffic: the trace store.
type Source interface {
	Replay(ctx context.Context, since, until time.Time, tenantID int64, max int, fn func(trace.Entry) error) (bool, error)
}

// DefaultMaxEvents bounds one run's reading of the trace: about 150,000
// messages, a week of a mid-sized provider's traffic.
const DefaultMaxEvents = 1_000_000

// Options are what a run reads: the settings in force, the directory's
// snapshot and the trace.
type Options struct {
	Defaults policy.Settings
	// Overrides gives a tenant's own policy overrides; nil for none.
	Overrides func(tenantID int64) policy.Overrides
	Tenants   protect.Tenants
	Trace     Source
	// TempDir holds the run's scratch block store; "" is the system's.
	TempDir string
	Logger  *slog.Logger
}

// Request is one dry run.
type Request struct {
	Since, Until time.Time
	TenantID     int64 // 0: every tenant
	// Change is the settings to try, as policy-set takes them
	// ({"tenant_spam_ratio": 0.2}); they replace the value in force for
	// every tenant of the run, its own overrides included.
	Change    json.RawMessage
	MaxEvents int // DefaultMaxEvents if 0
}

// ErrBadRequest wraps what is wrong with a Request.
var ErrBadRequest = errors.New("dry run")

// clock is the virtual time the checks read.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// Run replays the request's span of the trace through the checks with the
// change and reports per tenant.
func Run(ctx context.Context, opts Options, req Request) (*Report, error) {
	began := time.Now()
	change, err := parseChange(req.Change, opts.Defaults)
	if err != nil {
		return nil, err
	}
	if req.Until.IsZero() {
		req.Until = time.Now()
	}
	if !req.Since.Before(req.Until) {
		return nil, fmt.Errorf("%w: since (%s) must be before until (%s)", ErrBadRequest, req.Since.Format(time.RFC3339), req.Until.Format(time.RFC3339))
	}
	if req.MaxEvents <= 0 {
		req.MaxEvents = DefaultMaxEvents
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp(opts.TempDir, "tollgate-dryrun-")
	if err != nil {
		return nil, fmt.Errorf("dry run: scratch directory: %w", err)
	}
	defer os.RemoveAll(dir)
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "scratch.db"))
	if err != nil {
		return nil, fmt.Errorf("dry run: scratch store: %w", err)
	}
	defer db.Close()
	clk := &clock{t: req.Since}
	bs, err := blocks.Open(ctx, db, blocks.Options{Now: clk.Now, Refresh: time.Hour, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("dry run: scratch blocks: %w", err)
	}
	defer bs.Close()
	mem := counters.NewMemory()
	defer mem.Close()
	r := &replay{opts: opts, change: change, clk: clk, blocks: bs, report: newReport(req, change),
		engine: &protect.Engine{Defaults: opts.Defaults, Counters: mem, Blocks: bs, Tenants: opts.Tenants, Now: clk.Now, Logger: log},
		seen:   map[int64]*TenantReport{}}
	// The whole chain the front ends run, without the checks that stand
	// outside the replayed evidence (IP reputation, connector probation).
	if r.chain, err = r.engine.Chain(protect.ChainOptions{}); err != nil {
		return nil, fmt.Errorf("dry run: %w", err)
	}
	asm := newAssembler(func(t transaction) error { return r.play(ctx, t) })
	events := 0
	truncated, err := opts.Trace.Replay(ctx, req.Since, req.Until, req.TenantID, req.MaxEvents, func(e trace.Entry) error {
		events++
		return asm.add(e)
	})
	if err == nil {
		err = asm.finish()
	}
	if err != nil {
		return nil, fmt.Errorf("dry run: %w", err)
	}
	r.report.Events, r.report.Truncated = events, truncated
	r.report.finish(time.Since(began))
	return r.report, nil
}

// parseChange reads the settings to try, validated as policy-set does.
func parseChange(raw json.RawMessage, defaults policy.Settings) (policy.Overrides, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return policy.Overrides{}, nil
	}
	o, err := policy.ParseOverrides(raw, defaults)
	if err != nil {
		return policy.Overrides{}, fmt.Errorf("%w: settings: %v", ErrBadRequest, err)
	}
	return o, nil
}

// merge is the tenant's own overrides with the change over them.
func merge(own, change policy.Overrides) (policy.Overrides, error) {
	raw, err := json.Marshal(change)
	if err != nil {
		return own, err
	}
	out := own
	if err := json.Unmarshal(raw, &out); err != nil {
		return own, err
	}
	return out, nil
}

// replay is one run's state.
type replay struct {
	opts   Options
	change policy.Overrides
	clk    *clock
	blocks *blocks.Store
	engine *protect.Engine
	chain  policy.Chain
	report *Report
	seen   map[int64]*TenantReport
}

// tenant is the tenant's report, set up on its first transaction: its
// overrides with the change copied into the scratch store.
func (r *replay) tenant(ctx context.Context, t transaction) (*TenantReport, error) {
	if tr := r.seen[t.env.TenantID]; tr != nil {
		return tr, nil
	}
	var own policy.Overrides
	if r.opts.Overrides != nil {
		own = r.opts.Overrides(t.env.TenantID)
	}
	o, err := merge(own, r.change)
	if err != nil {
		return nil, err
	}
	if err := o.Apply(r.opts.Defaults).Validate(); err != nil {
		return nil, fmt.Errorf("%w: settings for tenant %s: %v", ErrBadRequest, t.env.Tenant, err)
	}
	if err := r.blocks.SetOverrides(ctx, t.env.TenantID, o, "dry-run"); err != nil {
		return nil, err
	}
	tr := &TenantReport{TenantID: t.env.TenantID, Tenant: t.env.Tenant,
		Actual: Side{Refusals: map[string]int{}}, DryRun: Side{Refusals: map[string]int{}}}
	r.seen[t.env.TenantID] = tr
	r.report.Tenants = append(r.report.Tenants, tr)
	return tr, nil
}

// play puts one transaction through the checks at its recorded time.
func (r *replay) play(ctx context.Context, t transaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tr, err := r.tenant(ctx, t)
	if err != nil {
		return err
	}
	if t.at.After(r.clk.t) {
		r.clk.t = t.at // transactions refused before DATA may come late: time never runs back
	}
	tr.Transactions++
	r.report.Transactions++
	tr.Actual.note(t.actual, t, tr.Transactions, nil)
	got, unjudged := r.judge(ctx, t)
	if unjudged {
		tr.Unjudged++
	}
	var evidence *blocks.Block
	if got.stops() {
		if b, ok := r.blocks.ActiveBlock(t.env.TenantID); ok {
			evidence = &b
		}
	}
	tr.DryRun.note(got, t, tr.Transactions, evidence)
	return nil
}

// judge runs the checks as the front end does: MAIL, each recipient, and
// the end of DATA with the recorded verdict. unjudged: the gateway refused
// the transaction before DATA (so the trace has no verdict, and after a
// refused MAIL no recipients either) and the dry run let it as far as
// the trace knows it: it counts as accepted without the later checks.
func (r *replay) judge(ctx context.Context, t transaction) (a answer, unjudged bool) {
	env := t.env
	env.Rcpts = nil
	if d := r.chain.Mail(ctx, &env); d.Action != policy.Accept {
		return refusal("mail", d), false
	}
	if len(t.env.Rcpts) == 0 {
		return answer{}, true // refused at MAIL then: what would have come next is unknown
	}
	var first *policy.Decision
	for _, rc := range t.env.Rcpts {
		if d := r.chain.Rcpt(ctx, &env, rc); d.Action != policy.Accept {
			if first == nil {
				first = &d
			}
			continue
		}
		env.Rcpts = append(env.Rcpts, rc)
	}
	if len(env.Rcpts) == 0 {
		return refusal("rcpt", *first), false
	}
	if !t.reachedData {
		return answer{accepted: len(env.Rcpts)}, true
	}
	msg := t.msg
	if d := r.chain.Data(ctx, &env, &msg); d.Action != policy.Accept {
		a := refusal("data", d)
		a.figures = d.Figures
		return a, false
	}
	return answer{accepted: len(env.Rcpts)}, false
}

func refusal(stage string, d policy.Decision) answer {
	return answer{refused: true, stage: stage, code: d.EnhancedString(), rule: d.Rule,
		text: fmt.Sprintf("%d %s %s", d.Code, d.EnhancedString(), d.Text), figures: d.Figures}
}
