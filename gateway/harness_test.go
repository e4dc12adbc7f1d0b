package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
)

// waitFor is how long a test waits for a condition before failing.
const waitFor = 20 * time.Second

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("TOLLGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testConfig is a gateway on loopback ports chosen by the kernel, with short
// timers, delivering to smarthost.
func testConfig(t testing.TB, smarthost string) *config.Config {
	t.Helper()
	c := config.Default()
	c.DataDir = t.TempDir()
	c.Hostname = "gw.test"
	c.Listen = config.Listen{Relay: "127.0.0.1:0", Submission: "127.0.0.1:0", Submissions: "127.0.0.1:0", Admin: "127.0.0.1:0"}
	c.Delivery.Smarthost = smarthost
	c.Queue.RetrySchedule = []config.Duration{config.D(100 * time.Millisecond)}
	c.Queue.Workers = 8
	c.SMTP.AuthFailureDelay = config.D(time.Millisecond)
	c.Delivery.IdleTimeout = config.D(5 * time.Second)
	// Tests relay from loopback as trial tenants: trust it, as dev mode
	// does (the 5.7.708 tests narrow it).
	c.Reputation.TrustedRanges = config.Prefixes{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	// Verdicts come from the test's classifier (startWith), not the model.
	c.Classify.Engine = "off"
	return c
}

// start runs a gateway with the dev seed (tenant demo, user@demo.test,
// connector 127.0.0.0/8) unless seed is false.
func start(t testing.TB, cfg *config.Config, seed bool) *gateway.Gateway {
	t.Helper()
	return startWith(t, cfg, seed, gateway.Options{})
}

// startWith is start with plug-ins (a classifier, an alert hook).
func startWith(t testing.TB, cfg *config.Config, seed bool, opts gateway.Options) *gateway.Gateway {
	t.Helper()
	cfg.Dev = seed
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	g, err := gateway.StartWith(context.Background(), cfg, testLogger(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// startSinkGateway is start (with the dev seed when seed is set) delivering
// to a fresh sink, its config changed by tweak (nil: none) first.
func startSinkGateway(t *testing.T, seed bool, tweak func(c *config.Config)) (*gateway.Gateway, *devsink.Sink) {
	t.Helper()
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	if tweak != nil {
		tweak(cfg)
	}
	return start(t, cfg, seed), sink
}

func startSink(t *testing.T, hooks devsink.Hooks) *devsink.Sink {
	t.Helper()
	s, err := devsink.Start("127.0.0.1:0", "", nil, hooks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func addr(g *gateway.Gateway, kind string) string { return g.Addrs[kind].String() }

func testMessage(subject, body string) string {
	return "From: a@demo.test\r\nTo: someone@example.net\r\nSubject: " + subject + "\r\n\r\n" + body + "\r\n"
}

// send sends one message on an open client and returns the final reply error.
func send(c *smtp.Client, from string, to []string, msg string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, msg); err != nil {
		return err
	}
	return w.Close()
}

func dial(t *testing.T, a string) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(a)
	if err != nil {
		t.Fatal(err)
	}
	c.CommandTimeout = 10 * time.Second
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	return c
}

func dialStartTLS(t *testing.T, a string) *smtp.Client {
	t.Helper()
	c, err := smtp.DialStartTLS(a, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	c.CommandTimeout = 10 * time.Second
	t.Cleanup(func() { c.Close() })
	return c
}

func dialTLS(t *testing.T, a string) *smtp.Client {
	t.Helper()
	c, err := smtp.DialTLS(a, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	c.CommandTimeout = 10 * time.Second
	t.Cleanup(func() { c.Close() })
	return c
}

// wantCode asserts err is an SMTP reply with the given code and enhanced code.
func wantCode(t *testing.T, err error, code int, enhanced string) {
	t.Helper()
	se, ok := err.(*smtp.SMTPError)
	if !ok {
		t.Fatalf("want SMTP reply %d %s, got %v (%T)", code, enhanced, err, err)
	}
	got := fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
	if se.Code != code || got != enhanced {
		t.Fatalf("want %d %s, got %d %s %s", code, enhanced, se.Code, got, se.Message)
	}
}

// rawConn is a line-level SMTP client for what go-smtp's client will not
// send: smuggling sequences, pipelined STARTTLS, oversized lines.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t *testing.T, a string) *rawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", a, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	rc := &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
	rc.expect("220")
	return rc
}

func (rc *rawConn) write(s string) {
	rc.t.Helper()
	rc.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(rc.conn, s); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

// reply reads one (possibly multi-line) reply and returns its last line.
func (rc *rawConn) reply() (string, error) {
	rc.conn.SetReadDeadline(time.Now().Add(waitFor))
	var all []string
	for {
		line, err := rc.r.ReadString('\n')
		if err != nil {
			return strings.Join(all, "\n"), err
		}
		line = strings.TrimRight(line, "\r\n")
		all = append(all, line)
		if len(line) < 4 || line[3] != '-' {
			return strings.Join(all, "\n"), nil
		}
	}
}

// expect reads a reply and fails unless its last line starts with prefix.
func (rc *rawConn) expect(prefix string) string {
	rc.t.Helper()
	l, err := rc.reply()
	if err != nil {
		rc.t.Fatalf("reading reply (want %q): %v (got %q)", prefix, err, l)
	}
	last := l[strings.LastIndex(l, "\n")+1:]
	if !strings.HasPrefix(last, prefix) {
		rc.t.Fatalf("want reply %q, got %q", prefix, l)
	}
	return l
}

func seedTenantWithConnector(t *testing.T, g *gateway.Gateway, name, domain, cidr string) directory.Tenant {
	t.Helper()
	ctx := context.Background()
	tn, err := g.Directory.CreateTenant(ctx, directory.By{}, name, directory.License("trial"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Directory.AddDomain(ctx, directory.By{}, tn.ID, domain); err != nil {
		t.Fatal(err)
	}
	if err := g.Directory.MarkDomainVerified(ctx, directory.By{}, tn.ID, domain); err != nil {
		t.Fatal(err)
	}
	if cidr != "" {
		if _, err := g.Directory.CreateConnector(ctx, directory.By{Actor: "test"}, tn.ID, "main", []netip.Prefix{netip.MustParsePrefix(cidr)}); err != nil {
			t.Fatal(err)
		}
	}
	return tn
}

func dialStartTLSFrom(t *testing.T, src, a string) *smtp.Client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", a)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.NewClientStartTLS(conn, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	c.CommandTimeout = 10 * time.Second
	t.Cleanup(func() { c.Close() })
	return c
}

func dialRawNoGreeting(t *testing.T, a string) *rawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", a, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func dialRawNoGreetingFrom(t *testing.T, src, a string) *rawConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// apiRequest sends one admin API request, body as JSON (nil: no body),
// and returns the status and the whole answer.
func apiRequest(t *testing.T, g *gateway.Gateway, token, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+addr(g, "admin")+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// trickle writes s to the connection one byte every interval, from its own
// goroutine, until the write fails or stop is called: a slowloris client.
func (rc *rawConn) trickle(every time.Duration, s string) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-t.C:
				rc.conn.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := io.WriteString(rc.conn, string(s[i%len(s)])); err != nil {
					return
				}
			}
		}
	}()
	return func() { close(done) }
}
