package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/store"
)

func dialRawFrom(t *testing.T, src, a string) *rawConn {
	t.Helper()
	rc := dialRawNoGreetingFrom(t, src, a)
	rc.expect("220")
	return rc
}

// lockedBuffer is a log sink tests read while the gateway writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// traceRows counts trace events matching where, after a flush.
func traceRows(t *testing.T, g *gateway.Gateway, where string, args ...any) int {
	t.Helper()
	if err := g.Trace.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenSQLite(context.Background(), filepath.Join(g.Config.DataDir, "trace.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.Read.QueryRow(`SELECT COUNT(*) FROM trace_events WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// flood pipelines MAIL and 30 refused RCPTs on one unattributed
// connection and returns the replies up to the connection's end.
func flood(t *testing.T, src, a string) []string {
	t.Helper()
	rc := dialRawFrom(t, src, a)
	var b strings.Builder
	b.WriteString("EHLO flood.test\r\nMAIL FROM:<a@flood.test>\r\n")
	for i := range 30 {
		fmt.Fprintf(&b, "RCPT TO:<r%d@example.net>\r\n", i)
	}
	rc.write(b.String())
	rc.expect("250 ") // EHLO
	var replies []string
	for {
		l, err := rc.reply()
		if err != nil {
			return replies
		}
		replies = append(replies, l)
		if len(replies) > 40 {
			t.Fatalf("never cut off: %q", replies)
		}
	}
}

// An anonymous client pipelining refused RCPTs is cut off after
// smtp.hard_error_limit refusals with 421 4.7.0; its trace events past
// trace.unattributed_per_minute are counted in a summary instead of stored
// one by one, the log gets no line per refusal, and a tenant's events are
// all kept meanwhile.
func TestFloodIsCutOffAndSummarised(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	cfg.SMTP.HardErrorLimit = 5
	cfg.Trace.UnattributedPerMinute = 8
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	g, err := gateway.StartWith(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)),
		gateway.Options{TraceWindow: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.9/32")

	const sessions = 3
	for range sessions {
		replies := flood(t, "127.0.0.2", addr(g, "relay"))
		// MAIL, five refusals, then the cut-off.
		if len(replies) != 7 || !strings.HasPrefix(replies[0], "250") {
			t.Fatalf("replies %q", replies)
		}
		for _, r := range replies[1:6] {
			if !strings.HasPrefix(r, "550 5.7.64") {
				t.Fatalf("refusal %q in %q", r, replies)
			}
		}
		if !strings.HasPrefix(replies[6], "421 4.7.0 Too many errors") {
			t.Fatalf("want 421 4.7.0 Too many errors after 5 refusals, got %q", replies[6])
		}
	}
	// The tenant sends meanwhile: every one of its events is kept.
	c := dialFrom(t, "127.0.0.9", addr(g, "relay"))
	if err := send(c, "a@acme.test", []string{"x@example.net"}, testMessage("kept", "body")); err != nil {
		t.Fatal(err)
	}
	if n := traceRows(t, g, "tenant_id = $1 AND stage IN ('connect', 'mail', 'rcpt', 'data', 'queued')", acme.ID); n != 5 {
		t.Fatalf("tenant events stored: %d, want 5", n)
	}

	// Per flooded session: connect, mail, six refused RCPTs (the sixth
	// answered 421) and the cut-off itself.
	const generated = sessions * 9
	var kept, suppressed, summaries int
	waitUntil(t, "the summary of the flood", func() bool {
		kept = traceRows(t, g, "tenant_id = 0 AND stage <> 'summary' AND attrs LIKE '%127.0.0.2%'")
		suppressed, summaries = 0, 0
		db, err := store.OpenSQLite(context.Background(), filepath.Join(g.Config.DataDir, "trace.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Read.Query(`SELECT attrs FROM trace_events WHERE stage = 'summary' AND outcome = 'suppressed'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var attrs string
			rows.Scan(&attrs)
			i := strings.Index(attrs, `"suppressed":"`)
			if i < 0 {
				t.Fatalf("summary without a count: %s", attrs)
			}
			n, _ := strconv.Atoi(attrs[i+len(`"suppressed":"`) : i+len(`"suppressed":"`)+strings.IndexByte(attrs[i+len(`"suppressed":"`):], '"')])
			suppressed += n
			summaries++
		}
		return kept+suppressed == generated
	})
	if kept > 2*8 || summaries == 0 {
		t.Fatalf("kept %d events whole (budget 8 a window), %d summaries counting %d", kept, summaries, suppressed)
	}
	if n := strings.Count(logs.String(), "msg=trace "); n != 0 {
		t.Fatalf("%d trace events logged at info; want none (debug only)", n)
	}
}

// Under stress the error limit is smtp.stress_error_limit (1), and every
// connection's read deadline shrinks to smtp.stress_timeout, the idle ones
// at once.
func TestStressShrinksTimeoutsAndErrorLimit(t *testing.T) {
	g, sink := startSinkGateway(t, true, func(c *config.Config) {
		c.SMTP.MaxConnections = 10
		c.SMTP.StressPercent = 30 // three connections
		c.SMTP.StressTimeout = config.D(300 * time.Millisecond)
		c.SMTP.CommandTimeout = config.D(time.Minute)
	})

	idle := dialRaw(t, addr(g, "relay"))
	idle.write("EHLO idle.test\r\n")
	idle.expect("250 ")
	// Not under stress yet: the minute's deadline holds.
	idle.conn.SetReadDeadline(time.Now().Add(time.Second))
	if b, err := idle.r.ReadByte(); err == nil {
		t.Fatalf("the idle client got %q before the stress", b)
	}
	dialRaw(t, addr(g, "relay"))
	since := time.Now()
	dialRaw(t, addr(g, "relay")) // the third: stress
	idle.expect("421 4.4.2")
	if took := time.Since(since); took > 10*time.Second {
		t.Fatalf("the idle client was cut off %s after the stress began; want about 300ms", took)
	}

	// The error limit, on a gateway whose stress timeout leaves time to
	// look at it.
	cfg2 := testConfig(t, sink.Addr())
	cfg2.SMTP.MaxConnections = 10
	cfg2.SMTP.StressPercent = 30
	g2 := start(t, cfg2, true)
	dialRaw(t, addr(g2, "relay"))
	dialRaw(t, addr(g2, "relay"))
	b := dialRaw(t, addr(g2, "relay"))
	b.write("EHLO b.test\r\nMAIL FROM:<a@demo.test>\r\nRCPT TO:<x@-bad.test>\r\nRCPT TO:<y@-bad.test>\r\n")
	b.expect("250 ")
	b.expect("250")
	b.expect("501 5.1.3")
	b.expect("421 4.7.0 Too many errors")
}

// A client no tenant is attributed to is cut off after
// smtp.unattributed_timeout, before and after EHLO; a connector's session
// keeps smtp.command_timeout.
func TestUnattributedIdleTimeout(t *testing.T) {
	g, _ := startSinkGateway(t, false, func(c *config.Config) {
		c.SMTP.UnattributedTimeout = config.D(400 * time.Millisecond)
		c.SMTP.CommandTimeout = config.D(time.Minute)
	})
	seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.9/32")

	for _, ehlo := range []bool{false, true} {
		rc := dialRawFrom(t, "127.0.0.2", addr(g, "relay"))
		if ehlo {
			rc.write("EHLO anon.test\r\n")
			rc.expect("250 ")
		}
		since := time.Now()
		rc.expect("421 4.4.2")
		if took := time.Since(since); took < 300*time.Millisecond || took > 10*time.Second {
			t.Fatalf("ehlo %v: cut off after %s, want about 400ms", ehlo, took)
		}
		if _, err := rc.reply(); err == nil {
			t.Fatal("connection still open after the timeout")
		}
	}
	rc := dialRawFrom(t, "127.0.0.9", addr(g, "relay"))
	rc.write("EHLO acme.test\r\n")
	rc.expect("250 ")
	rc.conn.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
	if b, err := rc.r.ReadByte(); err == nil {
		t.Fatalf("the connector's session got %q while idle for less than command_timeout", b)
	}
	rc.write("NOOP\r\n")
	rc.expect("250")
}

// A client that keeps sending, one byte at a time, below smtp.min_data_rate
// is cut off once data_rate_grace is spent, though it is never idle.
func TestOneByteAtATimeDataIsCutOff(t *testing.T) {
	g, sink := startSinkGateway(t, true, func(c *config.Config) {
		c.SMTP.MinDataRate = 100
		c.SMTP.DataRateGrace = config.D(300 * time.Millisecond)
		c.SMTP.DataTimeout = config.D(time.Minute)
	})
	rc := dialRaw(t, addr(g, "relay"))
	rc.write("EHLO slow.test\r\nMAIL FROM:<a@demo.test>\r\nRCPT TO:<x@example.net>\r\nDATA\r\n")
	rc.expect("250 ")
	rc.expect("250")
	rc.expect("250")
	rc.expect("354")
	defer rc.trickle(50*time.Millisecond, "x")() // 20 bytes a second
	since := time.Now()
	rc.expect("421 4.4.2")
	if took := time.Since(since); took > 10*time.Second {
		t.Fatalf("cut off after %s", took)
	}
	if sink.Count() != 0 {
		t.Fatal("a cut-off message was delivered")
	}
}

// smtp.max_connections_per_network caps an IPv4 /24 (IPv6 /48: see the
// smtpd unit test) whatever its addresses.
func TestConnectionCapPerNetwork(t *testing.T) {
	g, _ := startSinkGateway(t, true, func(c *config.Config) {
		c.SMTP.MaxConnectionsPerNetwork = 3
	})
	for _, src := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		dialRawFrom(t, src, addr(g, "relay"))
	}
	over := dialRawNoGreetingFrom(t, "127.0.0.4", addr(g, "relay"))
	if l := over.expect("421 4.7.0"); !strings.Contains(l, "network") {
		t.Fatalf("refusal %q should name the network", l)
	}
	dialRawFrom(t, "127.0.1.1", addr(g, "relay")) // another /24
}

// The AUTH lockout counts an account by its normalised login, so case and
// space variants do not get extra guesses; and it lives in the counters, so
// it survives a restart.
func TestAuthLockoutNormalisedAndKept(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	cfg.SMTP.AuthMaxFailures = 2
	g := start(t, cfg, true)
	a := dialStartTLSFrom(t, "127.0.0.3", addr(g, "submission"))
	wantCode(t, a.Auth(sasl.NewPlainClient("", "User@Demo.TEST", "wrong")), 535, "5.7.8")
	b := dialStartTLSFrom(t, "127.0.0.4", addr(g, "submission"))
	wantCode(t, b.Auth(sasl.NewPlainClient("", " user@demo.test ", "wrong")), 535, "5.7.8")
	c := dialStartTLSFrom(t, "127.0.0.5", addr(g, "submission"))
	wantCode(t, c.Auth(sasl.NewPlainClient("", "USER@demo.test", g.DevPassword)), 454, "4.7.0")

	// A restart on the same data directory keeps the lockout.
	pw := g.DevPassword
	g.Close()
	cfg2 := *cfg
	g2 := start(t, &cfg2, true)
	d := dialStartTLSFrom(t, "127.0.0.6", addr(g2, "submission"))
	wantCode(t, d.Auth(sasl.NewPlainClient("", "user@demo.test", pw)), 454, "4.7.0")
}

// With Redis the lockout holds on every node of a fleet.
func TestAuthLockoutSharedByFleet(t *testing.T) {
	needRedis(t)
	sink := startSink(t, devsink.Hooks{})
	prefix := fmt.Sprintf("tollgate-test:%d:", time.Now().UnixNano())
	var nodes [2]*gateway.Gateway
	for i := range nodes {
		c := testConfig(t, sink.Addr())
		c.SMTP.AuthMaxFailures = 2
		c.Counters.RedisURL, c.Counters.Prefix = "redis://"+redisAddr+"/0", prefix
		nodes[i] = start(t, c, true)
	}
	for _, src := range []string{"127.0.0.3", "127.0.0.4"} {
		c := dialStartTLSFrom(t, src, addr(nodes[0], "submission"))
		wantCode(t, c.Auth(sasl.NewPlainClient("", "user@demo.test", "wrong")), 535, "5.7.8")
	}
	c := dialStartTLSFrom(t, "127.0.0.5", addr(nodes[1], "submission"))
	wantCode(t, c.Auth(sasl.NewPlainClient("", "user@demo.test", nodes[1].DevPassword)), 454, "4.7.0")
}

// Below the spool's free-space floor MAIL gets 452 4.3.1 and /healthz 503
// with the reason.
func TestSpoolFreeSpaceFloor(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	ok := start(t, cfg, true)
	if code, body := getHealth(t, ok); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz with free space: %d %q", code, body)
	}

	cfg = testConfig(t, sink.Addr())
	cfg.Queue.MinFreeBytes = 1 << 60 // more than any disk has
	g := start(t, cfg, true)
	c := dial(t, addr(g, "relay"))
	err := c.Mail("a@demo.test", nil)
	wantCode(t, err, 452, "4.3.1")
	if !strings.Contains(err.Error(), "/ndr/4.3.1") {
		t.Fatalf("no help link in %v", err)
	}
	code, body := getHealth(t, g)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "queue.min_free_bytes") {
		t.Fatalf("/healthz below the floor: %d %q", code, body)
	}
}

func getHealth(t *testing.T, g *gateway.Gateway) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr(g, "admin") + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The command deadline is set once per line: a client trickling a command
// one byte at a time, never idle for long, is cut off all the same.
func TestTrickledCommandIsCutOff(t *testing.T) {
	g, _ := startSinkGateway(t, true, func(c *config.Config) {
		c.SMTP.CommandTimeout = config.D(500 * time.Millisecond)
	})
	rc := dialRaw(t, addr(g, "relay"))
	rc.write("EHLO trickle.test\r\n")
	rc.expect("250 ")
	defer rc.trickle(100*time.Millisecond, "N")()
	since := time.Now()
	// The deadline cuts the line: what arrived is answered as a command
	// (go-smtp's own 500, or 421 if nothing had), and that answer is the
	// connection's last.
	for {
		_, err := rc.reply()
		if err != nil {
			break
		}
		if time.Since(since) > waitFor {
			t.Fatal("still open")
		}
	}
	if took := time.Since(since); took > 10*time.Second {
		t.Fatalf("cut off after %s, want about 500ms", took)
	}
}
