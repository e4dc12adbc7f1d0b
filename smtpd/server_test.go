package smtpd_test

// The front end alone, on fake backends (as go-smtp's own server_test.go
// tests its server): a loopback listener, a fake spool, a fake policy and a
// fake directory, so each test says exactly what smtpd does with what the
// backends answer.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/certs"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/queue"
	"github.com/tollgate-mail/tollgate/smtpd"
)

// fakeSpool keeps committed messages in memory.
type fakeSpool struct {
	mu        sync.Mutex
	committed []committed
	aborted   int
	failNext  bool
	n         int
}

type committed struct {
	env  queue.Envelope
	body string
}

func (s *fakeSpool) Create() (smtpd.SpoolFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext {
		s.failNext = false
		return nil, errors.New("disk on fire")
	}
	s.n++
	return &fakeFile{s: s, id: fmt.Sprintf("Q%019d", s.n)}, nil
}

func (s *fakeSpool) messages() []committed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]committed(nil), s.committed...)
}

type fakeFile struct {
	s    *fakeSpool
	id   string
	buf  bytes.Buffer
	done bool
}

func (f *fakeFile) Write(p []byte) (int, error) { return f.buf.Write(p) }
func (f *fakeFile) ID() string                  { return f.id }
func (f *fakeFile) Size() int64                 { return int64(f.buf.Len()) }
func (f *fakeFile) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.s.mu.Lock()
	f.s.aborted++
	f.s.mu.Unlock()
}
func (f *fakeFile) Commit(_ context.Context, env queue.Envelope) (*queue.Message, error) {
	f.done = true
	f.s.mu.Lock()
	f.s.committed = append(f.s.committed, committed{env, f.buf.String()})
	f.s.mu.Unlock()
	return &queue.Message{ID: f.id, Envelope: env, Size: int64(f.buf.Len())}, nil
}

// fakePolicy answers each stage with its function (Accepted when nil) and
// records the stages asked.
type fakePolicy struct {
	mu     sync.Mutex
	stages []string
	mail   func(ctx context.Context, env *policy.Envelope) policy.Decision
	rcpt   func(ctx context.Context, env *policy.Envelope, rcpt string) policy.Decision
	data   func(ctx context.Context, env *policy.Envelope, msg *policy.Message) policy.Decision
}

func (p *fakePolicy) note(s string) {
	p.mu.Lock()
	p.stages = append(p.stages, s)
	p.mu.Unlock()
}

func (p *fakePolicy) asked() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.stages, " ")
}

func (p *fakePolicy) Mail(ctx context.Context, env *policy.Envelope) policy.Decision {
	p.note("mail")
	if p.mail != nil {
		return p.mail(ctx, env)
	}
	return policy.Accepted
}

func (p *fakePolicy) Rcpt(ctx context.Context, env *policy.Envelope, rcpt string) policy.Decision {
	p.note("rcpt")
	if p.rcpt != nil {
		return p.rcpt(ctx, env, rcpt)
	}
	return policy.Accepted
}

func (p *fakePolicy) Data(ctx context.Context, env *policy.Envelope, msg *policy.Message) policy.Decision {
	p.note("data")
	if p.data != nil {
		return p.data(ctx, env, msg)
	}
	return policy.Accepted
}

// fakeDirectory attributes 127.0.0.1 to connector 5 of tenant 3 when
// connector is set, and knows one user.
type fakeDirectory struct {
	connector bool
}

var (
	acme   = directory.Tenant{ID: 3, Name: "acme", License: directory.Licensed}
	onprem = directory.Connector{ID: 5, TenantID: 3, Name: "onprem"}
)

func (d *fakeDirectory) ConnectorForIP(ip netip.Addr) (directory.Connector, directory.Tenant, bool) {
	if d.connector && ip.Unmap() == netip.MustParseAddr("127.0.0.1") {
		return onprem, acme, true
	}
	return directory.Connector{}, directory.Tenant{}, false
}

func (d *fakeDirectory) Authenticate(_ context.Context, address, password string) (directory.User, directory.Tenant, error) {
	if address == "alice@acme.test" && password == "app password" {
		return directory.User{ID: 8, TenantID: 3, Address: address, AppPasswordID: 13}, acme, nil
	}
	return directory.User{}, directory.Tenant{}, directory.ErrBadCredentials
}

func (d *fakeDirectory) ConnectorForCert([]string) (directory.Connector, directory.Tenant, bool) {
	return directory.Connector{}, directory.Tenant{}, false
}

func (d *fakeDirectory) NoteConnectorTraffic(int64) {}

type harness struct {
	srv   *smtpd.Server
	spool *fakeSpool
	pol   *fakePolicy
	addrs map[policy.Listener]string
}

func serverTLS(t *testing.T) *tls.Config {
	t.Helper()
	c, err := certs.ServerConfig("", "", t.TempDir(), "mx.test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newHarness starts a relay and a submission listener on loopback with
// the defaults of [smtp], changed by limits.
func newHarness(t *testing.T, pol *fakePolicy, dir *fakeDirectory, limits func(*config.SMTP)) *harness {
	t.Helper()
	l := config.Default().SMTP
	l.AuthFailureDelay = config.D(0)
	if limits != nil {
		limits(&l)
	}
	h := &harness{spool: &fakeSpool{}, pol: pol, addrs: map[policy.Listener]string{}}
	srv, err := smtpd.New(smtpd.Options{Limits: l, Hostname: "mx.test", HelpURL: "http://help.test", TLS: serverTLS(t),
		Directory: dir, Queue: h.spool, Policy: pol, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	for _, kind := range []policy.Listener{smtpd.Relay, smtpd.Submission} {
		a, err := srv.Listen(kind, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		h.addrs[kind] = a.String()
	}
	t.Cleanup(func() { srv.Close() })
	return h
}

// connectorSession starts a server with pol whose clients are a
// connector's, and opens a relay session past EHLO.
func connectorSession(t *testing.T, pol *fakePolicy) (*harness, *raw) {
	t.Helper()
	h := newHarness(t, pol, &fakeDirectory{connector: true}, nil)
	c := dialRaw(t, h.addrs[smtpd.Relay])
	c.cmd("EHLO client.test", "250")
	return h, c
}

// raw is a line-level client: for BDAT, which go-smtp's client does not
// send, and for exact replies.
type raw struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *raw {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	rc := &raw{t: t, c: c, r: bufio.NewReader(c)}
	rc.expect("220 ")
	return rc
}

func (rc *raw) send(s string) {
	rc.t.Helper()
	if _, err := rc.c.Write([]byte(s)); err != nil {
		rc.t.Fatal(err)
	}
}

// reply reads one (possibly multi-line) reply and returns it whole.
func (rc *raw) reply() string {
	rc.t.Helper()
	var b strings.Builder
	for {
		line, err := rc.r.ReadString('\n')
		if err != nil {
			rc.t.Fatalf("read reply: %v (so far %q)", err, b.String())
		}
		b.WriteString(line)
		if len(line) < 4 || line[3] != '-' {
			return b.String()
		}
	}
}

func (rc *raw) expect(prefix string) string {
	rc.t.Helper()
	r := rc.reply()
	if !strings.HasPrefix(r, prefix) {
		rc.t.Fatalf("want a reply starting %q, got %q", prefix, r)
	}
	return r
}

func (rc *raw) cmd(line, prefix string) string {
	rc.t.Helper()
	rc.send(line + "\r\n")
	return rc.expect(prefix)
}

// EHLO offers what the front end supports; AUTH only after TLS.
func TestEHLO(t *testing.T) {
	h := newHarness(t, &fakePolicy{}, &fakeDirectory{}, nil)
	c := dialRaw(t, h.addrs[smtpd.Submission])
	r := c.cmd("EHLO client.test", "250-")
	for _, ext := range []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "CHUNKING", "SMTPUTF8", "DSN", "STARTTLS", "SIZE "} {
		if !strings.Contains(r, ext) {
			t.Errorf("EHLO lacks %s:\n%s", ext, r)
		}
	}
	if strings.Contains(r, "AUTH") {
		t.Errorf("AUTH offered before TLS:\n%s", r)
	}
}

// A connector's message: MAIL, RCPT and DATA each ask the policy, with
// the connection's attribution; the spool gets the envelope with the
// attribution and a body with our trace fields; the client hears the
// queue id.
func TestRelayTransaction(t *testing.T) {
	var seen policy.Attribution
	pol := &fakePolicy{mail: func(_ context.Context, env *policy.Envelope) policy.Decision {
		seen = env.Attribution
		return policy.Accepted
	}}
	h, c := connectorSession(t, pol)
	c.cmd("MAIL FROM:<app@acme.test>", "250 ")
	c.cmd("RCPT TO:<bob@example.net> NOTIFY=FAILURE", "250 ")
	c.cmd("DATA", "354 ")
	r := c.cmd("Subject: hello\r\n\r\nHi Bob.\r\n.", "250 2.0.0 OK: queued as Q")
	if got := pol.asked(); got != "mail rcpt data" {
		t.Fatalf("policy asked at %q", got)
	}
	want := policy.Attribution{TenantID: 3, Tenant: "acme", ConnectorID: 5, Connector: "onprem",
		Method: policy.MethodConnectorIP, ClientIP: netip.MustParseAddr("127.0.0.1")}
	if seen != want {
		t.Fatalf("policy saw %+v, want %+v", seen, want)
	}
	msgs := h.spool.messages()
	if len(msgs) != 1 {
		t.Fatalf("spool has %d messages", len(msgs))
	}
	m := msgs[0]
	if m.env.Attribution != want || m.env.From != "app@acme.test" || len(m.env.Rcpts) != 1 ||
		m.env.Rcpts[0].Addr != "bob@example.net" || m.env.Rcpts[0].Notify != "FAILURE" || m.env.Pool != "normal" {
		t.Fatalf("spooled envelope %+v", m.env)
	}
	const id = "Q0000000000000000001" // the fake spool's first file
	if !strings.Contains(r, "queued as "+id) {
		t.Fatalf("the 250 does not name the spool's id %s: %q", id, r)
	}
	if !strings.HasPrefix(m.body, "Received: from client.test ([127.0.0.1])") {
		t.Fatalf("body does not start with our Received field:\n%s", m.body)
	}
	for _, want := range []string{"by mx.test (Tollgate) with ESMTP id " + id, "Message-ID: <" + id + "@mx.test>\r\n", "Subject: hello\r\n\r\nHi Bob.\r\n"} {
		if !strings.Contains(m.body, want) {
			t.Errorf("spooled body lacks %q:\n%s", want, m.body)
		}
	}
}

// A login's attribution carries the user and the app password to the
// policy and the spool, with the AUTH method.
func TestSubmissionAttribution(t *testing.T) {
	h := newHarness(t, &fakePolicy{}, &fakeDirectory{}, nil)
	c, err := smtp.DialStartTLS(h.addrs[smtpd.Submission], &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", "alice@acme.test", "wrong")); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if err := c.Auth(sasl.NewPlainClient("", "alice@acme.test", "app password")); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("alice@acme.test", []string{"bob@example.net"}, strings.NewReader("Subject: x\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	msgs := h.spool.messages()
	if len(msgs) != 1 {
		t.Fatalf("spool has %d messages", len(msgs))
	}
	a := msgs[0].env.Attribution
	if a.UserID != 8 || a.AppPasswordID != 13 || a.Method != policy.MethodAuth || a.TenantID != 3 || !a.ClientIP.IsLoopback() {
		t.Fatalf("spooled attribution %+v", a)
	}
	if !strings.Contains(msgs[0].body, "with ESMTPSA id") {
		t.Errorf("Received field does not say ESMTPSA:\n%.300s", msgs[0].body)
	}
}

// BDAT: chunks end with LAST, the message is spooled whole, and the
// end-of-data policy sees it.
func TestBDAT(t *testing.T) {
	var size int64
	pol := &fakePolicy{data: func(_ context.Context, _ *policy.Envelope, msg *policy.Message) policy.Decision {
		size = msg.Size
		return policy.Accepted
	}}
	h, c := connectorSession(t, pol)
	c.cmd("MAIL FROM:<app@acme.test>", "250 ")
	c.cmd("RCPT TO:<bob@example.net>", "250 ")
	first, second := "Subject: chunked\r\n\r\nfirst part, ", "second part\r\n"
	c.send(fmt.Sprintf("BDAT %d\r\n%s", len(first), first))
	c.expect("250 ")
	c.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(second), second))
	c.expect("250 2.0.0 OK: queued as Q")
	msgs := h.spool.messages()
	if len(msgs) != 1 || !strings.HasSuffix(msgs[0].body, "Subject: chunked\r\n\r\nfirst part, second part\r\n") {
		t.Fatalf("spooled %+v", msgs)
	}
	if size != int64(len(msgs[0].body)) {
		t.Fatalf("policy saw size %d, body is %d bytes", size, len(msgs[0].body))
	}
	// A bare LF in a chunk is refused like in DATA.
	c.cmd("MAIL FROM:<app@acme.test>", "250 ")
	c.cmd("RCPT TO:<bob@example.net>", "250 ")
	bad := "Subject: x\r\n\r\nsmuggled\n.\nMAIL FROM:<x@y>\r\n"
	c.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(bad), bad))
	c.expect("550 5.5.2 ")
	if n := len(h.spool.messages()); n != 1 {
		t.Fatalf("a refused chunked message was spooled (%d)", n)
	}
}

// Refusals are the policy's decision as an SMTP reply with the enhanced
// code and the help link; nothing is spooled and the file is given back.
func TestRefusals(t *testing.T) {
	pol := &fakePolicy{
		rcpt: func(_ context.Context, env *policy.Envelope, rcpt string) policy.Decision {
			if !env.Attributed() {
				return policy.RelayDenied
			}
			return policy.Accepted
		},
		data: func(context.Context, *policy.Envelope, *policy.Message) policy.Decision {
			return policy.Decision{Action: policy.Reject, Code: 550, Enhanced: [3]int{5, 7, 705}, Text: "Access denied, tenant has exceeded threshold"}
		},
	}
	// Unattributed: 5.7.64 at RCPT.
	h := newHarness(t, pol, &fakeDirectory{}, nil)
	c := dialRaw(t, h.addrs[smtpd.Relay])
	c.cmd("EHLO client.test", "250")
	c.cmd("MAIL FROM:<x@elsewhere.test>", "250 ")
	c.cmd("RCPT TO:<bob@example.net>", "550 5.7.64 Relay access denied, connection not attributed to any tenant; see http://help.test/ndr/5.7.64")
	c.cmd("RSET", "250 ")
	// Syntax: 5.1.7 and 5.1.3, before any policy call.
	before := pol.asked()
	c.cmd("MAIL FROM:<x@[999.1.1.1]>", "553 5.1.7 ")
	c.cmd("MAIL FROM:<ok@elsewhere.test>", "250 ")
	c.cmd("RCPT TO:<bob@bad_domain!.example>", "501 5.1.3 ")
	if got := pol.asked(); got != before+" mail" {
		t.Fatalf("policy asked %q after %q: a bad address reached the policy", got, before)
	}

	// Attributed, refused at the end of DATA: 5.7.705 with its link.
	h2, c2 := connectorSession(t, pol)
	c2.cmd("MAIL FROM:<app@acme.test>", "250 ")
	c2.cmd("RCPT TO:<bob@example.net>", "250 ")
	c2.cmd("DATA", "354 ")
	c2.cmd("Subject: x\r\n\r\nx\r\n.", "550 5.7.705 Access denied, tenant has exceeded threshold; see http://help.test/ndr/5.7.705")
	if n := len(h2.spool.messages()); n != 0 {
		t.Fatalf("a refused message was spooled (%d)", n)
	}
	h2.spool.mu.Lock()
	aborted := h2.spool.aborted
	h2.spool.mu.Unlock()
	if aborted != 1 {
		t.Fatalf("the refused message's spool file was not given back (aborted %d)", aborted)
	}
	// A spool that cannot create a file: 451 4.3.0, the client keeps it.
	h2.spool.mu.Lock()
	h2.spool.failNext = true
	h2.spool.mu.Unlock()
	c2.cmd("MAIL FROM:<app@acme.test>", "250 ")
	c2.cmd("RCPT TO:<bob@example.net>", "250 ")
	c2.send("DATA\r\n")
	if r := c2.reply(); !strings.HasPrefix(r, "451 4.3.0 ") && !strings.HasPrefix(r, "354 ") {
		t.Fatalf("DATA with a broken spool: %q", r)
	} else if strings.HasPrefix(r, "354 ") {
		c2.cmd("Subject: x\r\n\r\nx\r\n.", "451 4.3.0 ")
	}
}

// The protocol limits: recipients per message, message size, line length.
func TestLimits(t *testing.T) {
	h := newHarness(t, &fakePolicy{}, &fakeDirectory{connector: true}, func(l *config.SMTP) {
		l.MaxRecipients = 2
		l.MaxMessageBytes = 1000
	})
	c := dialRaw(t, h.addrs[smtpd.Relay])
	c.cmd("EHLO client.test", "250")
	c.cmd("MAIL FROM:<app@acme.test>", "250 ")
	c.cmd("RCPT TO:<a@example.net>", "250 ")
	c.cmd("RCPT TO:<b@example.net>", "250 ")
	c.cmd("RCPT TO:<c@example.net>", "452 4.5.3 ")
	c.cmd("RSET", "250 ")
	c.cmd("MAIL FROM:<app@acme.test> SIZE=5000", "552 5.3.4 ")
	c.cmd("MAIL FROM:<app@acme.test>", "250 ")
	c.cmd("RCPT TO:<a@example.net>", "250 ")
	c.cmd("DATA", "354 ")
	c.cmd("Subject: big\r\n\r\n"+strings.Repeat("0123456789\r\n", 200)+".", "552 5.3.4 ")
	if n := len(h.spool.messages()); n != 0 {
		t.Fatalf("an oversized message was spooled (%d)", n)
	}
}

// Shutdown cancels the context of a policy call still running when the
// grace period ends: a slow backend cannot hold the shutdown, and the
// client gets the policy's temporary answer, not a 250.
func TestShutdownCancelsSlowPolicy(t *testing.T) {
	started := make(chan struct{})
	cancelled := make(chan error, 1)
	pol := &fakePolicy{mail: func(ctx context.Context, _ *policy.Envelope) policy.Decision {
		close(started)
		select {
		case <-ctx.Done():
			cancelled <- ctx.Err()
		case <-time.After(20 * time.Second):
			cancelled <- nil
		}
		return policy.Decision{Action: policy.Defer, Code: 451, Enhanced: [3]int{4, 3, 0}, Text: "try later"}
	}}
	h, c := connectorSession(t, pol)
	c.send("MAIL FROM:<app@acme.test>\r\n")
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		h.srv.Shutdown(ctx)
		close(done)
	}()
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the policy call's context: %v, want cancelled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the slow policy call was not cancelled by the shutdown")
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Shutdown took %s", took)
	}
	c.c.SetDeadline(time.Now().Add(5 * time.Second))
	if line, _ := c.r.ReadString('\n'); strings.HasPrefix(line, "250") {
		t.Fatalf("MAIL got %q after its policy call was cancelled", line)
	}
}

// New refuses options that would leave the front end without a policy.
func TestNewNeedsPolicy(t *testing.T) {
	if _, err := smtpd.New(smtpd.Options{Queue: &fakeSpool{}, Directory: &fakeDirectory{}}); err == nil {
		t.Fatal("a server without a policy was built")
	}
}
