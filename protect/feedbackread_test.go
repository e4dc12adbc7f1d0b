package protect

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/feedback"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// writes counts what a Redis client writes: go-redis sends one command or
// one pipeline per Write and waits for its reply, so a Write is a round
// trip.
type writes struct{ n atomic.Int64 }

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) { c.n.Add(1); return c.Conn.Write(p) }

func (w *writes) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &w.n}, nil
}

// counterStores are the two counter stores, the Redis one under a prefix
// of this test's (deleted at the end) and counting its round trips.
func counterStores(t *testing.T) map[string]func(t *testing.T) (counters.Counter, *writes) {
	return map[string]func(t *testing.T) (counters.Counter, *writes){
		"embedded": func(t *testing.T) (counters.Counter, *writes) { return counters.NewMemory(), nil },
		"redis": func(t *testing.T) (counters.Counter, *writes) {
			w := &writes{}
			prefix := fmt.Sprintf("tollgate-test:%s:%d:", t.Name(), time.Now().UnixNano())
			c, err := counters.NewRedis(&redis.Options{Addr: "127.0.0.1:6379", Dialer: w.dial}, prefix)
			if err != nil {
				t.Skipf("redis not reachable at 127.0.0.1:6379, skipping the Redis half: %v", err)
			}
			t.Cleanup(func() {
				c.Close()
				rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379",
					MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
				defer rc.Close()
				ctx := context.Background()
				iter := rc.Scan(ctx, 0, prefix+"*", 100).Iterator()
				for iter.Next(ctx) {
					rc.Del(ctx, iter.Val())
				}
			})
			return c, w
		},
	}
}

// separateReads is the gateway's feedback source, counting the reads it
// makes on its own (TenantFeedback) rather than with the evidence.
type separateReads struct {
	*feedback.Source
	n atomic.Int64
}

func (s *separateReads) TenantFeedback(ctx context.Context, tenantID int64) (policy.Feedback, error) {
	s.n.Add(1)
	return s.Source.TenantFeedback(ctx, tenantID)
}

// The delivery feedback kept in the engine's own counters is read in the
// DATA stage's one counter step (one Redis round trip for the whole
// stage), with the same decisions as a read of its own: at the pause rate
// the tenant is blocked by it; at the review rate list mail counts (that
// message reads the feedback on its own first, since whether it counts
// hangs on it); the cache still holds a read for feedbackTTL.
func TestFeedbackReadWithEvidence(t *testing.T) {
	for name, open := range counterStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c, w := open(t)
			f := newFixture(t, storetest.SQLite(t), c, func(s *policy.Settings) { s.UserSpamPerHour = 0 })
			src := &separateReads{Source: feedback.NewSource(c, 0, nil)}
			f.e.Feedback = src
			if f.e.countedFeedback() == nil {
				t.Fatal("the feedback source on the engine's counters is not read with the evidence")
			}

			// Clean mail with no feedback yet: one round trip at DATA.
			chain := chainOf(t, f.e)
			env := f.env("news@acme.test")
			mustOK(t, chain.Mail(ctx, env))
			mustOK(t, chain.Rcpt(ctx, env, customer(1)))
			env.Rcpts = append(env.Rcpts, customer(1))
			before := int64(0)
			if w != nil {
				before = w.n.Load()
			}
			msg := &policy.Message{Subject: "s", HeaderFrom: env.From, Verdict: policy.Verdict{Class: policy.ClassClean}}
			mustOK(t, chain.Data(ctx, env, msg))
			if w != nil {
				if got := w.n.Load() - before; got != 1 {
					t.Fatalf("DATA took %d Redis round trips, want 1 (the feedback read with the evidence)", got)
				}
			}
			if src.n.Load() != 0 {
				t.Fatalf("clean mail read the feedback on its own %d times", src.n.Load())
			}
			if !hasFigure(msg.Evidence, "feedback", policy.FeedbackLow) {
				t.Fatalf("evidence has no feedback figure read with it: %v", msg.Evidence)
			}

			// Review rate (5 % bounces over 2000): once the cache is stale,
			// list mail reads it on its own and counts.
			classes := make([]string, 0, 2000)
			for i := range 2000 {
				classes = append(classes, string(map[bool]feedback.Class{true: feedback.HardBounce, false: feedback.Delivered}[i%20 == 0]))
			}
			src.Count(ctx, f.tenant.ID, classes)
			f.clk.add(feedbackTTL)
			for range 19 {
				mustOK(t, f.send(t, "news@acme.test", stranger(), "bulk", true))
			}
			if src.n.Load() != 1 {
				t.Fatalf("list mail read the feedback on its own %d times in one TTL, want 1", src.n.Load())
			}
			mustCode(t, f.send(t, "news@acme.test", stranger(), "bulk", true), "5.7.705")

			// Pause rate (0.5 % complaints), on a fresh store: a clean
			// message is blocked by the feedback read with its evidence.
			c2, _ := open(t)
			g := newFixture(t, storetest.SQLite(t), c2, nil)
			gsrc := &separateReads{Source: feedback.NewSource(c2, 0, nil)}
			g.e.Feedback = gsrc
			pause := make([]string, 0, 1000)
			for i := range 1000 {
				pause = append(pause, string(map[bool]feedback.Class{true: feedback.HardBounce, false: feedback.Delivered}[i%100 == 0]))
			}
			gsrc.Count(ctx, g.tenant.ID, pause)
			for range 5 {
				if err := gsrc.AddComplaint(ctx, g.tenant.ID); err != nil {
					t.Fatal(err)
				}
			}
			d := g.send(t, "ann@acme.test", customer(2), "clean", false)
			mustCode(t, d, "5.7.705")
			if d.Rule != "tenant-feedback" || gsrc.n.Load() != 0 {
				t.Fatalf("rule %s after %d separate reads, want tenant-feedback after none", d.Rule, gsrc.n.Load())
			}
		})
	}
}

// A source kept elsewhere than the engine's counters is read on its own,
// as before.
func TestFeedbackElsewhereReadAlone(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), memory(t), nil)
	src := &separateReads{Source: feedback.NewSource(counters.NewMemory(), 0, nil)}
	f.e.Feedback = src
	if f.e.countedFeedback() != nil {
		t.Fatal("a source on other counters would be read with the engine's")
	}
	mustOK(t, f.send(t, "ann@acme.test", customer(3), "clean", false))
	if src.n.Load() != 1 {
		t.Fatalf("%d separate reads, want 1", src.n.Load())
	}
}

func hasFigure(figs []policy.Figure, name, value string) bool {
	for _, f := range figs {
		if f.Name == name && f.Value == value {
			return true
		}
	}
	return false
}
