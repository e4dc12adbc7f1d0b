package gateway_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// redisAddr is the Redis the fleet tests share; they skip, naming it, when
// it is unreachable.
const redisAddr = "127.0.0.1:6379"

func needRedis(t *testing.T) {
	c, err := net.DialTimeout("tcp", redisAddr, 2*time.Second)
	if err != nil {
		t.Skipf("redis not reachable at %s, skipping the fleet-limit test: %v", redisAddr, err)
	}
	c.Close()
}

// Two gateways sharing PostgreSQL and Redis enforce one limit together:
// a sender's messages a minute count on both nodes, and a tenant blocked
// on node A is refused on node B.
func TestFleetEnforcesOneLimit(t *testing.T) {
	a, b, _ := startFleet(t, func(c *config.Config) { c.Policy.UserMessagesPerMinute = 4 })
	waitUntil(t, "node B attributes 127.0.0.2", func() bool {
		return relayFrom(t, b, "127.0.0.2", "warmup@acme.test", "hello") == nil
	})
	// Two on A and two on B: the fifth, on either node, is over 4 a minute.
	for i, g := range []*gateway.Gateway{a, b, a, b} {
		if err := relayFrom(t, g, "127.0.0.2", "fast@acme.test", "hi"); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	wantCode(t, relayFrom(t, a, "127.0.0.2", "fast@acme.test", "hi"), 451, "4.7.500")
	wantCode(t, relayFrom(t, b, "127.0.0.2", "fast@acme.test", "hi"), 451, "4.7.500")

	// Spam through node A blocks the tenant; node B refuses it too once its
	// block snapshot refreshes (every 2 s).
	for range 4 {
		if err := relayFrom(t, b, "127.0.0.2", fmt.Sprintf("s%d@acme.test", time.Now().UnixNano()), "[spam] x"); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, relayFrom(t, a, "127.0.0.2", "s@acme.test", "[spam] x"), 550, "5.7.705")
	waitUntil(t, "node B refuses the blocked tenant", func() bool {
		c := dialStartTLSFrom(t, "127.0.0.2", addr(b, "relay"))
		defer c.Close()
		err := c.Mail("late@acme.test", nil)
		return err != nil && strings.Contains(err.Error(), "5.7.705")
	})
}

// startFleet starts two gateways sharing a PostgreSQL schema and a Redis
// key prefix, with tenant acme's connector 127.0.0.2/32 made on node A and
// known to node B; adjust sets each node's configuration.
func startFleet(t *testing.T, adjust func(*config.Config)) (a, b *gateway.Gateway, acme directory.Tenant) {
	t.Helper()
	dsn := storetest.PostgresDSN(t) // skips, naming the server, when PostgreSQL is unreachable
	needRedis(t)
	sink := startSink(t, devsink.Hooks{})
	prefix := fmt.Sprintf("tollgate-test:%d:", time.Now().UnixNano())
	var nodes [2]*gateway.Gateway
	for i := range nodes {
		c := protectConfig(t, sink.Addr())
		c.Store.PostgresDSN = dsn
		c.Counters.RedisURL, c.Counters.Prefix = "redis://"+redisAddr+"/0", prefix
		adjust(c)
		nodes[i] = startWith(t, c, false, gateway.Options{Classifier: subjectClassifier})
	}
	a, b = nodes[0], nodes[1]
	acme = seedTenantWithConnector(t, a, "acme", "acme.test", "127.0.0.2/32")
	waitUntil(t, "node B knows acme's connector", func() bool {
		_, ok := b.Directory.SnapshotTenant(acme.ID)
		return ok && len(mustConnectors(t, b, acme.ID)) == 1
	})
	return a, b, acme
}

func mustConnectors(t *testing.T, g *gateway.Gateway, tenant int64) []directory.Connector {
	cs, err := g.Directory.Connectors(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// The tenant's external recipient limit (5.7.233) is one limit for the
// fleet: recipients accepted on either node count against it.
func TestFleetEnforcesTenantLimit(t *testing.T) {
	a, b, _ := startFleet(t, func(c *config.Config) { c.Policy.TenantExternalPerDay = 3 })
	waitUntil(t, "node B attributes 127.0.0.2", func() bool {
		c := dialStartTLSFrom(t, "127.0.0.2", addr(b, "relay"))
		defer c.Close()
		if c.Mail("probe@acme.test", nil) != nil {
			return false
		}
		return c.Rcpt("colleague@acme.test", nil) == nil // internal: not counted
	})
	for i, g := range []*gateway.Gateway{a, b, a} {
		if err := relayFrom(t, g, "127.0.0.2", fmt.Sprintf("u%d@acme.test", i), "hi"); err != nil {
			t.Fatalf("external recipient %d: %v", i, err)
		}
	}
	wantCode(t, relayFrom(t, b, "127.0.0.2", "u9@acme.test", "hi"), 550, "5.7.233")
	wantCode(t, relayFrom(t, a, "127.0.0.2", "u8@acme.test", "hi"), 550, "5.7.233")
}
