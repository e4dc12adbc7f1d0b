package smtpd

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"time"
)

var (
	errBare = errors.New("bare CR or LF in message")
	errNUL  = errors.New("NUL byte in message")
)

// strictReader passes message data through and fails at the first bare CR or
// bare LF. go-smtp already ends DATA only at <CRLF>.<CRLF>; refusing bare
// line endings as well (Postfix's smtpd_forbid_bare_newline) means no
// <LF>.<LF>, <CR>.<CR> or <LF>.<CRLF> ever reaches a next hop that might read
// it as the end of data — the SMTP smuggling defence. No client is exempt.
// It fails at a NUL byte too: RFC 5322 forbids them, and next hops differ
// on what they do with one (C string handling truncates, some strip it).
type strictReader struct {
	r      io.Reader
	prevCR bool
	err    error
}

func (s *strictReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	for i := 0; i < n; i++ {
		c := p[i]
		if c == 0 {
			s.err = errNUL
			return 0, s.err
		}
		if (s.prevCR && c != '\n') || (!s.prevCR && c == '\n') {
			s.err = errBare
			return 0, s.err
		}
		s.prevCR = c == '\r'
	}
	if err == io.EOF && s.prevCR {
		s.err = errBare
		return 0, s.err
	}
	return n, err
}

// rateReader enforces a minimum data rate during DATA: each read must come
// within idle of the previous one, and the whole body within a grace period
// plus size/minRate. The per-command deadline alone would let a client trickle
// a 35 MB message one byte per timeout.
type rateReader struct {
	r       io.Reader
	conn    net.Conn
	start   time.Time
	idle    time.Duration
	minRate int64
	// grace is the head start before the rate counts (smtp.data_rate_grace).
	grace time.Duration
	n     int64
}

func (r *rateReader) Read(p []byte) (int, error) {
	now := time.Now()
	deadline := now.Add(r.idle)
	if r.minRate > 0 {
		byRate := r.start.Add(r.grace + time.Duration(r.n)*time.Second/time.Duration(r.minRate))
		if byRate.Before(deadline) {
			deadline = byRate
		}
	}
	r.conn.SetReadDeadline(deadline)
	n, err := r.r.Read(p)
	r.n += int64(n)
	return n, err
}

// readHeaderBlock reads the message's header fields, up to and including the
// blank line that ends them, holding at most max bytes. A message whose first
// line is no header field has no header block: that line comes back as body.
// A header block that ends without a blank line (a body line follows
// directly) gets one, so our added fields never swallow the body.
func readHeaderBlock(br *bufio.Reader, max int) (hdr, body []byte, err error) {
	var b bytes.Buffer
	for {
		line, err := readLine(br, max-b.Len())
		if err != nil {
			if err == io.EOF {
				return append(b.Bytes(), line...), nil, nil
			}
			return nil, nil, err
		}
		switch {
		case len(line) == 2 && line[0] == '\r': // the blank line
			b.Write(line)
			return b.Bytes(), nil, nil
		case (line[0] == ' ' || line[0] == '\t') && b.Len() > 0: // continuation
			b.Write(line)
		case isFieldLine(line):
			b.Write(line)
		default:
			if b.Len() == 0 {
				return nil, line, nil
			}
			b.WriteString("\r\n")
			return b.Bytes(), line, nil
		}
	}
}

// readLine reads one CRLF line of at most max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > max {
			return nil, errHeaderTooLarge
		}
		line = append(line, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(line) > 0 {
			return line, io.EOF
		}
		return line, err
	}
}

// isFieldLine reports whether line starts with an RFC 5322 field name and a
// colon.
func isFieldLine(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	for _, c := range line[:i] {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// hasField reports whether the header block has a field named name (case
// insensitive), looking only at field starts, not continuation lines.
func hasField(hdr []byte, name string) bool {
	for len(hdr) > 0 {
		line := hdr
		if i := bytes.IndexByte(hdr, '\n'); i >= 0 {
			line, hdr = hdr[:i+1], hdr[i+1:]
		} else {
			hdr = nil
		}
		if len(line) > len(name) && line[len(name)] == ':' && strings.EqualFold(string(line[:len(name)]), name) {
			return true
		}
	}
	return false
}
