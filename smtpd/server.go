// Package smtpd is Tollgate's SMTP front end on emersion/go-smtp: the relay,
// submission and implicit-TLS listeners, TLS, AUTH, attribution of every
// connection to a tenant, the protocol limits and the defences against SMTP
// smuggling and slow clients. It asks the policy chain at MAIL, RCPT and the
// end of DATA, and hands accepted messages to the queue.
package smtpd

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/feedback"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/queue"
	"github.com/tollgate-mail/tollgate/trace"
)

// Directory is what attribution needs of the tenant directory.
type Directory interface {
	// ConnectorForIP finds the live connector whose ranges contain ip.
	ConnectorForIP(ip netip.Addr) (directory.Connector, directory.Tenant, bool)
	// Authenticate checks an SMTP AUTH login.
	Authenticate(ctx context.Context, address, password string) (directory.User, directory.Tenant, error)
	// ConnectorForCert finds the certificate connector one of names (a
	// verified client certificate's CN and DNS SANs) matches.
	ConnectorForCert(names []string) (directory.Connector, directory.Tenant, bool)
	// NoteConnectorTraffic counts a message accepted through a connector
	// (kept even after the connector is deleted).
	NoteConnectorTraffic(id int64)
}

// Spool is what the front end needs of the queue: a file to stream a
// message into. QueueSpool adapts the queue; the tests use a fake.
type Spool interface {
	Create() (SpoolFile, error)
}

// SpoolFile is one message being written. Commit makes it durable with
// its envelope (only then may the client hear 250); Abort throws away a
// file that was not committed, and is a no-op after Commit.
type SpoolFile interface {
	io.Writer
	ID() string
	Size() int64
	Commit(ctx context.Context, env queue.Envelope) (*queue.Message, error)
	Abort()
}

// Policy is what the front end asks at MAIL, RCPT and the end of DATA;
// policy.Chain (protect.Engine.Chain) implements it.
type Policy interface {
	Mail(ctx context.Context, env *policy.Envelope) policy.Decision
	Rcpt(ctx context.Context, env *policy.Envelope, rcpt string) policy.Decision
	Data(ctx context.Context, env *policy.Envelope, msg *policy.Message) policy.Decision
}

// QueueSpool is q as a Spool.
func QueueSpool(q *queue.Queue) Spool { return queueSpool{q} }

type queueSpool struct{ q *queue.Queue }

func (s queueSpool) Create() (SpoolFile, error) {
	w, err := s.q.Create()
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return w, nil
}

// Listener kinds (policy.Listener, named here for the callers of Listen).
const (
	Relay       = policy.Relay       // connectors, port 25
	Submission  = policy.Submission  // STARTTLS + AUTH, port 587
	Submissions = policy.Submissions // implicit TLS + AUTH, port 465
)

// Options configures a Server.
type Options struct {
	Limits   config.SMTP
	Hostname string
	HelpURL  string // base URL of the /ndr/<code> help pages
	TLS      *tls.Config
	// ClientCAs verifies TLS client certificates for certificate
	// connectors; nil turns them off. Certificates are requested, never
	// required, and checked after the handshake, so a client presenting an
	// unrelated certificate still gets TLS — just no attribution from it.
	ClientCAs *x509.CertPool
	Directory Directory
	Queue     Spool
	// Policy decides at every stage. It is required: without it nothing
	// would refuse unattributed mail.
	Policy Policy
	// Classify gives the content verdict at the end of DATA, from the
	// message's first ClassifyBytes bytes; nil leaves messages
	// unclassified. An error leaves the message unclassified and is traced.
	Classify      func(ctx context.Context, raw []byte, recipients int, tenant string) (policy.Verdict, error)
	ClassifyBytes int
	// Feedback takes ARF reports sent to the feedback address on the
	// relay port; nil (or an empty address) turns that off.
	Feedback *feedback.Receiver
	// FeedbackIDs tags the Feedback-ID written on every attributed
	// message; nil writes none.
	FeedbackIDs *feedback.Signer
	Trace       trace.Recorder
	// TraceBudget bounds the trace events of unattributed connections
	// (see traceBudget); zero values take the defaults.
	TraceBudget TraceBudget
	// Counters holds the AUTH failure counts (shared by a fleet through
	// Redis); nil keeps them in this process.
	Counters counters.Counter
	// SpoolLow reports whether the spool is short of disk space and why;
	// while it is, MAIL gets 452 4.3.1. Nil never refuses.
	SpoolLow func() (reason string, low bool)
	Logger   *slog.Logger
}

// Server runs the SMTP listeners.
type Server struct {
	opts     Options
	log      *slog.Logger
	conns    *connLimiter
	throttle *authThrottle
	anon     *traceBudget
	nextID   atomic.Uint64
	// idPrefix makes session ids unique across restarts and nodes, so
	// the message trace of a fleet never mixes two sessions.
	idPrefix string

	// ctx is the parent of every session's context: cancelled when a
	// shutdown's grace ends or at Close, so a policy call still running
	// (a slow Redis, a slow classifier) returns instead of holding the
	// shutdown.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	servers []*smtp.Server
	wg      sync.WaitGroup
}

// New returns a Server; call Listen for each listener.
func New(opts Options) (*Server, error) {
	if opts.Policy == nil || opts.Queue == nil || opts.Directory == nil {
		return nil, errors.New("smtpd: Options needs a Policy, a Queue and a Directory")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Trace == nil {
		opts.Trace = trace.Discard{}
	}
	if opts.Counters == nil {
		opts.Counters = counters.NewMemory()
	}
	l := opts.Limits
	perNet := l.MaxConnectionsPerNetwork
	if perNet <= 0 {
		perNet = l.MaxConnections
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		ctx: ctx, cancel: cancel,
		opts: opts,
		log:  opts.Logger.With("component", "smtpd"),
		conns: newConnLimiter(l.MaxConnections, l.MaxConnectionsPerIP, perNet, l.StressPercent,
			timeouts{unattributed: l.UnattributedTimeout.Duration, stress: l.StressTimeout.Duration}),
		throttle: newAuthThrottle(opts.Counters, l.AuthMaxFailures, l.AuthFailureWindow.Duration),
		anon:     newTraceBudget(opts.TraceBudget, opts.Trace),
		idPrefix: sessionPrefix(),
	}, nil
}

// sessionPrefix is 8 random base-32 characters and a dot.
func sessionPrefix() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:])) + "."
}

// Listen opens a listener of the given kind on addr and serves it in the
// background. It returns the bound address (useful with port 0).
func (s *Server) Listen(kind policy.Listener, addr string) (net.Addr, error) {
	if s.opts.TLS == nil {
		return nil, errors.New("smtpd: a TLS configuration is required (AUTH is only offered after TLS)")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smtpd: listen %s on %s: %w", kind, addr, err)
	}
	return s.Serve(kind, ln), nil
}

// Serve serves an open listener of the given kind in the background.
func (s *Server) Serve(kind policy.Listener, ln net.Listener) net.Addr {
	l := s.opts.Limits
	srv := smtp.NewServer(&backend{s: s, kind: kind})
	srv.Domain = s.opts.Hostname
	srv.TLSConfig = s.opts.TLS
	if s.opts.ClientCAs != nil {
		tc := s.opts.TLS.Clone()
		tc.ClientAuth = tls.RequestClientCert
		srv.TLSConfig = tc
	}
	srv.MaxMessageBytes = l.MaxMessageBytes
	srv.MaxRecipients = l.MaxRecipients
	srv.MaxLineLength = l.MaxLineLength
	srv.ReadTimeout = l.CommandTimeout.Duration
	srv.WriteTimeout = l.WriteTimeout.Duration
	srv.RawPaths = true // quoted local parts reach the session quoted: see address/
	srv.EnableSMTPUTF8 = true
	srv.EnableDSN = true
	srv.AllowInsecureAuth = false
	srv.ErrorLog = errorLog{s.log.With("listener", kind)}
	addr := ln.Addr()
	ln = s.conns.wrap(ln, string(kind), l.MaxSessionDuration.Duration)
	if kind == Submissions {
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	s.mu.Lock()
	s.servers = append(s.servers, srv)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.log.Error("listener stopped", "listener", kind, "err", err)
		}
	}()
	s.log.Info("listening", "listener", kind, "addr", addr.String())
	return addr
}

// Shutdown stops accepting, lets sessions in progress finish until ctx ends,
// then cancels the sessions' policy calls and closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	stop := context.AfterFunc(ctx, s.cancel)
	defer stop()
	defer s.cancel()
	s.mu.Lock()
	servers := s.servers
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Shutdown(ctx); err != nil {
				srv.Close()
			}
		}()
	}
	wg.Wait()
	s.wg.Wait()
	s.anon.close()
	return nil
}

// Close stops every listener and connection at once.
func (s *Server) Close() error {
	s.cancel()
	s.mu.Lock()
	servers := s.servers
	s.mu.Unlock()
	for _, srv := range servers {
		srv.Close()
	}
	s.wg.Wait()
	s.anon.close()
	return nil
}

type errorLog struct{ l *slog.Logger }

func (e errorLog) Printf(format string, v ...any) { e.l.Debug(fmt.Sprintf(format, v...)) }
func (e errorLog) Println(v ...any)               { e.l.Debug(fmt.Sprint(v...)) }
