package gateway_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/queue"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// dashboardNodes is the queue part of GET /api/v1/dashboard.
type dashboardNodes struct {
	QueueDepth *int `json:"queue_depth"`
	Nodes      []struct {
		Node       string    `json:"node"`
		QueueDepth int       `json:"queue_depth"`
		ReportedAt time.Time `json:"reported_at"`
		Stale      bool      `json:"stale"`
	} `json:"nodes"`
}

func (d dashboardNodes) String() string {
	s := "total "
	if d.QueueDepth != nil {
		s += fmt.Sprint(*d.QueueDepth)
	}
	for _, n := range d.Nodes {
		s += fmt.Sprintf(" %s:%d", n.Node, n.QueueDepth)
		if n.Stale {
			s += "(stale)"
		}
	}
	return s
}

// enqueue commits n messages to g's own spool; with the smarthost refusing
// connections they stay queued (deferred).
func enqueue(t *testing.T, g *gateway.Gateway, n int) {
	t.Helper()
	for i := range n {
		w, err := g.Queue.Create()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "Subject: q%d\r\n\r\nbody\r\n", i)
		if _, err := g.Queue.Commit(context.Background(), w, queue.Envelope{From: "news@acme.test",
			Attribution: policy.Attribution{TenantID: 1, Tenant: "acme"}, Rcpts: []queue.Recipient{{Addr: "x@example.net"}}}); err != nil {
			t.Fatal(err)
		}
	}
}

// waitDashboard polls g's dashboard until it reads want.
func waitDashboard(t *testing.T, g *gateway.Gateway, want string) {
	t.Helper()
	var d dashboardNodes
	deadline := time.Now().Add(waitFor)
	for {
		d = dashboardNodes{}
		if code := apiCall(t, g, g.AdminToken, "GET", "/api/v1/dashboard", nil, &d); code != 200 {
			t.Fatalf("dashboard: %d", code)
		}
		if d.String() == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dashboard reads %q, want %q", d, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two nodes sharing PostgreSQL and Redis: each reports its own spool, and
// either node's dashboard sums the fleet and lists each node; a node whose
// last report is old is listed as stale and not counted.
func TestFleetQueueDepth(t *testing.T) {
	dsn := storetest.PostgresDSN(t) // skips, naming the server, when PostgreSQL is unreachable
	needRedis(t)
	prefix := fmt.Sprintf("tollgate-test:%d:", time.Now().UnixNano())
	var gs [2]*gateway.Gateway
	for i, host := range []string{"a.gw.test", "b.gw.test"} {
		c := testConfig(t, "127.0.0.1:1") // nothing listens: delivery defers
		c.Hostname = host
		c.Store.PostgresDSN = dsn
		c.Counters.RedisURL, c.Counters.Prefix = "redis://"+redisAddr+"/0", prefix
		gs[i] = startWith(t, c, false, gateway.Options{NodeReportEvery: 50 * time.Millisecond})
	}
	a, b := gs[0], gs[1]
	enqueue(t, a, 2)
	enqueue(t, b, 3)
	waitDashboard(t, a, "total 5 a.gw.test:2 b.gw.test:3")
	waitDashboard(t, b, "total 5 a.gw.test:2 b.gw.test:3")

	// A node that stopped reporting a minute ago: shown, not counted.
	if err := a.Nodes.Report(context.Background(), "c.gw.test", 40, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	waitDashboard(t, b, "total 5 a.gw.test:2 b.gw.test:3 c.gw.test:40(stale)")
	enqueue(t, b, 1)
	waitDashboard(t, a, "total 6 a.gw.test:2 b.gw.test:4 c.gw.test:40(stale)")
}

// One node on the embedded store reports to its own SQLite: the dashboard
// counts its spool and lists it as the only node.
func TestEmbeddedQueueDepth(t *testing.T) {
	c := testConfig(t, "127.0.0.1:1")
	g := startWith(t, c, false, gateway.Options{NodeReportEvery: 50 * time.Millisecond})
	waitDashboard(t, g, "total 0 gw.test:0")
	enqueue(t, g, 2)
	waitDashboard(t, g, "total 2 gw.test:2")
}
