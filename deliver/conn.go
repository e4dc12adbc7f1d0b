package deliver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// client is one SMTP connection to a next hop.
type client struct {
	c      *smtp.Client
	conn   net.Conn
	key    string
	tls    bool
	used   int
	idleAt time.Time
}

func (cl *client) close() { cl.c.Close() }

// dial connects to hostport from the pool's source address, reads the
// greeting, and upgrades to TLS when the server offers STARTTLS. go-smtp's
// client exports no STARTTLS after EHLO, so the first exchange is done here
// with net/textproto and the go-smtp client takes over the (TLS) connection.
func (t *Transport) dial(ctx context.Context, hostport, pool string) (*client, error) {
	d := net.Dialer{Timeout: t.opts.ConnectTimeout, LocalAddr: t.sourceAddr(pool), Resolver: t.resolver}
	conn, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetDeadline(time.Now().Add(t.opts.CommandTimeout))
	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		conn.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	greeting := "220 " + t.opts.Hostname + " ESMTP (resumed)\r\n"
	if err := tp.PrintfLine("EHLO %s", t.opts.Hostname); err != nil {
		conn.Close()
		return nil, err
	}
	_, msg, err := tp.ReadResponse(250)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("EHLO: %w", err)
	}
	starttls := false
	for _, l := range strings.Split(msg, "\n") {
		if strings.EqualFold(strings.TrimSpace(l), "STARTTLS") {
			starttls = true
		}
	}
	var next net.Conn = conn
	if starttls {
		if err := tp.PrintfLine("STARTTLS"); err != nil {
			conn.Close()
			return nil, err
		}
		if _, _, err := tp.ReadResponse(220); err != nil {
			conn.Close()
			return nil, fmt.Errorf("STARTTLS: %w", err)
		}
		host, _, _ := net.SplitHostPort(hostport)
		tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: !t.opts.VerifyTLS, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		next = tc
	} else if t.opts.RequireTLS {
		conn.Close()
		return nil, errors.New("server does not offer STARTTLS and delivery.require_tls is set")
	}
	conn.SetDeadline(time.Time{})
	c := smtp.NewClient(&greetedConn{Conn: next, r: bufio.NewReader(strings.NewReader(greeting))})
	c.CommandTimeout = t.opts.CommandTimeout
	c.SubmissionTimeout = t.opts.DataTimeout
	if err := c.Hello(t.opts.Hostname); err != nil {
		c.Close()
		return nil, err
	}
	return &client{c: c, conn: next, tls: starttls}, nil
}

// greetedConn replays a greeting to the go-smtp client (the real one was read
// before STARTTLS), then reads the connection.
type greetedConn struct {
	net.Conn
	r *bufio.Reader
}

func (g *greetedConn) Read(p []byte) (int, error) {
	if g.r != nil {
		n, err := g.r.Read(p)
		if err == nil && g.r.Buffered() == 0 {
			g.r = nil
		}
		if n > 0 {
			return n, nil
		}
		g.r = nil
	}
	return g.Conn.Read(p)
}

// connCache keeps idle connections per (pool, host) for reuse.
type connCache struct {
	mu     sync.Mutex
	idle   map[string][]*client
	ttl    time.Duration
	stop   chan struct{}
	closed bool
}

func newConnCache(ttl time.Duration) *connCache {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	c := &connCache{idle: map[string][]*client{}, ttl: ttl, stop: make(chan struct{})}
	go c.reap()
	return c
}

func (c *connCache) get(key string) *client {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		l := c.idle[key]
		if len(l) == 0 {
			return nil
		}
		cl := l[len(l)-1]
		c.idle[key] = l[:len(l)-1]
		if time.Since(cl.idleAt) < c.ttl {
			return cl
		}
		go cl.close()
	}
}

func (c *connCache) put(cl *client, limit int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.idle[cl.key]) >= limit {
		go cl.c.Quit()
		return
	}
	cl.idleAt = time.Now()
	c.idle[cl.key] = append(c.idle[cl.key], cl)
}

func (c *connCache) reap() {
	t := time.NewTicker(c.ttl / 2)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		c.mu.Lock()
		for k, l := range c.idle {
			keep := l[:0]
			for _, cl := range l {
				if time.Since(cl.idleAt) >= c.ttl {
					go cl.c.Quit()
				} else {
					keep = append(keep, cl)
				}
			}
			c.idle[k] = keep
		}
		c.mu.Unlock()
	}
}

func (c *connCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	close(c.stop)
	for _, l := range c.idle {
		for _, cl := range l {
			cl.c.Quit()
		}
	}
	c.idle = nil
}
