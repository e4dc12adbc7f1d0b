package alert

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-mail/tollgate/counters"
)

// sharedClaim is the claim of counters' Redis under a prefix of this
// test's, as two gateways of one fleet share it; the test skips when no
// Redis answers on 127.0.0.1:6379.
func sharedClaim(t *testing.T) func(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	t.Helper()
	c, err := counters.NewRedis(&redis.Options{Addr: "127.0.0.1:6379"}, fmt.Sprintf("tollgate-test:%s:%d:", t.Name(), time.Now().UnixNano()))
	if err != nil {
		t.Skipf("no Redis on 127.0.0.1:6379 (the fleet's shared store): %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(counters.Claimer).Claim
}

// Two nodes of a fleet that raise the same alert (the same block, by its
// Ref) send it once between them; a different block (a re-block after an
// unblock has a new Ref) is sent again; and when the shared store fails,
// the alert is sent rather than lost.
func TestFleetDedupe(t *testing.T) {
	claim := sharedClaim(t)
	sinkA, sinkB := newChanSink("a"), newChanSink("b")
	nodeA, err := NewNotifier(Config{Claim: claim}, sinkA)
	if err != nil {
		t.Fatal(err)
	}
	nodeB, err := NewNotifier(Config{Claim: claim}, sinkB)
	if err != nil {
		t.Fatal(err)
	}
	block := Alert{Kind: TenantBlocked, TenantID: 7, Tenant: "acme", Subject: "tenant blocked", Ref: "block:41"}
	if !nodeA.Notify(block) {
		t.Fatal("node A did not take the alert")
	}
	nodeB.Notify(block)
	sent := 0
	for _, s := range []*chanSink{sinkA, sinkB} {
		select {
		case <-s.got:
			sent++
		case <-time.After(3 * time.Second):
		}
	}
	if sent != 1 {
		t.Fatalf("the fleet sent the same block's alert %d times, want once", sent)
	}
	if got := nodeA.Stats().Deduplicated + nodeB.Stats().Deduplicated; got != 1 {
		t.Fatalf("deduplicated %d, want 1 (the other node's)", got)
	}

	reblock := block
	reblock.Ref = "block:42"
	nodeB.Notify(reblock)
	if a := sinkB.next(t); a.Ref != "block:42" {
		t.Fatalf("the re-block's alert: %+v", a)
	}

	failing := func(context.Context, string, time.Duration) (bool, error) {
		return false, errors.New("redis: connection refused")
	}
	sinkC := newChanSink("c")
	nodeC, err := NewNotifier(Config{Claim: failing}, sinkC)
	if err != nil {
		t.Fatal(err)
	}
	nodeC.Notify(block)
	if a := sinkC.next(t); a.Ref != "block:41" {
		t.Fatalf("with the shared store down: %+v", a)
	}
	for _, n := range []*Notifier{nodeA, nodeB, nodeC} {
		if err := n.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// Close sends an alert whose fleet claim was still in flight when Close
// began (a block decided just before a graceful stop): the claim is
// waited for before the queues close.
func TestCloseWaitsForClaims(t *testing.T) {
	release := make(chan struct{})
	slow := func(ctx context.Context, _ string, _ time.Duration) (bool, error) {
		select {
		case <-release:
			return true, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	sink := newChanSink("a")
	n, err := NewNotifier(Config{Claim: slow}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if !n.Notify(Alert{Kind: TenantBlocked, TenantID: 7, Tenant: "acme", Ref: "block:9"}) {
		t.Fatal("the alert was not taken")
	}
	closed := make(chan error, 1)
	go func() { closed <- n.Close(context.Background()) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n.mu.Lock()
		c := n.closed
		n.mu.Unlock()
		if c {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Close did not begin")
		}
		time.Sleep(time.Millisecond)
	}
	close(release) // the claim answers only once Close has begun
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if a := sink.next(t); a.Ref != "block:9" {
		t.Fatalf("sent %+v", a)
	}
}
