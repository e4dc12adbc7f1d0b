package protect

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// sharedRedis opens a Redis counter on this test's prefix (deleted at the
// end); every call with the same prefix is another node of one fleet.
func sharedRedis(t *testing.T, prefix string, opts *redis.Options) counters.Counter {
	t.Helper()
	if opts == nil {
		opts = &redis.Options{}
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:6379"
	}
	c, err := counters.NewRedis(opts, prefix)
	if err != nil {
		t.Skipf("redis not reachable at %s, skipping: %v", opts.Addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func fleetPrefix(t *testing.T) string {
	prefix := fmt.Sprintf("tollgate-test:%s:%d:", t.Name(), time.Now().UnixNano())
	t.Cleanup(func() {
		rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
		defer rc.Close()
		ctx := context.Background()
		iter := rc.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rc.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// node is a second engine of the fixture's fleet: the same directory,
// block store and clock, its own counters client and memory.
func (f *fixture) node(t *testing.T, c counters.Counter) (*Engine, policy.Chain) {
	e := &Engine{Defaults: f.e.Defaults, Counters: c, Blocks: f.blocks, Tenants: f.dir, Now: f.clk.now}
	return e, chainOf(t, e)
}

// sendVia runs one message from sender to a stranger through chain with
// the verdict, and reports how long DATA took.
func (f *fixture) sendVia(t *testing.T, chain policy.Chain, sender, subject, verdict string) (policy.Decision, time.Duration) {
	t.Helper()
	ctx := context.Background()
	env := f.env(sender)
	if d := chain.Mail(ctx, env); d.Action != policy.Accept {
		return d, 0
	}
	rcpt := stranger()
	if d := chain.Rcpt(ctx, env, rcpt); d.Action != policy.Accept {
		return d, 0
	}
	env.Rcpts = append(env.Rcpts, rcpt)
	start := time.Now()
	d := chain.Data(ctx, env, &policy.Message{Subject: subject, HeaderFrom: sender, QueueID: fmt.Sprintf("q%d", strangers.Add(1)),
		Verdict: policy.Verdict{Class: policy.Class(verdict)}})
	return d, time.Since(start)
}

func flush(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.FlushEvidence(ctx); err != nil {
		t.Fatalf("evidence pushes still in flight: %v", err)
	}
}

func countOf(cs []blocks.Count, name string) int64 {
	for _, c := range cs {
		if c.Name == name {
			return c.Count
		}
	}
	return 0
}

func sampleSenders(ss []blocks.Sample) map[string]int {
	m := map[string]int{}
	for _, s := range ss {
		m[s.Sender]++
	}
	return m
}

// A tenant's spam spread over two nodes on one Redis: the block, decided
// on one node, shows the senders and samples of both, with their counts;
// an oversized subject is clipped in the shared list.
func TestBlockEvidenceIsFleetWide(t *testing.T) {
	prefix := fleetPrefix(t)
	set := func(s *policy.Settings) { s.TenantSpamCount, s.TenantSpamRatio, s.UserSpamPerHour = 6, 0.5, 0 }
	w := &writes{}
	f := newFixture(t, storetest.SQLite(t), sharedRedis(t, prefix, &redis.Options{Dialer: w.dial}), set)
	a, chainA := f.e, f.chain
	b, chainB := f.node(t, sharedRedis(t, prefix, nil))

	// Clean mail pushes nothing; a spam costs its one push, off its DATA.
	for _, v := range []string{"clean", "clean"} {
		before := w.n.Load()
		d, _ := f.sendVia(t, chainA, "carol@acme.test", "hello", v)
		mustOK(t, d)
		flush(t, a)
		if got := w.n.Load() - before; got != 3 { // MAIL, RCPT, DATA: one each
			t.Fatalf("a clean message took %d Redis round trips, want 3", got)
		}
	}

	long := strings.Repeat("é", 300) // 600 bytes
	for i := range 3 {
		before := w.n.Load()
		d, _ := f.sendVia(t, chainA, "alice@acme.test", fmt.Sprintf("a%d", i), "spam")
		mustOK(t, d)
		flush(t, a)
		// The first push may open the pool's second connection (its
		// handshake is a few writes more); after it, one push a spam.
		if got := w.n.Load() - before; i > 0 && got != 4 {
			t.Fatalf("a spam took %d Redis round trips, want 4 (3 and its evidence push)", got)
		}
	}
	for range 2 {
		d, _ := f.sendVia(t, chainB, "bob@acme.test", long, "spam")
		mustOK(t, d)
	}
	flush(t, a)
	flush(t, b)
	// The sixth, on node A: the threshold is crossed there; node A's own
	// memory has only alice's.
	d, _ := f.sendVia(t, chainA, "alice@acme.test", "a3", "spam")
	mustCode(t, d, "5.7.705")
	blk, ok := f.blocks.ActiveBlock(f.tenant.ID)
	if !ok {
		t.Fatal("not blocked after 6 spams over two nodes")
	}
	ev := blk.Evidence
	if countOf(ev.TopSenders, "alice@acme.test") != 4 || countOf(ev.TopSenders, "bob@acme.test") != 2 {
		t.Fatalf("top senders %+v, want alice 4 (node A) and bob 2 (node B)", ev.TopSenders)
	}
	if got := sampleSenders(ev.Samples); got["alice@acme.test"] != 4 || got["bob@acme.test"] != 2 {
		t.Fatalf("samples by sender %v, want 4 of alice's and 2 of bob's", got)
	}
	if ev.Samples[0].Subject != "a3" {
		t.Errorf("newest sample %q, want the blocking message a3 first", ev.Samples[0].Subject)
	}
	for _, s := range ev.Samples {
		if s.Sender == "bob@acme.test" && (len(s.Subject) != 200 || !strings.HasPrefix(long, s.Subject)) {
			t.Errorf("bob's subject is %d bytes, want clipped to 200 between characters", len(s.Subject))
		}
		if s.QueueID == "" || s.Verdict != policy.ClassSpam {
			t.Errorf("sample lost its fields in the shared list: %+v", s)
		}
	}
	if ev.Extra[LocalEvidenceNote] != "" {
		t.Errorf("fleet evidence read, yet noted %q", ev.Extra[LocalEvidenceNote])
	}

	// The embedded counters keep the node's ring only: the same six on one
	// node give the same evidence without a shared list.
	g := newFixture(t, storetest.SQLite(t), memory(t), set)
	for i := range 6 {
		d, _ := g.sendVia(t, g.chain, []string{"alice@acme.test", "bob@acme.test"}[i%2], "x", "spam")
		if i == 5 {
			mustCode(t, d, "5.7.705")
		}
	}
	gb, _ := g.blocks.ActiveBlock(g.tenant.ID)
	if countOf(gb.Evidence.TopSenders, "alice@acme.test") != 3 || countOf(gb.Evidence.TopSenders, "bob@acme.test") != 3 {
		t.Fatalf("embedded: top senders %+v", gb.Evidence.TopSenders)
	}
}

// stallProxy is a loopback TCP proxy in front of the real Redis that can
// stall: from then on it cuts its open connections and accepts new ones
// without ever answering, as a hung or partitioned server does.
type stallProxy struct {
	ln      net.Listener
	mu      sync.Mutex
	stalled bool
	conns   []net.Conn
}

func newStallProxy(t *testing.T, upstream string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			stalled := p.stalled
			p.mu.Unlock()
			if stalled {
				continue // held open, never answered
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *stallProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// splitCounter counts on one Redis client and keeps the shared evidence
// on another: the state where the counter step answered and the evidence
// store does not.
type splitCounter struct {
	counters.Counter
	counters.Recents
}

func (s splitCounter) Record(ctx context.Context, sets []counters.SetOp, ops []counters.Op, now time.Time) (counters.Recorded, error) {
	return counters.Record(ctx, s.Counter, sets, ops, now)
}

func (s splitCounter) AddAll(ctx context.Context, ops []counters.Op, now time.Time) (counters.Batch, error) {
	return counters.AddAll(ctx, s.Counter, ops, now)
}

// When the shared evidence store hangs, the messages' decisions are not
// slowed (pushes run in the background) and the block still happens,
// within the read's bound, with this node's own samples and senders and a
// note that they are the node's only.
func TestBlockEvidenceSharedStoreDown(t *testing.T) {
	prefix := fleetPrefix(t)
	proxy := newStallProxy(t, "127.0.0.1:6379")
	viaProxy := sharedRedis(t, prefix, &redis.Options{Addr: proxy.ln.Addr().String(), MaxRetries: -1})
	c := splitCounter{Counter: sharedRedis(t, prefix, nil), Recents: viaProxy.(counters.Recents)}
	set := func(s *policy.Settings) { s.TenantSpamCount, s.TenantSpamRatio, s.UserSpamPerHour = 6, 0.5, 0 }
	f := newFixture(t, storetest.SQLite(t), c, set)

	// Another node's spam reached the shared list before the outage.
	b, chainB := f.node(t, c)
	for range 2 {
		d, _ := f.sendVia(t, chainB, "bob@acme.test", "b", "spam")
		mustOK(t, d)
	}
	flush(t, b)
	proxy.stall()
	for i := range 3 {
		d, took := f.sendVia(t, f.chain, "alice@acme.test", fmt.Sprintf("a%d", i), "spam")
		mustOK(t, d)
		if took > 500*time.Millisecond {
			t.Fatalf("DATA took %v with the evidence store hung: the push is on the message's path", took)
		}
	}
	d, took := f.sendVia(t, f.chain, "alice@acme.test", "a3", "spam")
	mustCode(t, d, "5.7.705")
	if took > readTimeout+time.Second {
		t.Fatalf("the blocking message's DATA took %v, want at most the evidence read's bound %v and a little", took, readTimeout)
	}
	blk, ok := f.blocks.ActiveBlock(f.tenant.ID)
	if !ok {
		t.Fatal("no block with the evidence store down")
	}
	ev := blk.Evidence
	if countOf(ev.TopSenders, "alice@acme.test") != 4 || countOf(ev.TopSenders, "bob@acme.test") != 0 {
		t.Fatalf("top senders %+v, want this node's: alice 4", ev.TopSenders)
	}
	if len(ev.Samples) != 4 || ev.SpamBulk != 6 {
		t.Fatalf("samples %d (want this node's 4), spam_bulk %d (want the fleet's counted 6)", len(ev.Samples), ev.SpamBulk)
	}
	if !strings.Contains(ev.Extra[LocalEvidenceNote], "this node's") {
		t.Fatalf("evidence extra %v does not say the samples are this node's only", ev.Extra)
	}
	flush(t, f.e) // the hung pushes give up within their bound
}
