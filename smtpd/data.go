package smtpd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode encoded words in the charsets real mail uses
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/metrics"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/queue"
)

var (
	errBareNewline = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 5, 2},
		Message: "Message contains a bare CR or LF; lines must end with CRLF (RFC 5321 2.3.8). Refused as a defence against SMTP smuggling"}
	errNULByte = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "Message contains a NUL byte, which RFC 5322 forbids; not accepted"}
	errHeaderTooLarge = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
		Message: "Message header too large"}
	errLineTooLong = &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 2},
		Message: "Line too long"}
	errDataTimeout = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Timeout: data arrived too slowly; closing connection"}
	errLocal = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Local error while queueing; message not accepted, try again later"}
)

// Data implements smtp.Session. The body streams to a spool file through a
// filter that refuses bare CR and LF, with a deadline that enforces a
// minimum data rate. Only when the file and its row are durable does the
// client get 250.
func (s *session) Data(r io.Reader) error {
	if s.feedback {
		return s.feedbackData(r)
	}
	if len(s.rcpts) == 0 && s.dropped > 0 {
		return s.discardData(r)
	}
	start := time.Now()
	lim := s.srv.opts.Limits
	w, err := s.srv.opts.Queue.Create()
	if err != nil {
		s.log.Error("spool create failed", "err", err)
		return s.refuse("data", errLocal)
	}
	defer w.Abort()

	in := &strictReader{r: &rateReader{r: r, conn: s.conn.Conn(), start: start,
		idle: lim.DataTimeout.Duration, minRate: int64(lim.MinDataRate), grace: lim.DataRateGrace.Duration}}
	br := bufio.NewReaderSize(in, 16<<10)
	var out io.Writer = w
	var capture *captureWriter
	if s.srv.opts.Classify != nil {
		capture = newCapture(w, s.srv.opts.ClassifyBytes)
		defer capture.release()
		out = capture
	}
	hdr, body, err := readHeaderBlock(br, lim.MaxHeaderBytes)
	if err == nil {
		err = s.writeTrace(out, hdr, w.ID())
	}
	if err == nil {
		_, err = out.Write(body)
	}
	if err == nil {
		_, err = io.Copy(out, br)
	}
	if err != nil {
		return s.refuse("data", s.dataError(err))
	}
	msg := headerInfo(hdr)
	msg.Size, msg.QueueID = w.Size(), w.ID()
	if capture != nil {
		msg.Verdict = s.classify(capture.buf)
	}
	d := s.srv.opts.Policy.Data(s.ctx, &s.env, &msg)
	kv := []string{"size", fmt.Sprint(msg.Size), "message_id", msg.MessageID, "verdict", string(msg.Verdict.Class),
		"score", fmt.Sprintf("%.2f", msg.Verdict.Score)}
	kv = append(kv, replayKV(&msg)...)
	if d.Action == policy.Accept {
		// The evidence the verdict check read (a refusal carries it in
		// its figures already), so the trace explains an acceptance too.
		for _, f := range msg.Evidence {
			kv = append(kv, "evidence."+f.Name, f.Value)
		}
	}
	s.decided("data", d, kv...)
	if d.Action != policy.Accept {
		return s.refuseDecision("data", d)
	}
	pool := msg.Pool
	if pool == "" {
		pool = policy.PoolNormal
	}
	env := queue.Envelope{
		From: s.env.From, Rcpts: s.rcpts, Attribution: s.env.Attribution,
		MessageID: msg.MessageID, Subject: msg.Subject, Pool: pool,
	}
	if s.mail != nil {
		env.EnvID, env.UTF8 = s.mail.EnvelopeID, s.mail.UTF8
		env.RetFull = s.mail.Return == smtp.DSNReturnFull
	}
	// The commit is not cancelled with the session: once the body is on
	// disk, finishing the commit is cheaper than a client's retry.
	m, err := w.Commit(context.WithoutCancel(s.ctx), env)
	if err != nil {
		s.log.Error("spool commit failed", "err", err)
		return s.refuse("data", errLocal)
	}
	metrics.Accepted.WithLabelValues(string(s.env.Listener)).Inc()
	if lc := s.limited(); lc != nil {
		lc.errors.Store(0) // Postfix's limit counts errors "without delivering mail"
	}
	if s.env.ConnectorID != 0 {
		s.srv.opts.Directory.NoteConnectorTraffic(s.env.ConnectorID)
	}
	s.record("queued", "ok", "", "", "queue_id", m.ID, "from", env.From, "rcpts", fmt.Sprint(len(env.Rcpts)),
		"size", fmt.Sprint(m.Size), "message_id", msg.MessageID, "subject", msg.Subject, "pool", string(pool),
		"verdict", string(msg.Verdict.Class))
	s.log.Info("queued", "queue_id", m.ID, "from", env.From, "rcpts", len(env.Rcpts), "size", m.Size,
		"tenant", s.env.Tenant, "took", time.Since(start))
	// go-smtp replies with the code of an SMTPError as given, so a 250 can
	// carry the queue id, which makes a sender's question traceable.
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "OK: queued as " + m.ID}
}

// traceFieldBytes bounds the header fields the data event keeps for a
// policy dry run; the checks judge the whole field, the replay a prefix.
const traceFieldBytes = 320

// replayKV is what the data event records beyond the verdict so that a
// dry run of a policy change (package dryrun) can put the message through
// the checks again: the bulk property, the list headers, the campaign band
// of the fingerprint and the header fields the sender checks read. Each is
// bounded; empty ones are not stored.
func replayKV(msg *policy.Message) []string {
	band, _, _ := strings.Cut(msg.Verdict.Fingerprint, "-")
	return []string{"is_bulk", strconv.FormatBool(msg.Verdict.IsBulk), "list", strconv.FormatBool(msg.ListMail),
		"fingerprint", truncate(band, 64), "subject", truncate(msg.Subject, 200),
		"header_from", truncate(msg.HeaderFrom, traceFieldBytes), "header_sender", truncate(msg.HeaderSender, traceFieldBytes)}
}

func (s *session) dataError(err error) *smtp.SMTPError {
	var se *smtp.SMTPError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, errBare):
		return errBareNewline
	case errors.Is(err, errNUL):
		return s.withHelp(errNULByte)
	case errors.Is(err, smtp.ErrTooLongLine):
		return errLineTooLong
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return errDataTimeout
	}
	s.log.Warn("reading message failed", "err", err)
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Error reading message, try again"}
}

// writeTrace writes our Received header, a Message-ID when the message has
// none, and the client's header block. The queue id comes as an argument:
// w may be a wrapper of the spool writer (the classifier's capture), which
// knows no id.
func (s *session) writeTrace(w io.Writer, hdr []byte, queueID string) error {
	proto := "ESMTP"
	if s.env.TLS {
		proto += "S"
	}
	if s.env.Method == policy.MethodAuth {
		proto += "A"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "Received: from %s ([%s])", sanitizeHelo(s.env.Helo), s.env.ClientIP)
	// RFC 8314 §4.4: record the TLS in use, as a comment the way Postfix
	// writes it and in the registered "tls" clause (§7.4).
	var suite string
	if st, ok := s.conn.TLSConnectionState(); ok && st.HandshakeComplete {
		suite = tls.CipherSuiteName(st.CipherSuite)
		fmt.Fprintf(&b, "\r\n\t(using %s with cipher %s)", strings.ReplaceAll(tls.VersionName(st.Version), " ", "v"), suite)
	}
	fmt.Fprintf(&b, "\r\n\tby %s (Tollgate) with %s id %s", s.srv.opts.Hostname, proto, queueID)
	if len(s.rcpts) == 1 {
		fmt.Fprintf(&b, "\r\n\tfor <%s>", s.rcpts[0].Addr)
	}
	if suite != "" {
		fmt.Fprintf(&b, "\r\n\ttls %s", suite)
	}
	fmt.Fprintf(&b, ";\r\n\t%s\r\n", time.Now().Format(time.RFC1123Z))
	// Feedback-ID (Gmail's a:b:c:SenderId) lets complaint reports name
	// the tenant; written above the client's own, which stay (removing a
	// field could break the client's DKIM signature).
	kind := "connector"
	if s.env.Method == policy.MethodAuth {
		kind = "user"
	}
	if s.env.TenantID != 0 && s.srv.opts.FeedbackIDs != nil {
		fmt.Fprintf(&b, "Feedback-ID: %s\r\n", s.srv.opts.FeedbackIDs.ID(s.env.TenantID, kind))
	}
	if !hasField(hdr, "message-id") {
		fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", queueID, s.srv.opts.Hostname)
	}
	if len(hdr) == 0 { // no header block: keep the body a body
		b.WriteString("\r\n")
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	_, err := w.Write(hdr)
	return err
}

func sanitizeHelo(h string) string {
	h = strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' || r == '(' || r == ')' || r == ';' {
			return -1
		}
		return r
	}, h)
	if h == "" {
		return "unknown"
	}
	return h
}

// headerInfo reads the fields the checks and the trace want, with a real
// RFC 5322 parser.
func headerInfo(hdr []byte) policy.Message {
	var m policy.Message
	if len(hdr) == 0 {
		return m
	}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(hdr)))
	if err != nil {
		return m
	}
	m.MessageID = truncate(strings.TrimSpace(h.Get("Message-Id")), 998) // RFC 5322's line limit
	m.Subject = subject(h)
	m.ListMail = h.Has("List-Id") || h.Has("List-Unsubscribe")
	// Every From field, whole: a second From (RFC 5322 allows one) or a
	// long list must not hide a foreign address from the
	// unregistered-domain check. Past the bound, the check sees a value it
	// cannot parse and counts the message as foreign.
	m.HeaderFrom = joinedField(h, "From")
	// The Sender and Resent- fields too: mail readers show "on behalf
	// of" and "resent by" them, so the cross-tenant and sender-binding
	// checks judge them like From.
	m.HeaderSender = joinedField(h, "Sender")
	m.HeaderResentFrom = joinedField(h, "Resent-From")
	m.HeaderResentSender = joinedField(h, "Resent-Sender")
	return m
}

// subject is the Subject as a person reads it, for the trace, the console
// and the CLI: RFC 2047 encoded words decoded, control characters (a decoded
// word may hold CR or LF) shown as spaces, and at most 200 characters, cut
// between characters, never inside one.
func subject(h textproto.Header) string {
	mh := message.Header{Header: h}
	s, err := mh.Text("Subject")
	if err != nil {
		s = h.Get("Subject") // an unknown charset: the raw text beats nothing
	}
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// joinedField is every field called name, whole, joined with ", ": a
// second From (RFC 5322 allows one) or a long list must not hide a foreign
// address from the checks. Past maxHeaderFrom the value is cut and ends in
// " <", so the checks see a value that does not parse and judge every
// domain it names (the unregistered-domain check counts it as foreign).
func joinedField(h textproto.Header, name string) string {
	v := strings.Join(h.Values(name), ", ")
	if len(v) > maxHeaderFrom {
		v = v[:maxHeaderFrom] + " <"
	}
	return v
}

// maxHeaderFrom bounds the From fields handed to the checks.
const maxHeaderFrom = 4096

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
