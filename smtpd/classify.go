package smtpd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// DefaultClassifyBytes is how much of a message the classifier sees when
// Options.ClassifyBytes is zero: enough for the headers and the text of
// nearly every message, bounded so a 35 MB attachment costs no more.
const DefaultClassifyBytes = 512 << 10

// captureWriter passes everything through to the spool and keeps the
// first max bytes for the classifier.
type captureWriter struct {
	w   io.Writer
	buf []byte
	max int
}

var capturePool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func newCapture(w io.Writer, max int) *captureWriter {
	if max <= 0 {
		max = DefaultClassifyBytes
	}
	return &captureWriter{w: w, buf: (*capturePool.Get().(*[]byte))[:0], max: max}
}

func (c *captureWriter) Write(p []byte) (int, error) {
	if room := c.max - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return c.w.Write(p)
}

func (c *captureWriter) release() {
	if cap(c.buf) <= 1<<20 {
		b := c.buf[:0]
		capturePool.Put(&b)
	}
	c.buf = nil
}

// classify asks the classifier for the message's verdict. A failure leaves
// the message unclassified (the thresholds do not count it) and says so in
// the trace and the log.
func (s *session) classify(raw []byte) policy.Verdict {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	v, err := s.srv.opts.Classify(ctx, raw, len(s.rcpts), s.env.Tenant)
	if err != nil {
		s.log.Warn("classifier failed; message left unclassified", "err", err)
		s.record("classify", "fail", "classifier", truncate(printable(fmt.Sprint(err)), 200))
		return policy.Verdict{}
	}
	// The fingerprint (four short bands) is what an admin's correction of
	// this message is keyed by, so the trace keeps it.
	s.record("classify", "ok", "classifier", string(v.Class), "verdict", string(v.Class), "score", fmt.Sprintf("%.2f", v.Score),
		"bulk", fmt.Sprint(v.Bulk), "is_bulk", fmt.Sprint(v.IsBulk), "reasons", strings.Join(v.Reasons, ", "),
		"fingerprint", truncate(v.Fingerprint, 200), "tokens", joinTokens(v.Tokens, 600))
	return v
}

// printable replaces control characters (a remote engine's error text may
// carry any bytes) so the trace and the log stay one readable line.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// joinTokens joins the verdict's word names with spaces within max bytes,
// dropping whole names (the weakest come last on each side) rather than
// cutting one.
func joinTokens(tokens []string, max int) string {
	var b strings.Builder
	for _, t := range tokens {
		t = printable(t)
		if strings.ContainsRune(t, ' ') || b.Len()+len(t)+1 > max {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String()
}
