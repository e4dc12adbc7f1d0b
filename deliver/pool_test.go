package deliver

import (
	"context"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// poolSink is an SMTP sink that records where each session came from and
// how many sessions from each source address were open at once. Sessions
// wait before their DATA reply until hold is closed, so a test can see
// which sessions were let through together.
type poolSink struct {
	ln   net.Listener
	hold chan struct{}

	mu     sync.Mutex
	active map[string]int // open sessions per source IP
	max    map[string]int // most open at once per source IP
	done   map[string]int // messages accepted per source IP
}

func startPoolSink(t *testing.T) *poolSink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &poolSink{ln: ln, hold: make(chan struct{}), active: map[string]int{}, max: map[string]int{}, done: map[string]int{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *poolSink) serve(c net.Conn) {
	defer c.Close()
	ip := c.RemoteAddr().(*net.TCPAddr).IP.String()
	s.mu.Lock()
	s.active[ip]++
	s.max[ip] = max(s.max[ip], s.active[ip])
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.active[ip]--; s.mu.Unlock() }()
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 sink ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil || line == "" {
			return
		}
		switch strings.ToUpper(strings.Fields(line)[0]) {
		case "EHLO":
			tp.PrintfLine("250 sink")
		case "DATA":
			tp.PrintfLine("354 go")
			if _, err := io.Copy(io.Discard, tp.DotReader()); err != nil {
				return
			}
			<-s.hold
			s.mu.Lock()
			s.done[ip]++
			s.mu.Unlock()
			tp.PrintfLine("250 2.0.0 ok")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("250 ok")
		}
	}
}

func (s *poolSink) snapshot() (active, maxOpen, done map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := func(m map[string]int) map[string]int {
		o := map[string]int{}
		for k, v := range m {
			o[k] = v
		}
		return o
	}
	return cp(s.active), cp(s.max), cp(s.done)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A dedicated pool binds its own source address and has its own cap per
// destination: at max_per_destination=1 the sink never sees two of its
// sessions at once, while the normal pool's sessions to the same
// destination are not held back by it.
func TestDedicatedPoolSourceAndCap(t *testing.T) {
	sink := startPoolSink(t)
	tr := transport(t, sink.ln.Addr().String(), func(o *Options) {
		o.Pools = map[policy.Pool][]netip.Addr{
			policy.PoolNormal: {netip.MustParseAddr("127.0.0.1")},
			"acme":            {netip.MustParseAddr("127.0.0.2")},
		}
		o.PoolLimits = map[policy.Pool]int{"acme": 1}
		o.MaxPerDestination = 4
	})
	var wg sync.WaitGroup
	results := make(chan bool, 5)
	send := func(pool policy.Pool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := delivery("a@x.test", "b@y.test")
			d.Pool = pool
			res := tr.Deliver(context.Background(), d)
			results <- len(res) == 1 && res[0].OK
		}()
	}
	for range 3 {
		send("acme")
	}
	send(policy.PoolNormal)
	send(policy.PoolNormal)
	waitFor(t, "two normal sessions and one acme session open at once", func() bool {
		a, _, _ := sink.snapshot()
		return a["127.0.0.1"] == 2 && a["127.0.0.2"] == 1
	})
	close(sink.hold)
	wg.Wait()
	close(results)
	for ok := range results {
		if !ok {
			t.Fatal("a delivery failed")
		}
	}
	_, maxOpen, done := sink.snapshot()
	if maxOpen["127.0.0.2"] != 1 {
		t.Fatalf("the acme pool (max_per_destination 1) had %d sessions open at once", maxOpen["127.0.0.2"])
	}
	if done["127.0.0.2"] != 3 || done["127.0.0.1"] != 2 {
		t.Fatalf("messages per source address: %v (want 3 from 127.0.0.2, 2 from 127.0.0.1)", done)
	}
}

// Mail queued for a pool that is no longer configured still leaves, from
// the normal pool: a config change never bounces queued mail.
func TestUnconfiguredPoolFallsBackToNormal(t *testing.T) {
	sink := startPoolSink(t)
	close(sink.hold)
	tr := transport(t, sink.ln.Addr().String(), func(o *Options) {
		o.Pools = map[policy.Pool][]netip.Addr{policy.PoolNormal: {netip.MustParseAddr("127.0.0.3")}}
	})
	d := delivery("a@x.test", "b@y.test")
	d.Pool = "gone"
	res := tr.Deliver(context.Background(), d)
	if len(res) != 1 || !res[0].OK {
		t.Fatalf("delivery for a removed pool: %+v", res)
	}
	if _, _, done := sink.snapshot(); done["127.0.0.3"] != 1 {
		t.Fatalf("not sent from the normal pool's address: %v", done)
	}
	if d.Pool != "gone" {
		t.Fatal("Deliver changed the caller's delivery")
	}
}

// The assignment is asked at delivery time: a tenant's or connector's
// dedicated pool applies to normal mail, while flagged (high-risk) mail
// and DSNs stay on the high-risk pool whatever the assignment.
func TestAssignedPoolAtDeliveryTime(t *testing.T) {
	sink := startPoolSink(t)
	close(sink.hold)
	assigned := map[[2]int64]policy.Pool{{7, 0}: "acme", {8, 3}: "acme"}
	tr := transport(t, sink.ln.Addr().String(), func(o *Options) {
		o.Pools = map[policy.Pool][]netip.Addr{
			policy.PoolNormal:   {netip.MustParseAddr("127.0.0.1")},
			policy.PoolHighRisk: {netip.MustParseAddr("127.0.0.9")},
			"acme":              {netip.MustParseAddr("127.0.0.2")},
		}
		o.Assigned = func(tenant, connector int64) policy.Pool { return assigned[[2]int64{tenant, connector}] }
	})
	for _, c := range []struct {
		tenant, connector int64
		pool              policy.Pool
		kind, want        string
	}{
		{7, 0, policy.PoolNormal, "message", "127.0.0.2"},   // tenant's pool
		{8, 3, policy.PoolNormal, "message", "127.0.0.2"},   // connector's pool
		{9, 0, policy.PoolNormal, "message", "127.0.0.1"},   // no assignment
		{7, 0, policy.PoolHighRisk, "message", "127.0.0.9"}, // flagged stays high-risk
		{7, 0, policy.PoolHighRisk, "dsn", "127.0.0.9"},     // DSN stays high-risk
	} {
		_, _, before := sink.snapshot()
		d := delivery("a@x.test", "b@y.test")
		d.TenantID, d.ConnectorID, d.Pool, d.Kind = c.tenant, c.connector, c.pool, c.kind
		if res := tr.Deliver(context.Background(), d); len(res) != 1 || !res[0].OK {
			t.Fatalf("%+v: %+v", c, res)
		}
		if _, _, after := sink.snapshot(); after[c.want] != before[c.want]+1 {
			t.Fatalf("%+v: not sent from %s (before %v, after %v)", c, c.want, before, after)
		}
	}
}
