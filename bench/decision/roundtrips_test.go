package decision

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
)

// roundTrips counts the requests go-redis writes to Redis: it buffers a
// command (or a whole pipeline) and flushes it in one Write, then waits for
// the reply, so one Write is one network round trip. It is what a decision
// costs on a fleet independently of how loaded the machine is.
type roundTrips struct{ n atomic.Int64 }

// dialer is a redis.Options.Dialer whose connections count their writes.
func (r *roundTrips) dialer(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &r.n}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

func (r *roundTrips) load() int64 {
	if r == nil {
		return 0
	}
	return r.n.Load()
}

// report adds the round trips per decision since from (decisions of them).
func (r *roundTrips) report(b *testing.B, from int64, decisions int) {
	if r == nil || decisions == 0 {
		return
	}
	b.ReportMetric(float64(r.n.Load()-from)/float64(decisions), "redis-rtt/op")
}
