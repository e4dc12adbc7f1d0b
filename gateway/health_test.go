package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

func probeHTTP(t *testing.T, g *gateway.Gateway, path string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr(g, "admin") + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func wantLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains("\n"+body, "\n"+l) {
			t.Errorf("no line %q in:\n%s", l, body)
		}
	}
}

// /healthz/live answers while the process serves; /healthz/ready checks
// the store, the counters, the spool and every listener, and names what
// fails; /healthz keeps answering as before.
func TestHealthzLiveReady(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := start(t, postfixConfig(t, sink.Addr()), false)
	if code, body := probeHTTP(t, g, "/healthz/live"); code != 200 || body != "live\n" {
		t.Fatalf("/healthz/live: %d %q", code, body)
	}
	code, body := probeHTTP(t, g, "/healthz/ready")
	if code != 200 || !strings.HasPrefix(body, "ready\n") {
		t.Fatalf("/healthz/ready: %d %q", code, body)
	}
	wantLines(t, body, "spool_space ok", "store ok", "trace_store ok", "counters ok", "spool_writable ok",
		"listener_relay ok", "listener_submission ok", "listener_submissions ok",
		"listener_postfix-policy ok", "listener_milter ok")

	// A listener down: not ready, and the line says which.
	g.Postfix.Close()
	code, body = probeHTTP(t, g, "/healthz/ready")
	if code != 503 || !strings.HasPrefix(body, "not ready\n") {
		t.Fatalf("/healthz/ready with the Postfix listeners closed: %d %q", code, body)
	}
	wantLines(t, body, "listener_postfix-policy: ", "listener_milter: ", "listener_relay ok", "store ok")
	if code, body := probeHTTP(t, g, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
}

// In a fleet, ready means PostgreSQL and Redis answer: with Redis gone
// (its port closed under the node) the node is not ready, and says so.
func TestHealthzReadyFleet(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	needRedis(t)
	redis := startProxy(t, redisAddr)
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	cfg.Store.PostgresDSN = dsn
	cfg.Counters.RedisURL = "redis://" + redis.Addr() + "/0"
	cfg.Counters.Prefix = fmt.Sprintf("tollgate-test:%d:", time.Now().UnixNano())
	g := start(t, cfg, false)
	code, body := probeHTTP(t, g, "/healthz/ready")
	if code != 200 {
		t.Fatalf("/healthz/ready: %d %q", code, body)
	}
	wantLines(t, body, "postgres ok", "redis ok")
	redis.stop()
	code, body = probeHTTP(t, g, "/healthz/ready")
	if code != 503 {
		t.Fatalf("/healthz/ready with Redis gone: %d %q", code, body)
	}
	wantLines(t, body, "redis: ", "postgres ok")
}
