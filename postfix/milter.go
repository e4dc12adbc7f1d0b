package postfix

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/d--j/go-milter/mailfilter"
	"github.com/tollgate-mail/tollgate/metrics"
	"github.com/tollgate-mail/tollgate/policy"
)

// VerdictField is the header field the milter adds to every message it
// lets through: the content verdict and the delivery pool Tollgate would
// have used, for the operator's own routing (header_checks) and for the
// recipient's filters. A field of that name the client wrote is removed.
const VerdictField = "X-Tollgate-Verdict"

// classifyTimeout bounds the classifier at the end of DATA; Postfix's
// milter_content_timeout is 300 s.
const classifyTimeout = 10 * time.Second

// ListenMilter serves the milter protocol on addr in the background and
// returns the bound address.
//
// The milter decides at the end of the message, after Postfix has the
// whole of it and before it answers the client: the classifier and the
// end-of-DATA checks run, and a refusal is Tollgate's exact reply
// (SMFIR_REPLYCODE). The envelope checks are the policy service's: run
// both, so each counter counts once.
//
// addr is HOST:PORT, or unix:/path for a Unix socket (a stale socket file
// left by an earlier run is replaced; the socket is made 0666, so keep it
// in a directory only Postfix and Tollgate can reach).
func (s *Server) ListenMilter(addr string) (net.Addr, error) {
	network := "tcp"
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, addr = "unix", path
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Remove(path)
		}
	}
	f, err := mailfilter.New(network, addr, s.decideMessage,
		// The classifier reads the first ClassifyBytes; more is never kept.
		mailfilter.WithBody(256<<10, int64(s.opts.ClassifyBytes), mailfilter.TruncateWhenTooBig),
		mailfilter.WithHeader(1000, mailfilter.TruncateWhenTooBig),
		mailfilter.WithErrorHandling(mailfilter.TempFailWhenError))
	if err != nil {
		return nil, fmt.Errorf("postfix: listen milter on %s: %w", addr, err)
	}
	if network == "unix" {
		if err := os.Chmod(addr, 0o666); err != nil {
			f.Close()
			return nil, fmt.Errorf("postfix: milter socket %s: %w", addr, err)
		}
	}
	s.onClose(func() { f.Close(); f.Wait() })
	s.log.Info("listening", "listener", MilterListener, "addr", f.Addr().String())
	return f.Addr(), nil
}

// decideMessage is the milter's decision at the end of the message.
func (s *Server) decideMessage(ctx context.Context, trx mailfilter.Trx) (mailfilter.Decision, error) {
	id := identity{login: trx.MailFrom().AuthenticatedUser(), certName: trx.Helo().CertSubject}
	if ip, err := netip.ParseAddr(trx.Connect().Addr); err == nil {
		id.clientIP = ip
	}
	a, err := s.attribute(ctx, id)
	if err != nil {
		s.log.Error("milter: attribution failed", "err", err)
		return mailfilter.CustomErrorResponse(451, s.replyText(AttributionUnavailable)), nil
	}
	a.ClientIP = id.clientIP
	env := &policy.Envelope{Attribution: a, Listener: MilterListener,
		Helo: trx.Helo().Name, TLS: trx.Helo().TlsVersion != "", From: trx.MailFrom().Addr}
	queueID := trx.QueueId()
	session := s.idPrefix + "m." + oneLine(truncate(queueID, 64))
	s.record(session, queueID, env, "connect", "accept", "", "", "helo", env.Helo, "tenant", a.Tenant, "attribution", string(a.Method))
	if !env.Attributed() {
		// No tenant: refused, as every recipient is on the relay port
		// (the policy service refuses earlier, at RCPT, when it runs).
		s.record(session, queueID, env, "mail", "accept", "", "", "from", env.From)
		d := policy.RelayDenied
		d.Figures = []policy.Figure{{Name: "listener", Value: string(env.Listener)}, {Name: "client_ip", Value: env.ClientIP.String()}}
		return s.refuseMessage(session, queueID, env, d), nil
	}
	if d := s.envelope(ctx, session, queueID, env, trx); d.Action != policy.Accept {
		return s.refuseMessage(session, queueID, env, d), nil
	}
	raw, size, err := readCapped(trx.Data(), s.opts.ClassifyBytes)
	if err != nil {
		return nil, fmt.Errorf("milter: read message %s: %w", queueID, err)
	}
	msg := messageInfo(trx)
	msg.QueueID, msg.Size = queueID, size
	msg.Verdict = s.classify(ctx, session, queueID, env, raw)
	d := s.opts.Policy.Data(ctx, env, msg)
	kv := []string{"message_id", msg.MessageID, "verdict", string(msg.Verdict.Class), "score", fmt.Sprintf("%.2f", msg.Verdict.Score)}
	if d.Action != policy.Accept {
		return s.refuseMessage(session, queueID, env, d, kv...), nil
	}
	pool := msg.Pool
	if pool == "" {
		pool = policy.PoolNormal
	}
	// The milter keeps at most ClassifyBytes of the body: past that the
	// size is a lower bound (Postfix's log has the real one).
	sz := fmt.Sprint(size)
	if size >= int64(s.opts.ClassifyBytes) {
		sz = ">=" + sz
	}
	kv = append(kv, "size", sz, "pool", string(pool))
	for _, f := range msg.Evidence {
		kv = append(kv, "evidence."+f.Name, f.Value)
	}
	s.decided(session, queueID, env, "data", d, kv...)
	// Handed back to Postfix, which queues it under its own id.
	s.record(session, queueID, env, "queued", "ok", "", "", "queue_id", queueID, "by", "postfix",
		"message_id", msg.MessageID, "subject", msg.Subject, "pool", string(pool), "verdict", string(msg.Verdict.Class))
	s.markMessage(trx, env, msg.Verdict, pool)
	metrics.Accepted.WithLabelValues(string(MilterListener)).Inc()
	if env.ConnectorID != 0 {
		s.opts.Directory.NoteConnectorTraffic(env.ConnectorID)
	}
	return mailfilter.Accept, nil
}

// envelope fills in the envelope and, for a message the policy service
// did not judge (it is down, or not configured), runs the MAIL and RCPT
// checks: a blocked tenant or a sender over its limits is refused here
// rather than let through. The first refusal refuses the whole message;
// the client learns it, where dropping recipients would be silent.
func (s *Server) envelope(ctx context.Context, session, queueID string, env *policy.Envelope, trx mailfilter.Trx) policy.Decision {
	rcpts := trx.RcptTos()
	if queueID != "" && s.judged.take(queueID, time.Now()) {
		// Judged at MAIL and RCPT already; traced here for the summaries.
		s.record(session, queueID, env, "mail", "accept", "", "", "from", env.From, "judged_by", string(PolicyListener))
		for _, r := range rcpts {
			env.Rcpts = append(env.Rcpts, r.Addr)
			s.record(session, queueID, env, "rcpt", "accept", "", "", "rcpt", r.Addr)
		}
		return policy.Accepted
	}
	d := s.opts.Policy.Mail(ctx, env)
	s.decided(session, queueID, env, "mail", d, "from", env.From)
	if d.Action != policy.Accept {
		return d
	}
	for _, r := range rcpts {
		d := s.opts.Policy.Rcpt(ctx, env, r.Addr)
		s.decided(session, queueID, env, "rcpt", d, "rcpt", r.Addr)
		if d.Action != policy.Accept {
			return d
		}
		env.Rcpts = append(env.Rcpts, r.Addr)
	}
	return policy.Accepted
}

// refuseMessage traces and counts a refusal at the end of DATA and gives
// Postfix Tollgate's reply, code, enhanced code, text and help link.
func (s *Server) refuseMessage(session, queueID string, env *policy.Envelope, d policy.Decision, kv ...string) mailfilter.Decision {
	s.decided(session, queueID, env, "data", d, kv...)
	metrics.Rejected.WithLabelValues("data", d.EnhancedString()).Inc()
	code := d.Code
	switch {
	case d.Action == policy.Defer && (code < 400 || code > 499):
		code = 451
	case d.Action != policy.Defer && (code < 500 || code > 599):
		code = 550
	}
	return mailfilter.CustomErrorResponse(uint16(code), s.replyText(d))
}

// markMessage writes the verdict field (replacing any the client wrote)
// and the Feedback-ID that lets complaint reports name the tenant.
func (s *Server) markMessage(trx mailfilter.Trx, env *policy.Envelope, v policy.Verdict, pool policy.Pool) {
	h := trx.Headers()
	for f := h.Fields(); f.Next(); {
		if f.CanonicalKey() == VerdictField {
			f.Del()
		}
	}
	class := v.Kind()
	if class == "" {
		class = "unclassified"
	}
	h.Add(VerdictField, fmt.Sprintf("%s; score=%.2f; pool=%s", class, v.Score, pool))
	if s.opts.FeedbackIDs != nil {
		kind := "connector"
		if env.Method == "auth" {
			kind = "user"
		}
		h.Add("Feedback-ID", fmt.Sprint(s.opts.FeedbackIDs.ID(env.TenantID, kind)))
	}
}

// classify asks the classifier; a failure leaves the message unclassified
// and says so in the trace, as on the SMTP port.
func (s *Server) classify(ctx context.Context, session, queueID string, env *policy.Envelope, raw []byte) policy.Verdict {
	if s.opts.Classify == nil {
		return policy.Verdict{}
	}
	ctx, cancel := context.WithTimeout(ctx, classifyTimeout)
	defer cancel()
	v, err := s.opts.Classify(ctx, raw, len(env.Rcpts), env.Tenant)
	if err != nil {
		s.log.Warn("classifier failed; message left unclassified", "queue_id", queueID, "err", err)
		s.record(session, queueID, env, "classify", "fail", "classifier", truncate(oneLine(err.Error()), 200))
		return policy.Verdict{}
	}
	s.record(session, queueID, env, "classify", "ok", "classifier", string(v.Class), "verdict", string(v.Class),
		"score", fmt.Sprintf("%.2f", v.Score), "bulk", fmt.Sprint(v.Bulk), "is_bulk", fmt.Sprint(v.IsBulk),
		"reasons", strings.Join(v.Reasons, ", "))
	return v
}

// readCapped keeps the first max bytes of r and counts the rest.
func readCapped(r io.Reader, max int) ([]byte, int64, error) {
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, r, int64(max))
	if err != nil && err != io.EOF {
		return nil, 0, err
	}
	rest, err := io.Copy(io.Discard, r)
	if err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), n + rest, nil
}

// maxHeaderFrom bounds the From and Sender fields handed to the checks,
// as on the SMTP port: past it the check sees a value it cannot parse.
const maxHeaderFrom = 4096

// messageInfo reads the fields the end-of-DATA checks and the trace want.
func messageInfo(trx mailfilter.Trx) *policy.Message {
	h := trx.Headers()
	m := &policy.Message{MessageID: truncate(strings.TrimSpace(h.UnfoldedValue("Message-Id")), 998)}
	if subj, err := h.Subject(); err == nil {
		m.Subject = subjectLine(subj)
	} else {
		m.Subject = subjectLine(h.UnfoldedValue("Subject"))
	}
	var froms, senders []string
	for f := h.Fields(); f.Next(); {
		switch f.CanonicalKey() {
		case "From":
			froms = append(froms, strings.TrimSpace(f.UnfoldedValue()))
		case "Sender":
			senders = append(senders, strings.TrimSpace(f.UnfoldedValue()))
		case "List-Id", "List-Unsubscribe":
			m.ListMail = true
		}
	}
	m.HeaderFrom = capField(strings.Join(froms, ", "))
	m.HeaderSender = capField(strings.Join(senders, ", "))
	return m
}

func capField(v string) string {
	if len(v) > maxHeaderFrom {
		return v[:maxHeaderFrom] + " <"
	}
	return v
}

// subjectLine is the Subject as the trace shows it: one line, at most 200
// bytes, cut between characters.
func subjectLine(s string) string {
	s = oneLine(s)
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
