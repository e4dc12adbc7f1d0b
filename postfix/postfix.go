// Package postfix is Tollgate's front end for an MTA that already runs in
// front of it: a Postfix policy-delegation service (check_policy_service,
// SMTPD_POLICY_README) that runs the MAIL and RCPT checks, and a milter
// (protocol 6, github.com/d--j/go-milter) that runs the classifier and the
// end-of-DATA checks before Postfix queues the message.
//
// They are two more doors into the one policy the SMTP front end asks:
// the same attribution (a SASL login to the tenant's user, the client
// address to an IP connector, a verified client certificate to a
// certificate connector), the same chain, counters, codes and help links,
// and the same message trace. Nothing here is Postfix-only beyond the
// two protocols, so any MTA that speaks them can use it.
package postfix

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/feedback"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/trace"
)

// Listener names, as the envelope, the trace and the metrics carry them.
const (
	PolicyListener policy.Listener = "postfix-policy"
	MilterListener policy.Listener = "milter"
)

// Policy is the chain of checks, asked at the same three stages as by the
// SMTP front end (policy.Chain is one).
type Policy interface {
	Mail(ctx context.Context, env *policy.Envelope) policy.Decision
	Rcpt(ctx context.Context, env *policy.Envelope, rcpt string) policy.Decision
	Data(ctx context.Context, env *policy.Envelope, msg *policy.Message) policy.Decision
}

// Directory is what attribution needs of the tenant directory.
type Directory interface {
	ConnectorForIP(ip netip.Addr) (directory.Connector, directory.Tenant, bool)
	ConnectorForCert(names []string) (directory.Connector, directory.Tenant, bool)
	// UserByLogin finds the user behind a login the MTA authenticated.
	UserByLogin(ctx context.Context, login string) (directory.User, directory.Tenant, error)
	NoteConnectorTraffic(id int64)
}

// Classifier gives a message's content verdict from its first bytes.
type Classifier func(ctx context.Context, raw []byte, recipients int, tenant string) (policy.Verdict, error)

// Options configures a Server.
type Options struct {
	Policy    Policy
	Directory Directory
	// Classify gives the verdict at the end of DATA (milter); nil leaves
	// messages unclassified.
	Classify Classifier
	// ClassifyBytes is how much of a message the classifier sees.
	ClassifyBytes int
	// FeedbackIDs writes the Feedback-ID field (milter); nil writes none.
	FeedbackIDs *feedback.Signer
	// HelpURL is the base of the /ndr/<code> links in refusals.
	HelpURL string
	Trace   trace.Recorder
	Logger  *slog.Logger
}

// Server runs the policy service and the milter.
type Server struct {
	opts Options
	log  *slog.Logger
	// idPrefix makes trace session ids unique across restarts and nodes.
	idPrefix string
	anon     *traceBudget
	judged   *judged

	mu      sync.Mutex
	closers []func()
}

// New returns a Server; call ListenPolicy and ListenMilter to serve.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Trace == nil {
		opts.Trace = trace.Discard{}
	}
	if opts.ClassifyBytes <= 0 {
		opts.ClassifyBytes = 512 << 10
	}
	var b [5]byte
	_, _ = rand.Read(b[:])
	return &Server{opts: opts, log: opts.Logger.With("component", "postfix"),
		idPrefix: strings.ToLower(base32.StdEncoding.EncodeToString(b[:])) + ".",
		anon:     newTraceBudget(100), judged: newJudged()}
}

// Close stops both listeners and the connections they serve.
func (s *Server) Close() {
	s.mu.Lock()
	cs := s.closers
	s.closers = nil
	s.mu.Unlock()
	for _, c := range cs {
		c()
	}
}

func (s *Server) onClose(f func()) {
	s.mu.Lock()
	s.closers = append(s.closers, f)
	s.mu.Unlock()
}

// identity is what the MTA says about the client, in the terms both
// protocols share.
type identity struct {
	login    string     // the SASL login the MTA authenticated
	certName string     // the verified client certificate's CN
	certFP   string     // its fingerprint, for the trace
	clientIP netip.Addr // the SMTP client's address
}

// attribute finds the tenant as the SMTP front end does: a login first
// (AUTH replaces a connector), then a certificate connector, then an IP
// connector. A login Tollgate does not know (or has disabled) attributes
// nothing: the MTA vouches for the password, not for the tenant.
func (s *Server) attribute(ctx context.Context, id identity) (policy.Attribution, error) {
	if id.login != "" {
		u, t, err := s.opts.Directory.UserByLogin(ctx, id.login)
		if err != nil {
			if isNotFound(err) {
				return policy.Attribution{}, nil
			}
			return policy.Attribution{}, fmt.Errorf("attribute login %q: %w", id.login, err)
		}
		return policy.Attribution{TenantID: t.ID, Tenant: t.Name, UserID: u.ID, User: u.Address, Method: "auth"}, nil
	}
	if id.certName != "" {
		if c, t, ok := s.opts.Directory.ConnectorForCert([]string{id.certName}); ok {
			return policy.Attribution{TenantID: t.ID, Tenant: t.Name, ConnectorID: c.ID, Connector: c.Name, Method: "connector-cert"}, nil
		}
	}
	if id.clientIP.IsValid() {
		if c, t, ok := s.opts.Directory.ConnectorForIP(id.clientIP); ok {
			return policy.Attribution{TenantID: t.ID, Tenant: t.Name, ConnectorID: c.ID, Connector: c.Name, Method: "connector-ip"}, nil
		}
	}
	return policy.Attribution{}, nil
}

// replyText is a refusal's text as the SMTP front end writes it: the
// enhanced code, the text and the help link, on one line.
func (s *Server) replyText(d policy.Decision) string {
	msg := d.EnhancedString() + " " + oneLine(d.Text)
	if s.opts.HelpURL != "" {
		msg += "; see " + strings.TrimSuffix(s.opts.HelpURL, "/") + "/ndr/" + d.EnhancedString()
	}
	return msg
}

// oneLine keeps a reply on one line: control characters become spaces.
func oneLine(t string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, t)
}

// record writes one decision to the trace, as smtpd's session does.
func (s *Server) record(session, queueID string, env *policy.Envelope, stage, outcome, rule, detail string, kv ...string) {
	if f, ok := s.opts.Trace.(trace.Filter); ok && !f.Enabled(context.Background(), outcome) {
		return
	}
	if env.TenantID == 0 && !s.anon.allow(time.Now()) {
		return
	}
	e := trace.Event{Time: time.Now(), Session: session, QueueID: queueID, Stage: stage, Outcome: outcome,
		Rule: rule, Detail: detail, TenantID: env.TenantID}
	e.Attrs = append(e.Attrs, slog.String("listener", string(env.Listener)), slog.String("client_ip", env.ClientIP.String()))
	if env.Tenant != "" {
		e.Attrs = append(e.Attrs, slog.String("tenant", env.Tenant))
	}
	if env.Method != "" {
		e.Attrs = append(e.Attrs, slog.String("attribution", string(env.Method)))
	}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Attrs = append(e.Attrs, slog.String(kv[i], kv[i+1]))
	}
	s.opts.Trace.Record(context.Background(), e)
}

// decided writes a check's decision to the trace with its figures.
func (s *Server) decided(session, queueID string, env *policy.Envelope, stage string, d policy.Decision, kv ...string) {
	if d.Action == policy.Accept {
		s.record(session, queueID, env, stage, "accept", "", "", kv...)
		return
	}
	for _, f := range d.Figures {
		kv = append(kv, f.Name, f.Value)
	}
	s.record(session, queueID, env, stage, d.Action.String(), d.Rule,
		fmt.Sprintf("%d %s %s", d.Code, d.EnhancedString(), d.Text), kv...)
}

// traceBudget bounds the trace events of unattributed requests across
// the node: anyone can make Postfix ask about mail no tenant sent, and
// those events must not push tenants' events out (see smtpd's budget,
// which does the same per client address for its own sessions).
type traceBudget struct {
	perSecond float64
	mu        sync.Mutex
	tokens    float64
	last      time.Time
}

func newTraceBudget(perSecond int) *traceBudget {
	return &traceBudget{perSecond: float64(perSecond), tokens: float64(perSecond)}
}

func (b *traceBudget) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() {
		b.tokens = min(b.perSecond, b.tokens+now.Sub(b.last).Seconds()*b.perSecond)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func isNotFound(err error) bool { return errors.Is(err, directory.ErrNotFound) }
