package protect

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// The backscatter rules: headers only outside the verified domains, no DSN
// to an unverified domain without an allowance, a rolling daily cap that
// frees up as the window moves, and the gateway's own mail left alone.
func TestBounceRules(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) { s.DSNPerDay = 2 })
	d, err := f.e.Bounce(ctx, f.tenant.ID, "acme", "a@ACME.test")
	if err != nil || d.Drop || d.HeadersOnly {
		t.Fatalf("own domain: %+v %v", d, err)
	}
	d, err = f.e.Bounce(ctx, f.tenant.ID, "acme", "victim@foreign.example")
	if err != nil || d.Drop || !d.HeadersOnly || d.Rule != "dsn-headers-only" {
		t.Fatalf("foreign domain: %+v %v", d, err)
	}
	d, err = f.e.Bounce(ctx, f.tenant.ID, "acme", "a@acme.test")
	if err != nil || !d.Drop || d.Rule != "dsn-limit" {
		t.Fatalf("third DSN of the day: %+v %v", d, err)
	}
	if len(f.alerts) != 1 || f.alerts[0].Kind != AlertLimitExceeded {
		t.Fatalf("alerts: %+v", f.alerts)
	}
	f.clk.add(24*time.Hour + time.Hour)
	if d, _ := f.e.Bounce(ctx, f.tenant.ID, "acme", "a@acme.test"); d.Drop {
		t.Fatalf("the window moved on, still dropped: %+v", d)
	}
	if d, _ := f.e.Bounce(ctx, 0, "", "ops@example.net"); d.Drop || d.HeadersOnly {
		t.Fatalf("gateway mail: %+v", d)
	}

	g := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) { s.UnregisteredPerDay = 0 })
	d, err = g.e.Bounce(ctx, g.tenant.ID, "acme", "victim@foreign.example")
	if err != nil || !d.Drop || d.Rule != "dsn-unverified-sender" {
		t.Fatalf("no allowance: %+v %v", d, err)
	}
	if d, _ := g.e.Bounce(ctx, g.tenant.ID, "acme", "a@acme.test"); d.Drop {
		t.Fatalf("own domain without allowance: %+v", d)
	}

	// A counter that cannot be read (a closed Redis client) is an error,
	// never an uncounted DSN.
	c, err := counters.NewRedis(&redis.Options{Addr: "127.0.0.1:6379"}, "tollgate-test-down:")
	if err != nil {
		t.Skipf("redis not reachable at 127.0.0.1:6379 (%v)", err)
	}
	c.Close()
	h := newFixture(t, storetest.SQLite(t), c, nil)
	if _, err := h.e.Bounce(ctx, h.tenant.ID, "acme", "a@acme.test"); err == nil {
		t.Fatal("a failing counter must be an error")
	}
}
