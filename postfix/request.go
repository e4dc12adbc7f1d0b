package postfix

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Bounds on one policy request. Postfix's own requests are a few hundred
// bytes (about 40 attributes; an address is at most a few hundred
// characters); anything past these is not Postfix, or not sane.
const (
	// MaxLineBytes bounds one name=value line, newline included.
	MaxLineBytes = 4096
	// MaxRequestBytes bounds a whole request.
	MaxRequestBytes = 64 << 10
	// MaxAttributes bounds the lines of a request.
	MaxAttributes = 256
)

// Errors of ReadRequest. A request that breaks a bound cannot be resynced
// (where would the next one start?), so the connection is answered once
// and closed.
var (
	ErrLineTooLong    = errors.New("policy request line too long")
	ErrRequestTooLong = errors.New("policy request too large")
	ErrMalformed      = errors.New("malformed policy request")
)

// Request is one policy request: the attributes Postfix sent, by name.
// A name sent twice keeps its last value, as Postfix's own servers do.
type Request map[string]string

// ReadRequest reads one request: name=value lines ended by an empty line
// (SMTPD_POLICY_README). It returns io.EOF when the client closed the
// connection between requests, io.ErrUnexpectedEOF when it closed in the
// middle of one. Lines may end with LF or CRLF.
func ReadRequest(r *bufio.Reader) (Request, error) {
	req := Request{}
	total, lines := 0, 0
	for {
		line, err := readLine(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				if lines == 0 {
					return nil, io.EOF
				}
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		total += len(line) + 1
		if total > MaxRequestBytes {
			return nil, ErrRequestTooLong
		}
		if len(line) == 0 {
			if lines == 0 {
				continue // stray empty lines between requests
			}
			return req, nil
		}
		lines++
		if lines > MaxAttributes {
			return nil, ErrRequestTooLong
		}
		name, value, ok := bytes.Cut(line, []byte{'='})
		if !ok || len(name) == 0 {
			return nil, fmt.Errorf("%w: line %d is not name=value", ErrMalformed, lines)
		}
		if bytes.IndexByte(line, 0) >= 0 {
			return nil, fmt.Errorf("%w: NUL byte in line %d", ErrMalformed, lines)
		}
		req[string(name)] = string(value)
	}
}

// readLine reads one line without its LF (or CRLF), at most MaxLineBytes.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > MaxLineBytes {
			return nil, ErrLineTooLong
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}
