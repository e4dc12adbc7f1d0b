package gateway_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/nodes"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/queue"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// dashboardNodes is the queue part of GET /api/v1/dashboard.
type dashboardNodes struct {
	QueueDepth *int `json:"queue_depth"`
	Nodes      []struct {
		ID         string    `json:"node_id"`
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
	if err := a.Nodes.Report(context.Background(), nodes.Node{ID: "c", Hostname: "c.gw.test"}, 40, time.Now().Add(-time.Minute)); err != nil {
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

// Two gateways started from one configuration (the same hostname), each
// on its own data directory, sharing PostgreSQL and Redis: the dashboard
// lists both, apart by node id, each with its own spool, and sums them,
// where before the second overwrote the first's report.
func TestFleetSameHostname(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	needRedis(t)
	prefix := fmt.Sprintf("tollgate-test:%d:", time.Now().UnixNano())
	var gs [2]*gateway.Gateway
	var ids [2]string
	for i := range gs {
		c := testConfig(t, "127.0.0.1:1")
		c.Hostname = "mx.gw.test"
		c.Store.PostgresDSN = dsn
		c.Counters.RedisURL, c.Counters.Prefix = "redis://"+redisAddr+"/0", prefix
		gs[i] = startWith(t, c, false, gateway.Options{NodeReportEvery: 50 * time.Millisecond})
		id, err := nodes.NodeID(c.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	if ids[0] == ids[1] {
		t.Fatalf("two data directories share node id %q", ids[0])
	}
	enqueue(t, gs[0], 2)
	enqueue(t, gs[1], 3)
	want := func(depth0, depth1 int) string {
		a := fmt.Sprintf(" mx.gw.test[%s]:%d", ids[0], depth0)
		b := fmt.Sprintf(" mx.gw.test[%s]:%d", ids[1], depth1)
		if ids[1] < ids[0] {
			a, b = b, a
		}
		return fmt.Sprintf("total %d", depth0+depth1) + a + b
	}
	waitDashboardIDs(t, gs[0], want(2, 3))
	waitDashboardIDs(t, gs[1], want(2, 3))
	enqueue(t, gs[1], 1)
	waitDashboardIDs(t, gs[0], want(2, 4))
}

// waitDashboardIDs is waitDashboard with each node shown as host[id].
func waitDashboardIDs(t *testing.T, g *gateway.Gateway, want string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		var d dashboardNodes
		if code := apiCall(t, g, g.AdminToken, "GET", "/api/v1/dashboard", nil, &d); code != 200 {
			t.Fatalf("dashboard: %d", code)
		}
		s := "total "
		if d.QueueDepth != nil {
			s += fmt.Sprint(*d.QueueDepth)
		}
		for _, n := range d.Nodes {
			s += fmt.Sprintf(" %s[%s]:%d", n.Node, n.ID, n.QueueDepth)
			if n.Stale {
				s += "(stale)"
			}
		}
		if s == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dashboard reads %q, want %q", s, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
