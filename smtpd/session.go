package smtpd

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/address"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/metrics"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/queue"
	"github.com/tollgate-mail/tollgate/trace"
)

var errBadCredentials = directory.ErrBadCredentials

type backend struct {
	s    *Server
	kind policy.Listener
}

// NewSession is called by go-smtp at the first EHLO/HELO (and again after
// STARTTLS). Connector attribution happens here, by the client's address.
func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s := &session{srv: b.s, conn: c}
	s.ctx, s.cancel = context.WithCancel(b.s.ctx)
	s.id = b.s.idPrefix + strconv.FormatUint(b.s.nextID.Add(1), 36)
	s.env.Listener = b.kind
	ip := remoteIP(c.Conn())
	s.env.ClientIP = ip
	s.env.Helo = c.Hostname()
	_, s.env.TLS = c.TLSConnectionState()
	s.log = b.s.log.With("session", s.id, "listener", b.kind, "client", s.env.ClientIP.String())
	if b.kind == Relay {
		if conn, tenant, ok := b.s.certConnector(c); ok {
			s.connector = policy.Attribution{TenantID: tenant.ID, Tenant: tenant.Name,
				ConnectorID: conn.ID, Connector: conn.Name, Method: policy.MethodConnectorCert, ClientIP: ip}
			s.env.Attribution = s.connector
		} else if conn, tenant, ok := b.s.opts.Directory.ConnectorForIP(s.env.ClientIP); ok {
			s.connector = policy.Attribution{TenantID: tenant.ID, Tenant: tenant.Name,
				ConnectorID: conn.ID, Connector: conn.Name, Method: policy.MethodConnectorIP, ClientIP: ip}
			s.env.Attribution = s.connector
		}
		if s.env.TenantID != 0 {
			s.markAttributed()
		}
	}
	s.record("connect", "accept", "", "", "helo", s.env.Helo, "tls", strconv.FormatBool(s.env.TLS),
		"tenant", s.env.Tenant, "attribution", string(s.env.Method), "connector_id", idString(s.env.ConnectorID), "connector", s.env.Connector)
	return s, nil
}

// idString is a directory id for the trace; "" (not recorded) for none.
func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// session is one SMTP session. go-smtp calls it from one goroutine.
type session struct {
	srv  *Server
	conn *smtp.Conn
	// ctx is the session's: every policy, classifier and directory call
	// takes it. It ends at Logout (the connection closed, or STARTTLS
	// began a new session) or when the server's grace at shutdown ends.
	ctx       context.Context
	cancel    context.CancelFunc
	id        string
	log       *slog.Logger
	env       policy.Envelope
	connector policy.Attribution // kept so RSET after AUTH keeps what AUTH found

	mail  *smtp.MailOptions
	rcpts []queue.Recipient
	// feedback is set once the transaction is to the feedback address.
	feedback bool
	// dropped counts the recipients a check dropped (policy.Drop): taken
	// with 250, left out of rcpts.
	dropped int
}

// Reset implements smtp.Session: the transaction ends, the login stays.
func (s *session) Reset() {
	s.env.EndTransaction()
	s.mail, s.rcpts, s.feedback, s.dropped = nil, nil, false, 0
}

// Logout implements smtp.Session.
func (s *session) Logout() error {
	s.cancel()
	return nil
}

// Mail implements smtp.Session.
//
// go-smtp hands over the path as the client wrote it (Server.RawPaths);
// from here on the sender is its canonical wire form, the one string the
// checks judge, the queue keeps and the next hop and a DSN get.
func (s *session) Mail(raw string, opts *smtp.MailOptions) error {
	if low := s.srv.opts.SpoolLow; low != nil {
		if reason, ok := low(); ok {
			s.record("mail", "defer", "spool-space", reason, "from", raw)
			return s.refuse("mail", s.withHelp(errStorage))
		}
	}
	a, err := address.ParseReversePath(raw)
	if err != nil {
		return s.refuse("mail", s.withHelp(&smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 1, 7},
			Message: fmt.Sprintf("Bad sender address syntax: %v", err)}))
	}
	if !a.ASCII() && (opts == nil || !opts.UTF8) {
		return s.refuse("mail", s.withHelp(errNeedUTF8))
	}
	from := a.String()
	s.env.From = from
	if opts != nil {
		s.env.Size = opts.Size
	}
	d := s.srv.opts.Policy.Mail(s.ctx, &s.env)
	s.decided("mail", d, "from", from)
	if d.Action != policy.Accept {
		s.env.EndTransaction()
		return s.refuseDecision("mail", d)
	}
	s.mail = opts
	return nil
}

// Rcpt implements smtp.Session.
func (s *session) Rcpt(raw string, opts *smtp.RcptOptions) error {
	a, err := address.Parse(raw)
	if err != nil {
		return s.refuse("rcpt", s.withHelp(&smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, 3},
			Message: fmt.Sprintf("Bad recipient address syntax: %v", err)}))
	}
	if !a.ASCII() && (s.mail == nil || !s.mail.UTF8) {
		return s.refuse("rcpt", s.withHelp(errNeedUTF8))
	}
	to := a.String()
	if s.isFeedback(to) {
		return s.feedbackRcpt(to)
	}
	if s.feedback {
		return s.otherRcptAfterFeedback(to)
	}
	d := s.srv.opts.Policy.Rcpt(s.ctx, &s.env, to)
	s.decided("rcpt", d, "rcpt", to)
	if d.Action == policy.Drop {
		s.dropped++
		return nil // 250, and the recipient is not in the message
	}
	if d.Action != policy.Accept {
		return s.refuseDecision("rcpt", d)
	}
	r := queue.Recipient{Addr: to}
	if opts != nil {
		r.ORCPT = opts.OriginalRecipient
		notify := make([]string, len(opts.Notify))
		for i, n := range opts.Notify {
			notify[i] = string(n)
		}
		r.Notify = strings.Join(notify, ",")
	}
	s.rcpts = append(s.rcpts, r)
	s.env.Rcpts = append(s.env.Rcpts, to)
	return nil
}

// errNeedUTF8 refuses a non-ASCII address in a transaction without
// SMTPUTF8 (RFC 6531 section 3.5): the next hop would get it without the
// parameter that tells it to expect one.
var errNeedUTF8 = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7},
	Message: "Non-ASCII address needs SMTPUTF8 on MAIL FROM"}

// errStorage refuses MAIL while the spool is short of disk space
// (queue.min_free_bytes, queue.min_free_percent): a temporary refusal the
// client retries, instead of accepting mail that cannot be written.
var errStorage = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1},
	Message: "Insufficient system storage; try again later"}

// withHelp is e with a link to its code's help page.
func (s *session) withHelp(e *smtp.SMTPError) *smtp.SMTPError {
	if s.srv.opts.HelpURL == "" {
		return e
	}
	c := *e
	c.Message += fmt.Sprintf("; see %s/ndr/%d.%d.%d", strings.TrimSuffix(s.srv.opts.HelpURL, "/"),
		e.EnhancedCode[0], e.EnhancedCode[1], e.EnhancedCode[2])
	return &c
}

// refuseDecision turns a policy decision into an SMTP reply with a link to
// the code's help page.
func (s *session) refuseDecision(stage string, d policy.Decision) error {
	msg := d.Text
	if s.srv.opts.HelpURL != "" {
		msg += "; see " + strings.TrimSuffix(s.srv.opts.HelpURL, "/") + "/ndr/" + d.EnhancedString()
	}
	return s.refuse(stage, &smtp.SMTPError{Code: d.Code, EnhancedCode: smtp.EnhancedCode(d.Enhanced), Message: msg})
}

func (s *session) refuse(stage string, e *smtp.SMTPError) error {
	code := fmt.Sprintf("%d.%d.%d", e.EnhancedCode[0], e.EnhancedCode[1], e.EnhancedCode[2])
	metrics.Rejected.WithLabelValues(stage, code).Inc()
	return s.refused(e)
}

// refused counts a refused command toward the connection's error limit
// (Postfix's smtpd_hard_error_limit: smtp.hard_error_limit, and
// smtp.stress_error_limit under stress). Past the limit the reply is
// 421 4.7.0 and the connection closes: a client pipelining refused
// commands costs one connection per limit's worth, not one trace event and
// one log line per command for as long as it likes. Mail accepted for
// delivery clears the count.
func (s *session) refused(e *smtp.SMTPError) error {
	lc := s.limited()
	if lc == nil {
		return e
	}
	limit := s.srv.opts.Limits.HardErrorLimit
	if s.srv.conns.stressed() {
		limit = min(limit, s.srv.opts.Limits.StressErrorLimit)
	}
	n := int(lc.errors.Add(1))
	if limit <= 0 || n <= limit {
		return e
	}
	metrics.ErrorLimitHits.Inc()
	s.record("session", "reject", "error-limit", fmt.Sprintf("421 4.7.0 more than %d refused commands", limit),
		"errors", strconv.Itoa(n), "last", fmt.Sprintf("%d %d.%d.%d", e.Code, e.EnhancedCode[0], e.EnhancedCode[1], e.EnhancedCode[2]))
	s.disconnectAfterReply()
	msg := fmt.Sprintf("Too many errors (more than %d refused commands); closing connection", limit)
	if s.srv.opts.HelpURL != "" {
		msg += "; see " + strings.TrimSuffix(s.srv.opts.HelpURL, "/") + "/ndr/4.7.0"
	}
	return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: msg}
}

// decided writes a check's decision to the trace.
func (s *session) decided(stage string, d policy.Decision, kv ...string) {
	if d.Action == policy.Accept {
		s.record(stage, "accept", "", "", kv...)
		return
	}
	for _, f := range d.Figures {
		kv = append(kv, f.Name, f.Value)
	}
	s.record(stage, d.Action.String(), d.Rule, fmt.Sprintf("%d %s %s", d.Code, d.EnhancedString(), d.Text), kv...)
}

func (s *session) record(stage, outcome, rule, detail string, kv ...string) {
	if f, ok := s.srv.opts.Trace.(trace.Filter); ok && !f.Enabled(context.Background(), outcome) {
		return // not recorded: do not build it on the SMTP path
	}
	if s.env.TenantID == 0 && !s.srv.anon.allow(s.env.ClientIP, stage, outcome) {
		return // counted in the address's summary instead
	}
	e := trace.Event{Time: time.Now(), Session: s.id, Stage: stage, Outcome: outcome, Rule: rule, Detail: detail,
		TenantID: s.env.TenantID}
	e.Attrs = append(e.Attrs, slog.String("listener", string(s.env.Listener)), slog.String("client_ip", s.env.ClientIP.String()))
	if s.env.Tenant != "" {
		e.Attrs = append(e.Attrs, slog.String("tenant", s.env.Tenant))
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "queue_id" {
			e.QueueID = kv[i+1]
		}
		e.Attrs = append(e.Attrs, slog.String(kv[i], kv[i+1]))
	}
	s.srv.opts.Trace.Record(context.Background(), e)
}

// certConnector matches a client certificate that verifies against the
// configured CA pool (for client authentication) to a certificate
// connector, by its DNS SANs and CN.
func (s *Server) certConnector(c *smtp.Conn) (directory.Connector, directory.Tenant, bool) {
	state, ok := c.TLSConnectionState()
	if !ok || s.opts.ClientCAs == nil || len(state.PeerCertificates) == 0 {
		return directory.Connector{}, directory.Tenant{}, false
	}
	leaf := state.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, ic := range state.PeerCertificates[1:] {
		inter.AddCert(ic)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: s.opts.ClientCAs, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		s.log.Info("client certificate not accepted for attribution", "subject", leaf.Subject.String(), "err", err)
		return directory.Connector{}, directory.Tenant{}, false
	}
	names := append([]string{}, leaf.DNSNames...)
	if cn := leaf.Subject.CommonName; cn != "" {
		names = append(names, cn)
	}
	return s.opts.Directory.ConnectorForCert(names)
}
