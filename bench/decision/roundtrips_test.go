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

// The SMTP steps of a decision, for stageTrips.
const (
	stageMail = iota
	stageRcpt
	stageData
	numStages
)

var stageNames = [numStages]string{"mail", "rcpt", "data"}

// stageTrips attributes round trips to the step that made them (serial
// runs only: with two goroutines the socket counts mix). Which steps make
// the round trips is what says whether two of them could share one.
type stageTrips [numStages]int64

// note adds the round trips since mark to stage and returns the new mark.
func (st *stageTrips) note(stage int, r *roundTrips, mark int64) int64 {
	if st == nil {
		return mark
	}
	now := r.load()
	st[stage] += now - mark
	return now
}

// report adds redis-rtt-<stage>/op for each step (a decision has two RCPT).
func (st *stageTrips) report(b *testing.B, decisions int) {
	if st == nil || decisions == 0 {
		return
	}
	for i, n := range st {
		b.ReportMetric(float64(n)/float64(decisions), "redis-rtt-"+stageNames[i]+"/op")
	}
}
