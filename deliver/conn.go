package deliver

import (
	"sync"
	"time"
)

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
		go cl.quit()
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
					go cl.quit()
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
			cl.quit()
		}
	}
	c.idle = nil
}
