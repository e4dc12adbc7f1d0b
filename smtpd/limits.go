package smtpd

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-mail/tollgate/metrics"
)

// connLimiter caps connections in total, per client address (an IPv4
// address or an IPv6 /64, which is one subscriber) and per network (an IPv4
// /24 or an IPv6 /48), across all listeners. A connection over a cap gets
// 421 and is closed before go-smtp sees it, so a flood from one address or
// one network cannot starve everyone else.
//
// Above stressAt connections the gateway is under stress (Postfix's stress
// mode): every connection's read deadline shrinks to the stress timeout,
// the idle ones at once, so idle clients cannot hold the slots.
type connLimiter struct {
	max, perIP, perNet int
	stressAt           int
	mu                 sync.Mutex
	total              int
	byIP               map[netip.Prefix]int
	byNet              map[netip.Prefix]int
	live               map[*limitedConn]struct{}
	inStress           bool
	timeouts           timeouts
}

// timeouts are the read deadlines limitedConn enforces on top of go-smtp's
// per-command one.
type timeouts struct {
	// unattributed bounds every read until the session is attributed to
	// a tenant (connector or AUTH): before the greeting, before AUTH.
	unattributed time.Duration
	// stress bounds every read while the gateway is under stress.
	stress time.Duration
}

func newConnLimiter(max, perIP, perNet, stressPercent int, t timeouts) *connLimiter {
	stressAt := max * stressPercent / 100
	if stressPercent <= 0 || stressAt < 1 {
		stressAt = max // never under stress before the cap itself
	}
	return &connLimiter{max: max, perIP: perIP, perNet: perNet, stressAt: stressAt, timeouts: t,
		byIP: map[netip.Prefix]int{}, byNet: map[netip.Prefix]int{}, live: map[*limitedConn]struct{}{}}
}

// addrKey is the key of the per-address cap: an IPv4 address, or the /64
// of an IPv6 address (a subscriber gets a whole /64, so counting /128s would
// give one client 2^64 slots).
func addrKey(ip netip.Addr) netip.Prefix {
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, _ := ip.Prefix(64)
	return p
}

// netKey is the key of the per-network cap: an IPv4 /24 or an IPv6 /48.
func netKey(ip netip.Addr) netip.Prefix {
	if ip.Is4() {
		p, _ := ip.Prefix(24)
		return p
	}
	p, _ := ip.Prefix(48)
	return p
}

func (l *connLimiter) wrap(ln net.Listener, kind string, maxSession time.Duration) net.Listener {
	return &limitListener{Listener: ln, l: l, kind: kind, maxSession: maxSession}
}

// acquire takes a slot for ip, or says which cap is full.
func (l *connLimiter) acquire(ip netip.Addr) (ok bool, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, n := addrKey(ip), netKey(ip)
	switch {
	case l.total >= l.max:
		return false, "total"
	case l.byIP[a] >= l.perIP:
		return false, "per_ip"
	case l.byNet[n] >= l.perNet:
		return false, "per_network"
	}
	l.total++
	l.byIP[a]++
	l.byNet[n]++
	return true, ""
}

// add registers a live connection; when it is the one that starts the
// stress, every live connection's deadline shrinks.
func (l *connLimiter) add(c *limitedConn) {
	l.mu.Lock()
	l.live[c] = struct{}{}
	var shrink []*limitedConn
	if l.total >= l.stressAt && !l.inStress {
		l.inStress = true
		metrics.StressEntered.Inc()
		for o := range l.live {
			shrink = append(shrink, o)
		}
	}
	l.mu.Unlock()
	for _, o := range shrink {
		o.shrink(l.timeouts.stress)
	}
}

// stressed reports whether the connections are at or over the stress mark.
func (l *connLimiter) stressed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total >= l.stressAt
}

func (l *connLimiter) release(ip netip.Addr, c *limitedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	delete(l.live, c)
	if l.total < l.stressAt {
		l.inStress = false
	}
	a, n := addrKey(ip), netKey(ip)
	if l.byIP[a]--; l.byIP[a] <= 0 {
		delete(l.byIP, a)
	}
	if l.byNet[n]--; l.byNet[n] <= 0 {
		delete(l.byNet, n)
	}
}

type limitListener struct {
	net.Listener
	l          *connLimiter
	kind       string
	maxSession time.Duration
}

func (ll *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		ok, reason := ll.l.acquire(ip)
		if !ok {
			metrics.ConnectionsRefused.WithLabelValues(reason).Inc()
			go refuseConn(c, reason)
			continue
		}
		metrics.Connections.WithLabelValues(ll.kind).Inc()
		metrics.ActiveConnections.Inc()
		lc := &limitedConn{Conn: c, limiter: ll.l}
		lc.release = func() { ll.l.release(ip, lc); metrics.ActiveConnections.Dec() }
		ll.l.add(lc)
		// A hard cap on a session's life: per-command deadlines alone let a
		// client that sends one byte at a time keep a slot for ever.
		lc.timer = time.AfterFunc(ll.maxSession, func() { c.Close() })
		return lc, nil
	}
}

func refuseConn(c net.Conn, reason string) {
	defer c.Close()
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	msg := "421 4.7.0 Too many connections, try again later\r\n"
	switch reason {
	case "per_ip":
		msg = "421 4.7.0 Too many connections from your address, try again later\r\n"
	case "per_network":
		msg = "421 4.7.0 Too many connections from your network, try again later\r\n"
	}
	c.Write([]byte(msg))
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
	timer   *time.Timer
	ahead   *readAhead
	// hangUp makes the next write the last: the connection closes once that
	// reply is out (used to end a session right after a refusal).
	hangUp atomic.Bool
	// attributed lifts the unattributed timeout: set once a connector or
	// AUTH ties the session to a tenant.
	attributed atomic.Bool
	// errors counts refused commands toward smtp.hard_error_limit; it
	// lives with the connection so STARTTLS (a new go-smtp session) does
	// not reset it.
	errors atomic.Int64

	limiter    *connLimiter
	deadlineMu sync.Mutex
	deadline   time.Time // the read deadline in force
}

// SetReadDeadline sets the read deadline go-smtp (per command) or the DATA
// reader asks for, cut down to the unattributed timeout while the session
// has no tenant and to the stress timeout while the gateway is under
// stress. go-smtp sets it once per command line, so it is a deadline per
// command, not an idle timer that every byte resets.
func (c *limitedConn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() {
		now := time.Now()
		if d := c.limiter.timeouts.unattributed; d > 0 && !c.attributed.Load() && t.After(now.Add(d)) {
			t = now.Add(d)
		}
		if d := c.limiter.timeouts.stress; d > 0 && c.limiter.stressed() && t.After(now.Add(d)) {
			t = now.Add(d)
		}
	}
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	c.deadline = t
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline sets both deadlines, the read one through SetReadDeadline.
func (c *limitedConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

// shrink brings the read deadline in force forward to now+d if it is later
// (or unset): under stress an idle connection must not keep the long
// deadline it got before.
func (c *limitedConn) shrink(d time.Duration) {
	if d <= 0 {
		return
	}
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	lim := time.Now().Add(d)
	if c.deadline.IsZero() || c.deadline.After(lim) {
		c.deadline = lim
		c.Conn.SetReadDeadline(lim)
	}
}

// Write writes p, and closes the connection after it if hangUp is set.
func (c *limitedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.hangUp.Load() {
		c.Close()
	}
	return n, err
}

// Read reads through a read-ahead buffer: go-smtp reads with a 4 KiB bufio,
// so a 50 KiB message would cost a dozen read syscalls; one 64 KiB read
// serves them. The buffer comes from a pool and goes back as soon as it is
// drained, so an idle connection holds none.
func (c *limitedConn) Read(p []byte) (int, error) {
	if c.ahead == nil {
		if len(p) >= aheadSize {
			n, err := c.Conn.Read(p)
			c.noteTimeout(err)
			return n, err
		}
		c.ahead = aheadPool.Get().(*readAhead)
		n, err := c.Conn.Read(c.ahead.buf[:])
		c.noteTimeout(err)
		c.ahead.r, c.ahead.w = 0, n
		if n == 0 {
			c.dropAhead()
			return 0, err
		}
	}
	n := copy(p, c.ahead.buf[c.ahead.r:c.ahead.w])
	c.ahead.r += n
	if c.ahead.r == c.ahead.w {
		c.dropAhead()
	}
	return n, nil
}

// noteTimeout makes a missed read deadline the connection's end: the next
// reply is its last. go-smtp's line reader hands a partial line that the
// deadline cut off to the server as a command of its own (a junk command
// go-smtp answers itself, without counting it), so a client trickling one
// byte at a time would otherwise keep its slot from one deadline to the
// next.
func (c *limitedConn) noteTimeout(err error) {
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		c.hangUp.Store(true)
	}
}

func (c *limitedConn) dropAhead() {
	aheadPool.Put(c.ahead)
	c.ahead = nil
}

const aheadSize = 64 << 10

type readAhead struct {
	buf  [aheadSize]byte
	r, w int
}

var aheadPool = sync.Pool{New: func() any { return new(readAhead) }}

func (c *limitedConn) Close() error {
	c.once.Do(func() {
		c.timer.Stop()
		c.release()
	})
	return c.Conn.Close()
}

func remoteIP(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}
