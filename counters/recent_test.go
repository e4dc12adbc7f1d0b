package counters

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func newRedisRecents(t *testing.T, prefix string) Recents {
	t.Helper()
	c, err := NewRedis(&redis.Options{Addr: redisAddr}, prefix)
	if err != nil {
		t.Skipf("redis not reachable at %s, skipping: %v", redisAddr, err)
	}
	t.Cleanup(func() { c.Close() })
	r, ok := c.(Recents)
	if !ok {
		t.Fatal("the Redis counters do not keep shared recent lists")
	}
	return r
}

// Two nodes on one Redis push to one list: each reads the other's items,
// newest first, capped at keep; the list expires ttl after the last push;
// bad arguments are ErrInvalid. The embedded counters keep no shared list.
func TestRecentsShared(t *testing.T) {
	prefix := uniquePrefix(t)
	t.Cleanup(func() { cleanupPrefix(t, prefix) })
	a, b := newRedisRecents(t, prefix), newRedisRecents(t, prefix)
	ctx := context.Background()
	for i := range 7 {
		node := map[bool]Recents{true: a, false: b}[i%2 == 0]
		if err := node.PushRecent(ctx, "t:1", []byte(fmt.Sprintf("m%d", i)), 5, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.Recent(ctx, "t:1", 10)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range got {
		names = append(names, string(g))
	}
	if strings.Join(names, ",") != "m6,m5,m4,m3,m2" {
		t.Fatalf("recent = %v, want the newest 5 of both nodes, newest first", names)
	}
	if got, _ := a.Recent(ctx, "t:1", 2); len(got) != 2 || string(got[0]) != "m6" {
		t.Fatalf("recent n=2 = %q", got)
	}
	if got, err := a.Recent(ctx, "t:2", 10); err != nil || len(got) != 0 {
		t.Fatalf("a list never pushed: %q, %v", got, err)
	}

	// Expiry: a short ttl lets the list go.
	if err := a.PushRecent(ctx, "t:3", []byte("x"), 5, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := a.Recent(ctx, "t:3", 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the list outlived its ttl")
		}
		time.Sleep(20 * time.Millisecond)
	}

	for name, err := range map[string]error{
		"empty key":   a.PushRecent(ctx, "", []byte("x"), 5, time.Minute),
		"keep 0":      a.PushRecent(ctx, "k", []byte("x"), 0, time.Minute),
		"ttl 0":       a.PushRecent(ctx, "k", []byte("x"), 5, 0),
		"huge item":   a.PushRecent(ctx, "k", make([]byte, maxRecentItem+1), 5, time.Minute),
		"read n 0":    func() error { _, err := a.Recent(ctx, "k", 0); return err }(),
		"read no key": func() error { _, err := a.Recent(ctx, "", 3); return err }(),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, ok := NewMemory().(Recents); ok {
		t.Error("the embedded counters claim a shared list: the engine's own ring is the one-node store")
	}
}

// BenchmarkPushRecent is one evidence push (LPUSH+LTRIM+PEXPIRE in one
// MULTI) of a typical item, and a block's read of the full list.
func BenchmarkPushRecent(b *testing.B) {
	prefix := uniquePrefix(b)
	b.Cleanup(func() { cleanupPrefix(b, prefix) })
	c, err := NewRedis(&redis.Options{Addr: redisAddr}, prefix)
	if err != nil {
		b.Skipf("redis not reachable at %s: %v", redisAddr, err)
	}
	defer c.Close()
	r := c.(Recents)
	ctx := context.Background()
	item := []byte(`{"id":"0123456789ab-1","at":1764800000000,"sender":"mallory@acme.test","connector":"relay-x","sample":{"queue_id":"Q0123456789","message_id":"<a1b2c3d4@acme.test>","subject":"You have won a prize, claim it now","sender":"mallory@acme.test","verdict":"spam"}}`)
	b.Run("push", func(b *testing.B) {
		for b.Loop() {
			if err := r.PushRecent(ctx, "t:1", item, 100, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read100", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.Recent(ctx, "t:1", 100); err != nil {
				b.Fatal(err)
			}
		}
	})
}
