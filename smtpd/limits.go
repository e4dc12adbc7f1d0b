package smtpd

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-mail/tollgate/metrics"
)

// connLimiter caps connections in total and per client IP across all
// listeners. A connection over a cap gets 421 and is closed before go-smtp
// sees it, so a flood from one address cannot starve everyone else.
type connLimiter struct {
	max, perIP int
	mu         sync.Mutex
	total      int
	byIP       map[netip.Addr]int
}

func newConnLimiter(max, perIP int) *connLimiter {
	return &connLimiter{max: max, perIP: perIP, byIP: map[netip.Addr]int{}}
}

func (l *connLimiter) wrap(ln net.Listener, kind string, maxSession time.Duration) net.Listener {
	return &limitListener{Listener: ln, l: l, kind: kind, maxSession: maxSession}
}

// acquire takes a slot for ip, or says which cap is full.
func (l *connLimiter) acquire(ip netip.Addr) (ok bool, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.max {
		return false, "total"
	}
	if l.byIP[ip] >= l.perIP {
		return false, "per_ip"
	}
	l.total++
	l.byIP[ip]++
	return true, ""
}

func (l *connLimiter) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
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
		lc := &limitedConn{Conn: c, release: func() { ll.l.release(ip); metrics.ActiveConnections.Dec() }}
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
	if reason == "per_ip" {
		msg = "421 4.7.0 Too many connections from your address, try again later\r\n"
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
			return c.Conn.Read(p)
		}
		c.ahead = aheadPool.Get().(*readAhead)
		n, err := c.Conn.Read(c.ahead.buf[:])
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

// authThrottle counts failed AUTH attempts per client IP and per account in
// a window. Past the limit, the IP is disconnected and the account refused
// (temporarily) until the window passes, whichever connection they try from.
type authThrottle struct {
	max    int
	window time.Duration
	mu     sync.Mutex
	fails  map[string][]time.Time
}

func newAuthThrottle(max int, window time.Duration) *authThrottle {
	return &authThrottle{max: max, window: window, fails: map[string][]time.Time{}}
}

// blocked reports whether key ("ip:1.2.3.4" or "user:a@b") is over the limit.
func (t *authThrottle) blocked(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.prune(key, time.Now())) >= t.max
}

// fail records a failure and returns the count in the window.
func (t *authThrottle) fail(key string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	l := append(t.prune(key, now), now)
	t.fails[key] = l
	if len(t.fails) > 100000 { // bound memory under a spray of distinct keys
		for k := range t.fails {
			if len(t.prune(k, now)) == 0 {
				delete(t.fails, k)
			}
		}
	}
	return len(l)
}

func (t *authThrottle) prune(key string, now time.Time) []time.Time {
	l := t.fails[key]
	i := 0
	for i < len(l) && now.Sub(l[i]) > t.window {
		i++
	}
	if i == len(l) {
		delete(t.fails, key)
		return nil
	}
	l = l[i:]
	t.fails[key] = l
	return l
}
