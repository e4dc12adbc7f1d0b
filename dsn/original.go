package dsn

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"mime"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// maxHeaderBytes caps how much of the original is read for its header
// block. Anything larger is not a header anyone needs returned.
const maxHeaderBytes = 1 << 20

// original is what Compose learned from the spooled message: its parsed
// header (for the subject and Message-ID), the header block to return, and
// the body when the whole message goes back.
type original struct {
	header textproto.Header // the fields that could be parsed
	block  []byte           // those fields as they were written (raw, not yet normalised)
	body   []byte           // the rest of the message; set only when returned in full
	full   bool             // attach as message/rfc822
	note   string           // for the human part: what is attached and, if not all, why
}

// Notes for the human-readable part about the third part.
const (
	noteFull       = "The original message is attached."
	noteHeaders    = "The header of the original message is attached."
	noteTooLarge   = "The original message was too large to return in full; only its header is attached."
	noteBigHeader  = "The header of the original message is very large; only its first part is attached."
	noteMalformed  = "The header of the original message is malformed; only the part that could be read is attached."
	noteNoHeader   = "The original message could not be attached: it has no readable header."
	noteNoOriginal = ""
)

// readOriginal reads what the DSN needs of src and no more: the header
// block (at most maxHeaderBytes) or, for RET=FULL, the whole message (at
// most maxBytes+1 bytes, to tell whether it fits). A malformed original is not an
// error: the DSN goes out with whatever header could be read, or without
// the third part. Only a failure to read src is returned.
func readOriginal(src io.Reader, full bool, maxBytes int64) (*original, error) {
	if src == nil {
		return &original{note: noteNoOriginal}, nil
	}
	er := &errReader{r: src}
	if !full {
		o, _ := parseHeader(io.LimitReader(er, maxHeaderBytes+1))
		if er.err != nil {
			return nil, er.err
		}
		o.note = headerNote(o, noteHeaders)
		return o, nil
	}

	limit := maxBytes
	if limit < math.MaxInt64 {
		limit++ // one byte more than allowed tells "too large" from "just fits"
	}
	buf, err := io.ReadAll(io.LimitReader(er, limit))
	if err != nil {
		return nil, err
	}
	head := buf
	if len(head) > maxHeaderBytes+1 {
		head = head[:maxHeaderBytes+1]
	}
	o, n := parseHeader(bytes.NewReader(head))
	switch {
	case int64(len(buf)) > maxBytes:
		o.note = headerNote(o, noteTooLarge)
	case o.note != "" || len(o.block) == 0:
		o.note = headerNote(o, "")
	default:
		o.full = true
		o.body = buf[n:]
		o.note = noteFull
	}
	return o, nil
}

// parseHeader reads a header block with go-message's textproto, from a
// reader that stops after maxHeaderBytes+1 bytes. It also returns how many
// bytes the block used, including the blank line that ends it, so a full
// return knows where the body starts. o.note is set when the header is
// incomplete: malformed, or over maxHeaderBytes.
func parseHeader(src io.Reader) (o *original, n int) {
	lr := &countReader{r: src}
	br := bufio.NewReader(lr)
	h, err := textproto.ReadHeader(br)
	o = &original{header: h}
	n = lr.n - br.Buffered()
	switch {
	case n > maxHeaderBytes:
		o.note = noteBigHeader
	case err != nil:
		o.note = noteMalformed
	}
	var raws [][]byte
	for f := h.Fields(); f.Next(); {
		if raw, err := f.Raw(); err == nil {
			raws = append(raws, raw)
		}
	}
	if o.note == noteBigHeader && len(raws) > 0 {
		raws = raws[:len(raws)-1] // the cap may have cut the last field short
	}
	o.block = bytes.Join(raws, nil)
	return o, n
}

// headerNote is the note for a headers-only return: ok when the header was
// read whole, the parse problem when not, and no attachment at all when not
// one field could be read.
func headerNote(o *original, ok string) string {
	switch {
	case len(o.block) == 0:
		return noteNoHeader
	case o.note != "":
		return o.note
	}
	return ok
}

// subject is the original's Subject, decoded from RFC 2047 when possible,
// as one line of plain text.
func (o *original) subject() string {
	h := message.Header{Header: o.header}
	s, err := h.Text("Subject")
	if err != nil {
		s = h.Get("Subject")
	}
	return truncate(oneLine(s), 200)
}

// messageID is the original's Message-ID ("<...>"), or "" when it has none
// usable in In-Reply-To: no white space, no control characters, not huge.
func (o *original) messageID() string {
	v := o.header.Get("Message-Id")
	i := strings.IndexByte(v, '<')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(v[i:], '>')
	if j < 2 || j > 250 {
		return ""
	}
	id := v[i : i+j+1]
	for k := 1; k < len(id)-1; k++ {
		if c := id[k]; c <= ' ' || c >= 0x7f || c == '<' {
			return ""
		}
	}
	return id
}

// originalHeader is the third part's header, or false when nothing of the
// original can be returned.
func originalHeader(o *original) (message.Header, bool) {
	if len(o.block) == 0 {
		return message.Header{}, false
	}
	var fs fields
	switch {
	case o.full:
		fs.add("Content-Description", "Undelivered message")
		fs.add("Content-Type", "message/rfc822")
		if has8bit(o.block) || has8bit(o.body) {
			fs.add("Content-Transfer-Encoding", "8bit")
		} else {
			fs.add("Content-Transfer-Encoding", "7bit")
		}
	case has8bit(o.block):
		// text/rfc822-headers is a text type, so unlike message/rfc822 it
		// can be quoted-printable: the DSN stays 7-bit.
		fs.add("Content-Description", "Undelivered message headers")
		fs.add("Content-Type", mime.FormatMediaType("text/rfc822-headers", map[string]string{"charset": "utf-8"}))
		fs.add("Content-Transfer-Encoding", "quoted-printable")
	default:
		fs.add("Content-Description", "Undelivered message headers")
		fs.add("Content-Type", "text/rfc822-headers")
		fs.add("Content-Transfer-Encoding", "7bit")
	}
	return fs.message(), true
}

// writeTo writes the third part's body: the header block, and for a full
// return the blank line and the body, all normalised by writeLines.
func (o *original) writeTo(w io.Writer) error {
	if err := writeLines(w, o.block, true); err != nil {
		return err
	}
	if !o.full {
		return nil
	}
	if _, err := io.WriteString(w, "\r\n"); err != nil {
		return err
	}
	return writeLines(w, o.body, false)
}

// errReader remembers the first read error other than io.EOF, so a failing
// spool read is told apart from a malformed header (which ReadHeader also
// reports as an error).
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
