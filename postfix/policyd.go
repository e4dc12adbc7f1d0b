package postfix

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/metrics"
	"github.com/tollgate-mail/tollgate/policy"
)

// Policy service limits.
const (
	// policyIdleTimeout closes a connection no request came on for this
	// long. Postfix keeps its connections at most smtpd_policy_service_max_idle
	// (300 s) idle, so a live Postfix never meets it.
	policyIdleTimeout = 10 * time.Minute
	// policyCheckTimeout bounds one request's checks; Postfix's own
	// smtpd_policy_service_timeout is 100 s.
	policyCheckTimeout = 30 * time.Second
	// maxPolicyConns bounds the connections served at once: one per
	// Postfix smtpd process, so a few hundred on a busy server.
	maxPolicyConns = 2000
)

// Refusals of the policy service itself, as Decisions so they carry
// their help link like every other refusal. Both are temporary: Postfix
// (and the client behind it) keeps the message and retries.
var (
	// BadRequest answers a request the service cannot read (too large,
	// not name=value, not an smtpd_access_policy request): a client that
	// is not a well-configured Postfix.
	BadRequest = policy.Decision{Action: policy.Defer, Code: 451, Enhanced: [3]int{4, 3, 5},
		Text: "Policy request not understood; the mail server's policy service configuration needs attention", Rule: "policy-request"}
	// AttributionUnavailable answers when the directory cannot be read.
	AttributionUnavailable = policy.Decision{Action: policy.Defer, Code: 451, Enhanced: [3]int{4, 3, 0},
		Text: "Temporary policy failure: attribution unavailable, try again later", Rule: "attribution"}
)

// ListenPolicy serves the policy-delegation protocol on addr in the
// background and returns the bound address.
func (s *Server) ListenPolicy(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("postfix: listen policy service on %s: %w", addr, err)
	}
	s.ServePolicy(ln)
	return ln.Addr(), nil
}

// ServePolicy serves the policy-delegation protocol on ln in the
// background until Close.
func (s *Server) ServePolicy(ln net.Listener) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	closed := false
	sem := make(chan struct{}, maxPolicyConns)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					s.log.Error("policy service stopped", "err", err)
				}
				return
			}
			select {
			case sem <- struct{}{}:
			default:
				s.log.Warn("policy service: too many connections; closing one", "max", maxPolicyConns)
				c.Close()
				continue
			}
			mu.Lock()
			if closed { // accepted as Close ran: it must not outlive it
				mu.Unlock()
				c.Close()
				<-sem
				continue
			}
			conns[c] = true
			wg.Add(1)
			mu.Unlock()
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				s.servePolicyConn(c)
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
		}
	}()
	s.onClose(func() {
		ln.Close()
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	s.log.Info("listening", "listener", PolicyListener, "addr", ln.Addr().String())
}

// servePolicyConn answers requests on one connection until the client
// closes it. Postfix keeps one connection per smtpd process and sends the
// requests of its SMTP sessions one after another, so the connection's
// state is the one transaction in progress.
func (s *Server) servePolicyConn(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, MaxLineBytes)
	var tx *transaction
	for {
		c.SetReadDeadline(time.Now().Add(policyIdleTimeout))
		req, err := ReadRequest(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Warn("policy service: bad request; closing the connection", "client", c.RemoteAddr().String(), "err", err)
				// One answer Postfix can act on (a temporary refusal),
				// then the close: the stream cannot be resynced.
				writeAction(c, s.action(BadRequest))
			}
			return
		}
		var action string
		action, tx = s.answer(req, tx)
		if err := writeAction(c, action); err != nil {
			return
		}
	}
}

func writeAction(c net.Conn, action string) error {
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := io.WriteString(c, "action="+action+"\n\n")
	return err
}

// transaction is what the service keeps of one SMTP transaction, named by
// Postfix's instance attribute: the MAIL stage runs once per transaction
// (at its first request), the RCPT stage once per recipient, as on
// Tollgate's own SMTP port.
type transaction struct {
	instance string
	session  string
	env      policy.Envelope
	mailDone bool
	// mail is the MAIL stage's refusal, given again for every recipient.
	mail policy.Decision
}

// answer decides one request and returns the action and the transaction
// it belongs to.
func (s *Server) answer(req Request, tx *transaction) (string, *transaction) {
	if r := req["request"]; r != "smtpd_access_policy" {
		s.log.Warn("policy service: unsupported request", "request", quoteShort(r))
		return s.action(BadRequest), tx
	}
	ctx, cancel := context.WithTimeout(context.Background(), policyCheckTimeout)
	defer cancel()
	inst := req["instance"]
	if tx == nil || inst == "" || tx.instance != inst {
		var err error
		if tx, err = s.newTransaction(ctx, req); err != nil {
			s.log.Error("policy service: attribution failed", "err", err)
			return s.action(AttributionUnavailable), nil
		}
	}
	queueID := req["queue_id"]
	switch strings.ToUpper(req["protocol_state"]) {
	case "MAIL":
		return s.action(s.mailStage(ctx, tx, req, queueID)), tx
	case "RCPT":
		rcpt := req["recipient"]
		if rcpt == "" {
			return s.action(BadRequest), tx // Postfix always names the recipient at RCPT
		}
		if d := s.mailStage(ctx, tx, req, queueID); d.Action != policy.Accept {
			// Postfix asks again for each recipient; each gets the
			// refusal, and the trace says which recipients it refused.
			s.decided(tx.session, queueID, &tx.env, "rcpt", d, "rcpt", rcpt)
			return s.action(d), tx
		}
		if !tx.env.Attributed() {
			// Every recipient of unattributed mail is refused (5.7.64):
			// never an open relay, whoever is in front.
			d := policy.RelayDenied
			d.Figures = []policy.Figure{{Name: "listener", Value: string(tx.env.Listener)}, {Name: "client_ip", Value: tx.env.ClientIP.String()}}
			return s.refuse(tx, queueID, "rcpt", d, "rcpt", rcpt), tx
		}
		d := s.opts.Policy.Rcpt(ctx, &tx.env, rcpt)
		if d.Action != policy.Accept {
			return s.refuse(tx, queueID, "rcpt", d, "rcpt", rcpt), tx
		}
		s.decided(tx.session, queueID, &tx.env, "rcpt", d, "rcpt", rcpt)
		tx.env.Rcpts = append(tx.env.Rcpts, rcpt)
		return "DUNNO", tx
	case "DATA", "END-OF-MESSAGE":
		// The queue id is known now: the milter need not run this
		// transaction's envelope checks again.
		if tx.mailDone && queueID != "" {
			s.judged.add(queueID, time.Now())
		}
	}
	// CONNECT, EHLO, HELO, DATA, END-OF-MESSAGE, VRFY, ETRN: the envelope
	// checks have nothing to add; the content is the milter's.
	return "DUNNO", tx
}

// newTransaction attributes a request's client and starts its transaction.
func (s *Server) newTransaction(ctx context.Context, req Request) (*transaction, error) {
	id := identity{login: req["sasl_username"], certName: req["ccert_subject"], certFP: req["ccert_fingerprint"]}
	if ip, err := netip.ParseAddr(req["client_address"]); err == nil {
		id.clientIP = ip
	}
	a, err := s.attribute(ctx, id)
	if err != nil {
		return nil, err
	}
	tx := &transaction{instance: req["instance"], session: s.idPrefix + "pf." + oneLine(truncate(req["instance"], 64))}
	a.ClientIP = id.clientIP
	tx.env = policy.Envelope{Attribution: a, Listener: PolicyListener,
		Helo: req["helo_name"], TLS: req["encryption_protocol"] != ""}
	kv := []string{"helo", tx.env.Helo, "tenant", a.Tenant, "attribution", string(a.Method)}
	if id.login != "" {
		kv = append(kv, "sasl_username", id.login)
	}
	if id.certName != "" {
		kv = append(kv, "ccert_subject", id.certName, "ccert_fingerprint", id.certFP)
	}
	s.record(tx.session, req["queue_id"], &tx.env, "connect", "accept", "", "", kv...)
	return tx, nil
}

// mailStage runs the MAIL FROM checks once per transaction. Unattributed
// mail is refused per recipient (5.7.64), as on the relay port.
func (s *Server) mailStage(ctx context.Context, tx *transaction, req Request, queueID string) policy.Decision {
	if tx.mailDone {
		return tx.mail
	}
	tx.mailDone = true
	tx.env.From = req["sender"]
	if n, err := parseSize(req["size"]); err == nil {
		tx.env.Size = n
	}
	if !tx.env.Attributed() {
		tx.mail = policy.Accepted
		s.decided(tx.session, queueID, &tx.env, "mail", tx.mail, "from", tx.env.From)
		return tx.mail
	}
	d := s.opts.Policy.Mail(ctx, &tx.env)
	if d.Action != policy.Accept {
		tx.mail = d
		s.refuse(tx, queueID, "mail", d, "from", tx.env.From)
		return d
	}
	s.decided(tx.session, queueID, &tx.env, "mail", d, "from", tx.env.From)
	tx.mail = policy.Accepted
	return d
}

// refuse traces and counts a refusal and returns its action.
func (s *Server) refuse(tx *transaction, queueID, stage string, d policy.Decision, kv ...string) string {
	s.decided(tx.session, queueID, &tx.env, stage, d, kv...)
	metrics.Rejected.WithLabelValues(stage, d.EnhancedString()).Inc()
	return s.action(d)
}

// action is a decision as a policy reply: "550 5.7.705 text; see link"
// (Postfix takes a 4xx or 5xx code with text as the SMTP reply, and the
// enhanced code from the text), or DUNNO to let Postfix's other
// restrictions decide.
func (s *Server) action(d policy.Decision) string {
	if d.Action == policy.Accept {
		return "DUNNO"
	}
	code := d.Code
	switch {
	case d.Action == policy.Defer && (code < 400 || code > 499):
		code = 451
	case d.Action == policy.Reject && (code < 500 || code > 599):
		code = 550
	}
	return fmt.Sprintf("%d %s", code, s.replyText(d))
}

func parseSize(v string) (int64, error) {
	var n int64
	if v == "" || len(v) > 18 {
		return 0, errors.New("no size")
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, errors.New("bad size")
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func quoteShort(s string) string { return fmt.Sprintf("%q", truncate(s, 64)) }
