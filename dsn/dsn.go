package dsn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message"
)

// Recipient is one failed or delayed recipient of the original message.
type Recipient struct {
	Original       string            // ORCPT if the client gave one (RFC 3461), else empty; "type;addr" or a bare address
	Final          string            // the envelope recipient
	Action         string            // "failed" or "delayed" (also "delivered"/"relayed"/"expanded" are legal)
	Status         string            // enhanced status code, e.g. "5.1.1"; if missing or malformed, 5.0.0/4.0.0/2.0.0 by Action
	DiagnosticCode string            // the remote reply, e.g. "550 5.1.1 No such user"; written as "smtp; ..."
	RemoteMTA      string            // host name or IP of the remote server if one answered, else empty
	LastAttempt    time.Time         // omitted when zero
	WillRetryUntil time.Time         // for "delayed"; omitted when zero
	Extra          map[string]string // extension fields, written as "X-Tollgate-<Key>: value" in sorted key order
}

// Report describes one DSN to compose.
type Report struct {
	ReportingMTA   string           // our host name (DNS name); required
	From           string           // the DSN's From address; empty = "MAILER-DAEMON@<ReportingMTA>"
	To             string           // the original envelope sender: the DSN goes to this address; must not be null
	QueueID        string           // our queue id, written as X-Tollgate-Queue-ID
	EnvelopeID     string           // ENVID from the original MAIL FROM, if any (Original-Envelope-Id)
	ArrivalDate    time.Time        // omitted when zero
	Recipients     []Recipient      // at least one
	Original       io.Reader        // the original message (headers + body) as it was spooled; nil = none
	ReturnFull     bool             // RET=FULL: attach the whole message (message/rfc822); else only its headers
	MaxReturnBytes int64            // cap on the attached full message (if larger, headers only); <= 0 = DefaultMaxReturnBytes
	HelpURL        string           // link to the help page for the main status code, optional
	Sender         string           // text of the section "For the sender"; empty = built from the status codes
	Admin          string           // advice in the section "For the email admin"; empty = built from the status codes
	Now            func() time.Time // for tests; nil = time.Now
}

// DefaultMaxReturnBytes is the largest original message attached in full
// when Report.MaxReturnBytes is not set. A bounce that carries a huge
// attachment back is itself likely to be refused, and Compose holds the
// returned message in memory.
const DefaultMaxReturnBytes = 10 << 20

// ErrNullSender is returned by Compose when Report.To is the null
// reverse-path: a notification about a bounce would go nowhere, and sending
// one anyway is how mail loops start.
var ErrNullSender = errors.New("dsn: the original sender is the null reverse-path; never bounce a bounce")

// Compose writes the complete DSN message (RFC 5322 header block and a
// multipart/report; report-type=delivery-status body) to w.
//
// It reads r.Original (at most the header block, capped at 1 MiB, unless
// r.ReturnFull) before writing anything, so an error reading the spool
// leaves w untouched.
func Compose(w io.Writer, r Report) error {
	r, err := prepare(r)
	if err != nil {
		return err
	}
	orig, err := readOriginal(r.Original, r.ReturnFull, r.MaxReturnBytes)
	if err != nil {
		return fmt.Errorf("dsn: read original message: %w", err)
	}
	bw := bufio.NewWriter(w)
	if err := compose(bw, &r, orig); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("dsn: write: %w", err)
	}
	return nil
}

// IsNullSender reports whether an envelope sender is the null reverse-path
// "<>"; the queue must never send a DSN for such a message ("never bounce a
// bounce"). Both the SMTP form "<>" and the empty string (as go-smtp reports
// MAIL FROM:<>) count.
func IsNullSender(from string) bool {
	s := strings.TrimSpace(from)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	return strings.TrimSpace(s) == ""
}

// compose writes the three parts in order; each step wraps its own errors.
func compose(w io.Writer, r *Report, orig *original) error {
	mw, err := message.CreateWriter(w, topHeader(r, orig))
	if err != nil {
		return fmt.Errorf("dsn: write message header: %w", err)
	}
	text := humanText(r, orig)
	if err := writePart(mw, humanHeader(text), func(pw io.Writer) error {
		return writeHuman(pw, text)
	}); err != nil {
		return fmt.Errorf("dsn: write human-readable part: %w", err)
	}
	if err := writePart(mw, statusHeader(), func(pw io.Writer) error {
		return writeStatus(pw, r)
	}); err != nil {
		return fmt.Errorf("dsn: write delivery-status part: %w", err)
	}
	if h, ok := originalHeader(orig); ok {
		if err := writePart(mw, h, orig.writeTo); err != nil {
			return fmt.Errorf("dsn: write returned message part: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("dsn: close multipart: %w", err)
	}
	return nil
}

// writePart creates one body part and closes it even when body fails, so the
// transfer encoder (quoted-printable) is flushed on success.
func writePart(mw *message.Writer, h message.Header, body func(io.Writer) error) error {
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if err := body(pw); err != nil {
		pw.Close()
		return err
	}
	return pw.Close()
}
