// Package deliver hands spooled messages to the next hop: the recipient
// domain's MX hosts (or a configured smarthost) over SMTP, with opportunistic
// STARTTLS, connection reuse, a concurrency limit per destination and a
// source address per delivery pool.
package deliver

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/address"
	"github.com/tollgate-mail/tollgate/nexthop"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/queue"
)

// Options configures a Transport.
type Options struct {
	Hostname           string // our EHLO name
	Smarthost          string // HOST:PORT; empty: MX lookup
	Resolver           string // DNS server HOST:PORT; empty: the system's
	Port               int    // port dialled on MX hosts
	ConnectTimeout     time.Duration
	CommandTimeout     time.Duration
	DataTimeout        time.Duration
	IdleTimeout        time.Duration // an idle cached connection is closed after this
	MaxPerDestination  int           // concurrent transactions per destination
	MaxMessagesPerConn int
	RequireTLS         bool                         // refuse to deliver in the clear (temporary failure)
	VerifyTLS          bool                         // verify certificates (otherwise opportunistic: encrypt, don't verify)
	Pools              map[policy.Pool][]netip.Addr // source addresses per pool; empty: the system picks
	// PoolLimits caps concurrent transactions per destination for a pool;
	// a pool absent here (or 0) takes MaxPerDestination.
	PoolLimits map[policy.Pool]int
	// Assigned, when set, names the dedicated pool an operator gave the
	// message's tenant or connector ("" for none). It is asked at each
	// attempt for mail bound for the normal pool; high-risk mail (flagged
	// spam, DSNs) stays high-risk whatever the assignment.
	Assigned func(tenantID, connectorID int64) policy.Pool
	// AllowedInternal are the internal or reserved ranges (see package
	// nexthop) that MX and A results may still point at: an operator's own
	// next hops. Every other such address is refused before any
	// connection; the smarthost is never refused.
	AllowedInternal []netip.Prefix
	// OnConnect, when set, is called with each address just before a
	// connection to it is opened (tests prove a refused hop was never
	// dialled).
	OnConnect func(netip.AddrPort)
	Logger    *slog.Logger
}

// Transport implements queue.Transport.
type Transport struct {
	opts     Options
	log      *slog.Logger
	resolver *net.Resolver
	cache    *connCache
	guard    nexthop.Guard

	mu   sync.Mutex
	sems map[string]chan struct{} // per pool and destination
	rr   map[policy.Pool]int      // round-robin position per pool
}

// New returns a Transport. Close it to drop cached connections.
func New(opts Options) *Transport {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Port == 0 {
		opts.Port = 25
	}
	if opts.MaxPerDestination <= 0 {
		opts.MaxPerDestination = 20
	}
	if opts.MaxMessagesPerConn <= 0 {
		opts.MaxMessagesPerConn = 100
	}
	t := &Transport{
		opts: opts, log: opts.Logger.With("component", "deliver"),
		resolver: newResolver(opts.Resolver), sems: map[string]chan struct{}{}, rr: map[policy.Pool]int{},
		guard: nexthop.Guard{Allowed: opts.AllowedInternal},
	}
	t.cache = newConnCache(opts.IdleTimeout)
	return t
}

// Close closes the cached connections.
func (t *Transport) Close() { t.cache.close() }

// Deliver implements queue.Transport: it groups the recipients by next hop and
// tries each group once.
//
// Every address is written in its canonical wire form (address.Parse, then
// Path): the queue keeps that form, and one that no longer parses (a spool
// of an older version) fails permanently rather than be written raw, where
// a quoted local part could end the path and add parameters.
func (t *Transport) Deliver(ctx context.Context, d *queue.Delivery) []queue.Result {
	if p := t.pool(t.wanted(d)); p != d.Pool {
		dd := *d
		dd.Pool = p
		d = &dd
	}
	if _, err := address.ParseReversePath(d.From); err != nil {
		return allResults(d.Rcpts, queue.Result{Permanent: true, Code: "5.1.7",
			Detail: fmt.Sprintf("envelope sender cannot be written to the next hop: %v", err)})
	}
	groups := map[string][]string{}
	var order []string
	var out []queue.Result
	for _, r := range d.Rcpts {
		a, err := address.Parse(r)
		if err != nil {
			out = append(out, badRcpt(r, err))
			continue
		}
		key := t.opts.Smarthost
		if key == "" {
			key = strings.ToLower(a.Domain)
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], r)
	}
	for _, key := range order {
		out = append(out, t.deliverGroup(ctx, d, key, groups[key])...)
	}
	return out
}

func (t *Transport) deliverGroup(ctx context.Context, d *queue.Delivery, dest string, rcpts []string) []queue.Result {
	hosts, code, err := t.route(ctx, dest)
	if err != nil {
		return allResults(rcpts, queue.Result{Permanent: code[0] == '5', Code: code, Detail: err.Error()})
	}
	sem := t.semaphore(d.Pool, dest)
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return allResults(rcpts, queue.Result{Code: "4.4.0", Detail: "delivery stopped: " + ctx.Err().Error()})
	}
	defer func() { <-sem }()

	// A host refused as internal is skipped like an unreachable one; only
	// when every host was refused is the failure permanent, since a host
	// that is down may come back.
	var last, refused []queue.Result
	for _, h := range hosts {
		res, retryNext, internal := t.transact(ctx, d, h, rcpts)
		if !retryNext {
			return res
		}
		if internal {
			refused = res
		} else {
			last = res
		}
		if ctx.Err() != nil {
			break
		}
	}
	if last == nil {
		return refused
	}
	return last
}

// wanted is the pool the delivery asks for: high-risk and DSNs as they
// are, otherwise the operator's assignment if any.
func (t *Transport) wanted(d *queue.Delivery) policy.Pool {
	if d.Pool == policy.PoolHighRisk || d.Kind == "dsn" || t.opts.Assigned == nil {
		return d.Pool
	}
	if p := t.opts.Assigned(d.TenantID, d.ConnectorID); p != "" {
		return p
	}
	return d.Pool
}

// pool is the pool a delivery leaves through: its own when configured,
// else normal. A pool removed from the config while mail for it sat in the
// queue is a warning, never a bounce: the mail still leaves, from normal.
func (t *Transport) pool(p policy.Pool) policy.Pool {
	switch p {
	case "":
		return policy.PoolNormal
	case policy.PoolNormal, policy.PoolHighRisk:
		return p
	}
	if _, ok := t.opts.Pools[p]; ok {
		return p
	}
	t.log.Warn("delivery pool is not configured; using the normal pool", "pool", string(p))
	return policy.PoolNormal
}

// limit is the pool's cap on concurrent transactions per destination.
func (t *Transport) limit(pool policy.Pool) int {
	if n := t.opts.PoolLimits[pool]; n > 0 {
		return n
	}
	return t.opts.MaxPerDestination
}

// semaphore is the (pool, destination) semaphore: each pool has its own
// cap, so a dedicated pool warming up at 1 connection does not hold back
// the shared pools, nor they it.
func (t *Transport) semaphore(pool policy.Pool, dest string) chan struct{} {
	key := string(pool) + "|" + dest
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.sems[key]
	if !ok {
		s = make(chan struct{}, t.limit(pool))
		t.sems[key] = s
	}
	return s
}

// sourceAddr picks the pool's next source address (round robin), or nil.
func (t *Transport) sourceAddr(pool policy.Pool) net.Addr {
	addrs := t.opts.Pools[pool]
	if len(addrs) == 0 {
		return nil
	}
	t.mu.Lock()
	i := t.rr[pool] % len(addrs)
	t.rr[pool]++
	t.mu.Unlock()
	return &net.TCPAddr{IP: addrs[i].AsSlice()}
}

// badRcpt is the permanent result for a recipient that cannot be written.
func badRcpt(rcpt string, err error) queue.Result {
	return queue.Result{Rcpt: rcpt, Permanent: true, Code: "5.1.3",
		Detail: fmt.Sprintf("recipient address cannot be written to the next hop: %v", err)}
}

func allResults(rcpts []string, r queue.Result) []queue.Result {
	out := make([]queue.Result, len(rcpts))
	for i, rc := range rcpts {
		out[i] = r
		out[i].Rcpt = rc
	}
	return out
}

func codeFor(perm bool, temp, permanent string) string {
	if perm {
		return permanent
	}
	return temp
}
