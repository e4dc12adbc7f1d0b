package feedback

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/queue"
)

const redisAddr = "127.0.0.1:6379"

// stores gives both counter stores, as counters' own suite does: the
// embedded one (saved to a file) and Redis under a prefix of this test's.
func stores(t *testing.T) map[string]func(t *testing.T) counters.Counter {
	return map[string]func(t *testing.T) counters.Counter{
		"embedded": func(t *testing.T) counters.Counter {
			c, err := counters.OpenFile(filepath.Join(t.TempDir(), "counters"), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		},
		"redis": func(t *testing.T) counters.Counter {
			prefix := fmt.Sprintf("tollgate-test:%s:%d:", t.Name(), time.Now().UnixNano())
			c, err := counters.NewRedis(&redis.Options{Addr: redisAddr}, prefix)
			if err != nil {
				t.Skipf("redis not reachable at %s, skipping the Redis half: %v", redisAddr, err)
			}
			t.Cleanup(func() {
				cleanupPrefix(t, prefix)
				c.Close()
			})
			return c
		},
	}
}

func cleanupPrefix(t *testing.T, prefix string) {
	rc := redis.NewClient(&redis.Options{Addr: redisAddr,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	defer rc.Close()
	ctx := context.Background()
	iter := rc.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		rc.Del(ctx, iter.Val())
	}
}

// TestSourceCounts: one attempt's results count into the right fields, per
// tenant, on both stores, and leave the window after a day.
func TestSourceCounts(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			src := NewSource(open(t), 0, nil)
			now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
			src.now = func() time.Time { return now }
			results := []queue.Result{
				{OK: true, Code: "2.0.0", Reply: 250, Detail: "250 2.0.0 OK"},
				{OK: true, Code: "2.0.0", Reply: 250, Detail: "250 2.0.0 OK"},
				{Permanent: true, Code: "5.1.1", Reply: 550, Detail: "550 5.1.1 user unknown (in reply to RCPT TO)"},
				{Permanent: true, Code: "5.7.1", Reply: 550, Detail: "550 5.7.1 this message is likely unsolicited mail (in reply to end of DATA)"},
				{Code: "4.7.28", Reply: 421, Detail: "421 4.7.28 rate limited"},
				{Code: "4.3.0", Reply: 451, Detail: "451 4.3.0 try again"},
				{Permanent: true, Code: "5.2.2", Reply: 552, Detail: "552 5.2.2 mailbox full"},
				{Code: "4.4.1", Detail: "connect to mx: refused"},
			}
			var classes []string
			for _, r := range results {
				c, reason := src.Classify(r)
				if reason == "" {
					t.Fatalf("no reason for %+v", r)
				}
				classes = append(classes, c)
			}
			src.Count(ctx, 7, classes)
			if err := src.AddComplaint(ctx, 7); err != nil {
				t.Fatal(err)
			}
			src.Count(ctx, 8, []string{string(HardBounce)})

			got, err := src.TenantFeedback(ctx, 7)
			if err != nil {
				t.Fatal(err)
			}
			want := policy.Feedback{Window: DefaultWindow, Delivered: 2, HardBounces: 1, SpamRefusals: 1, Deferrals: 2, Complaints: 1}
			if got != want {
				t.Fatalf("tenant 7: got %+v, want %+v", got, want)
			}
			if got, _ := src.TenantFeedback(ctx, 8); got.HardBounces != 1 || got.Delivered != 0 {
				t.Fatalf("tenant 8: got %+v", got)
			}
			if got, _ := src.TenantFeedback(ctx, 9); got != (policy.Feedback{Window: DefaultWindow}) {
				t.Fatalf("tenant 9 has no mail, got %+v", got)
			}
			now = now.Add(DefaultWindow + time.Hour)
			if got, _ := src.TenantFeedback(ctx, 7); got != (policy.Feedback{Window: DefaultWindow}) {
				t.Fatalf("a day later: got %+v", got)
			}
		})
	}
}

// TestSourceSharedAcrossNodes: two nodes on one Redis see each other's counts.
func TestSourceSharedAcrossNodes(t *testing.T) {
	prefix := fmt.Sprintf("tollgate-test:%s:%d:", t.Name(), time.Now().UnixNano())
	var nodes []*Source
	for range 2 {
		c, err := counters.NewRedis(&redis.Options{Addr: redisAddr}, prefix)
		if err != nil {
			t.Skipf("redis not reachable at %s: %v", redisAddr, err)
		}
		t.Cleanup(func() { c.Close() })
		nodes = append(nodes, NewSource(c, time.Hour, nil))
	}
	t.Cleanup(func() { cleanupPrefix(t, prefix) })
	ctx := context.Background()
	nodes[0].Count(ctx, 3, []string{string(SpamRefusal), string(Delivered)})
	nodes[1].Count(ctx, 3, []string{string(SpamRefusal)})
	got, err := nodes[1].TenantFeedback(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got.SpamRefusals != 2 || got.Delivered != 1 || got.Window != time.Hour {
		t.Fatalf("got %+v", got)
	}
}
