package protect

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// clock is the tests' time, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func newClock() *clock               { return &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)} }
func mustOK(t *testing.T, d policy.Decision) {
	t.Helper()
	if d.Action != policy.Accept {
		t.Fatalf("refused: %v", d)
	}
}
func mustCode(t *testing.T, d policy.Decision, code string) {
	t.Helper()
	if d.Action == policy.Accept || d.EnhancedString() != code {
		t.Fatalf("got %v, want %s", d, code)
	}
}

// fixture is a real directory and block store on SQLite with one tenant
// (acme, verified domain acme.test) and an engine over them.
type fixture struct {
	e      *Engine
	dir    *directory.Directory
	blocks *blocks.Store
	clk    *clock
	tenant directory.Tenant
	chain  policy.Chain
	alerts []Alert
	mu     sync.Mutex
}

func newFixture(t *testing.T, db *store.DB, c counters.Counter, set func(*policy.Settings)) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{clk: newClock()}
	var err error
	if f.dir, err = directory.Open(ctx, db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.dir.Close() })
	if f.blocks, err = blocks.Open(ctx, db, blocks.Options{Now: f.clk.now}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.blocks.Close() })
	if f.tenant, err = f.dir.CreateTenant(ctx, directory.By{}, "acme", directory.Licensed, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := f.dir.AddDomain(ctx, directory.By{}, f.tenant.ID, "acme.test"); err != nil {
		t.Fatal(err)
	}
	if err := f.dir.MarkDomainVerified(ctx, directory.By{}, f.tenant.ID, "acme.test"); err != nil {
		t.Fatal(err)
	}
	s := policy.DefaultSettings()
	if set != nil {
		set(&s)
	}
	f.e = &Engine{Defaults: s, Counters: c, Blocks: f.blocks, Tenants: f.dir, Now: f.clk.now,
		Alert: func(a Alert) { f.mu.Lock(); f.alerts = append(f.alerts, a); f.mu.Unlock() }}
	f.chain = chainOf(t, f.e)
	return f
}

func (f *fixture) env(sender string) *policy.Envelope {
	return &policy.Envelope{Attribution: policy.Attribution{TenantID: f.tenant.ID, Tenant: "acme", UserID: 1, User: sender, Method: "auth",
		ClientIP: netip.MustParseAddr("192.0.2.1")}, Listener: "submission", From: sender}
}

// message runs a whole transaction through the chain with a verdict.
func (f *fixture) message(sender, rcpt, verdict string) policy.Decision {
	ctx := context.Background()
	chain := f.chain
	env := f.env(sender)
	if d := chain.Mail(ctx, env); d.Action != policy.Accept {
		return d
	}
	if d := chain.Rcpt(ctx, env, rcpt); d.Action != policy.Accept {
		return d
	}
	env.Rcpts = append(env.Rcpts, rcpt)
	return chain.Data(ctx, env, &policy.Message{Subject: "s", HeaderFrom: sender, Verdict: policy.Verdict{Class: policy.Class(verdict)}})
}

func memory(t *testing.T) counters.Counter { return counters.NewMemory() }

// The threshold fires exactly at count AND ratio, and the window lets the
// tenant's history go: spam an hour ago does not add to spam now.
func TestTenantThresholdEdges(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) { s.TenantSpamCount, s.TenantSpamRatio = 4, 0.5 })
	for range 4 {
		mustOK(t, f.message("a@acme.test", "x@example.net", "clean"))
	}
	for i := range 3 {
		mustOK(t, f.message("a@acme.test", stranger(), "spam")) // 3 of 7
		_ = i
	}
	// 4 of 8 = 0.5: count and ratio both reached.
	mustCode(t, f.message("a@acme.test", stranger(), "spam"), "5.7.705")
	if _, ok := f.blocks.ActiveBlock(f.tenant.ID); !ok {
		t.Fatal("not blocked")
	}

	g := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) { s.TenantSpamCount, s.TenantSpamRatio = 4, 0.5 })
	for range 5 {
		mustOK(t, g.message("a@acme.test", "x@example.net", "clean"))
	}
	for range 4 {
		mustOK(t, g.message("a@acme.test", stranger(), "spam")) // 4 of 9 < 0.5
	}
	// Window expiry: an hour and a bucket later the old spam is gone;
	// three fresh spams (3 of 3) are under the count.
	g.clk.add(time.Hour + 2*time.Minute)
	for range 3 {
		mustOK(t, g.message("a@acme.test", stranger(), "spam"))
	}
	if _, ok := g.blocks.ActiveBlock(g.tenant.ID); ok {
		t.Fatal("blocked by spam that left the window")
	}
}

// Counts survive a restart in the middle of a window: the embedded
// counters are saved at close and read back.
func TestRestartMidWindow(t *testing.T) {
	db := storetest.SQLite(t)
	path := filepath.Join(t.TempDir(), "counters")
	c1, err := counters.OpenFile(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, db, c1, func(s *policy.Settings) { s.UserMessagesPerMinute = 3 })
	for range 2 {
		mustOK(t, f.message("a@acme.test", "x@acme.test", "clean"))
	}
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	c2, err := counters.OpenFile(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	f.e.Counters = c2
	f.clk.add(20 * time.Second)
	mustOK(t, f.message("a@acme.test", "x@acme.test", "clean"))
	mustCode(t, f.message("a@acme.test", "x@acme.test", "clean"), "4.7.500")
	f.clk.add(time.Minute + 2*time.Second)
	mustOK(t, f.message("a@acme.test", "x@acme.test", "clean"))
}

// Sending limits at their edges: the 30th message a minute passes and the
// 31st is deferred; recipients a day (5.1.90) and the tenant's external
// rate (5.7.233, the hosted service's formula) likewise.
func TestSendingLimitEdges(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) {
		s.UserExternalPerHour, s.UserInternalPerHour = 0, 0
	})
	for range 30 {
		mustOK(t, f.message("a@acme.test", "x@acme.test", "clean"))
	}
	mustCode(t, f.message("a@acme.test", "x@acme.test", "clean"), "4.7.500")

	ctx := context.Background()
	g := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) {
		s.UserRecipientsPerDay = 5
		s.UserExternalPerHour, s.UserInternalPerHour = 0, 0
	})
	env := g.env("b@acme.test")
	chain := chainOf(t, g.e)
	mustOK(t, chain.Mail(ctx, env))
	for range 5 {
		mustOK(t, chain.Rcpt(ctx, env, "y@acme.test"))
	}
	mustCode(t, chain.Rcpt(ctx, env, "y@acme.test"), "5.1.90")

	// 10 licences: 500 × 10^0.7 + 9500 = 12005 external recipients a day.
	if got := policy.DefaultSettings().ExternalPerDay(10); got != 12005 {
		t.Fatalf("external limit for 10 licences = %d, want 12005", got)
	}
	h := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) {
		s.TenantExternalPerDay = 3
		s.UserExternalPerHour, s.UserInternalPerHour = 0, 0
	})
	env = h.env("c@acme.test")
	chain = chainOf(t, h.e)
	mustOK(t, chain.Mail(ctx, env))
	for range 3 {
		mustOK(t, chain.Rcpt(ctx, env, "z@example.net"))
	}
	mustOK(t, chain.Rcpt(ctx, env, "z@acme.test")) // internal: not counted
	mustCode(t, chain.Rcpt(ctx, env, "z@example.net"), "5.7.233")
}

// The outbound spam policy restricts until the next UTC midnight by
// default, and the restriction ends by itself then; alert-only lets the
// mail through and alerts.
func TestRestrictionActions(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) { s.UserExternalPerHour = 2 })
	mustOK(t, f.message("a@acme.test", "x@example.net", "clean"))
	mustOK(t, f.message("a@acme.test", "x@example.net", "clean"))
	mustCode(t, f.message("a@acme.test", "x@example.net", "clean"), "5.1.8")
	mustCode(t, f.message("a@acme.test", "x@acme.test", "clean"), "5.1.8") // restricted, even internally
	if len(f.alerts) != 1 || f.alerts[0].Kind != AlertUserRestricted {
		t.Fatalf("alerts: %+v", f.alerts)
	}
	// Just before midnight still restricted; at midnight free again.
	f.clk.set(time.Date(2026, 11, 23, 23, 59, 59, 0, time.UTC))
	mustCode(t, f.message("a@acme.test", "x@acme.test", "clean"), "5.1.8")
	f.clk.set(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
	mustOK(t, f.message("a@acme.test", "x@acme.test", "clean"))

	g := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) {
		s.UserExternalPerHour, s.RestrictAction = 1, policy.AlertOnly
	})
	for range 3 {
		mustOK(t, g.message("a@acme.test", "x@example.net", "clean"))
	}
	if len(g.alerts) == 0 || g.alerts[0].Kind != AlertUserRestricted {
		t.Fatalf("alert-only raised no alert: %+v", g.alerts)
	}
	if rs, _ := g.blocks.Restrictions(context.Background(), g.tenant.ID, true); len(rs) != 0 {
		t.Fatalf("alert-only restricted: %+v", rs)
	}
}

// The unregistered-domain allowance: exactly the allowance passes, one
// more is refused; a message with both senders foreign counts once.
func TestUnregisteredAllowanceEdges(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) { s.UnregisteredPerDay = 2 })
	ctx := context.Background()
	chain := chainOf(t, f.e)
	for range 2 {
		env := f.env("")
		env.User, env.Method, env.From = "", "connector-ip", "x@foreign.test"
		mustOK(t, chain.Mail(ctx, env))
		mustOK(t, chain.Data(ctx, env, &policy.Message{HeaderFrom: "Boss <boss@other.test>"}))
	}
	env := f.env("")
	env.User, env.Method, env.From = "", "connector-ip", "x@foreign.test"
	mustCode(t, chain.Mail(ctx, env), "5.7.750")
	// A certificate connector is exempt.
	env = f.env("")
	env.User, env.Method, env.From = "", "connector-cert", "x@foreign.test"
	mustOK(t, chain.Mail(ctx, env))
}

// Released onto probation, a tenant gets the probation quota, doubled for
// each clean day; a re-block replaces the probation.
func TestProbationQuota(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), memory(t), nil)
	ctx := context.Background()
	if _, _, err := f.blocks.BlockTenant(ctx, blocks.Block{TenantID: f.tenant.ID, Reason: blocks.ReasonOperator, Rule: "operator"}, "op"); err != nil {
		t.Fatal(err)
	}
	mustCode(t, f.message("a@acme.test", "x@acme.test", "clean"), "5.7.705")
	if _, err := f.blocks.ReleaseBlock(ctx, f.tenant.ID, "op", 2, 5); err != nil {
		t.Fatal(err)
	}
	q, on := f.blocks.Probation(f.tenant.ID, f.clk.now())
	if !on || q != 2 {
		t.Fatalf("probation quota %d %v, want 2 true", q, on)
	}
	mustOK(t, f.message("a@acme.test", "x@acme.test", "clean"))
	mustOK(t, f.message("b@acme.test", "x@acme.test", "clean"))
	mustCode(t, f.message("c@acme.test", "x@acme.test", "clean"), "4.7.500")
	// Two clean days later the quota is 2 × 2 × 2.
	f.clk.add(48 * time.Hour)
	if err := f.blocks.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if q, _ := f.blocks.Probation(f.tenant.ID, f.clk.now()); q != 8 {
		t.Fatalf("quota after two clean days = %d, want 8", q)
	}
	f.clk.add(4 * 24 * time.Hour)
	if _, on := f.blocks.Probation(f.tenant.ID, f.clk.now()); on {
		t.Fatal("probation did not end after 5 days")
	}
}

// When the counters cannot be reached (Redis down), every limit defers
// with 4.3.0: nothing is lost (the client retries) and no limit is
// silently skipped.
func TestCounterFailureDefers(t *testing.T) {
	c, err := counters.NewRedis(&redis.Options{Addr: "127.0.0.1:6379"}, "tollgate-test-down:")
	if err != nil {
		t.Skipf("redis not reachable at 127.0.0.1:6379 (%v); the failure test needs a real client to break", err)
	}
	c.Close() // every later call fails like an unreachable server
	f := newFixture(t, storetest.SQLite(t), c, nil)
	d := f.message("a@acme.test", "x@acme.test", "clean")
	if d.Action != policy.Defer || d.Code != 451 || d.EnhancedString() != "4.3.0" {
		t.Fatalf("with the counters down: %v, want 451 4.3.0", d)
	}
}

// A restricted sender cannot get through a connector under another
// envelope sender: the header From is checked too.
func TestRestrictedHeaderFromOnConnector(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), memory(t), nil)
	ctx := context.Background()
	if _, _, err := f.blocks.Restrict(ctx, blocks.Restriction{TenantID: f.tenant.ID, Kind: blocks.KindSender,
		Subject: "bob@acme.test", Reason: "spam", Rule: "r"}, "system"); err != nil {
		t.Fatal(err)
	}
	env := f.env("")
	env.User, env.Method, env.ConnectorID, env.From = "", "connector-ip", 9, ""
	chain := chainOf(t, f.e)
	mustOK(t, chain.Mail(ctx, env))
	mustCode(t, chain.Data(ctx, env, &policy.Message{HeaderFrom: "Bob <BOB@acme.test>", Verdict: policy.Verdict{Class: "clean"}}), "5.1.8")
	mustOK(t, chain.Data(ctx, env, &policy.Message{HeaderFrom: "Ann <ann@acme.test>", Verdict: policy.Verdict{Class: "clean"}}))
}

var strangers atomic.Int64

// stranger is a recipient no tenant has mailed before.
func stranger() string { return fmt.Sprintf("stranger%d@example.net", strangers.Add(1)) }

// chainOf is the policy chain of e without reputation and probation.
func chainOf(t *testing.T, e *Engine) policy.Chain {
	t.Helper()
	ch, err := e.Chain(ChainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}
