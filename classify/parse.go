package classify

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode the charsets real mail uses, not only UTF-8 and ASCII
	"github.com/emersion/go-message/mail"
)

// document is what the engine reads out of one message: the few headers it
// scores, the decoded text of its text parts, and how the structure looked.
// Parsing never fails: what cannot be parsed is scored as text and flagged.
type document struct {
	header      message.Header // top-level header; empty when malformed
	subject     string
	fromName    string
	fromDomain  string
	fromLocal   string // the sender address' local part, lowercased
	replyDomain string
	mailer      string

	text  []byte   // decoded text/plain and tag-stripped text/html, parts separated by newlines
	html  []byte   // scratch: one HTML part before stripping
	hosts []string // hosts of the links found in HTML

	hasPlain, hasHTML bool
	images            int
	attachments       []string // lowercased file extensions (or media types) of attachments
	parts             int
	decoded           int // decoded bytes read so far, against MaxDecodedBytes

	unsubscribeText bool // the body has the word "unsubscribe"
	tricks          htmlTricks
	shortener       bool   // a link through a URL shortener
	zeroWidth       int    // invisible characters inside words (textStats.zeroWidth)
	mixedScript     int    // words mixing Latin and Cyrillic or Greek letters
	anchor          []byte // scratch: the text of the anchor being read

	// Header hygiene: a message a mail program wrote has a Date and a
	// Message-ID, well formed.
	hasDate, dateOK   bool
	hasMsgID, msgIDOK bool
	fp                fingerprinter

	truncated  bool // Raw was longer than MaxScanBytes, or the decoded text hit MaxDecodedBytes
	limitHit   bool // MaxDepth or MaxParts stopped the walk
	malformed  bool // an unparsable header, a broken multipart or corrupt transfer encoding
	badCharset bool // an unknown charset or transfer encoding
}

// reset readies a pooled document for the next message, keeping its buffers.
func (d *document) reset() {
	text, html, hosts, att, anchor := d.text[:0], d.html[:0], d.hosts[:0], d.attachments[:0], d.anchor[:0]
	pairs := d.tricks.linkTextHosts[:0]
	*d = document{text: text, html: html, hosts: hosts, attachments: att, anchor: anchor}
	d.tricks.linkTextHosts = pairs
	d.fp.reset()
}

// parse reads raw into d within caps.
func (d *document) parse(raw []byte, caps Caps) {
	raw = stripMboxLine(raw)
	if len(raw) > caps.MaxScanBytes {
		raw, d.truncated = raw[:caps.MaxScanBytes], true
	}
	e, err := message.ReadWithOptions(bytes.NewReader(raw), &message.ReadOptions{MaxHeaderBytes: int64(caps.MaxScanBytes)})
	if e == nil {
		// No header could be read (garbage, or a header cut by the cap):
		// the bytes are all there is, so score them as text.
		d.malformed = true
		d.appendText(bytes.NewReader(raw), caps)
		return
	}
	if err != nil {
		d.badCharset = true
	}
	d.header = e.Header
	d.readHeader(mail.Header{Header: e.Header})
	d.walk(e, 0, caps)
	if d.malformed && len(d.text) == 0 && !d.hasHTML {
		// The multipart reader gives up on a part whose closing boundary
		// is missing (a message cut short) before returning its text: score
		// the raw body rather than nothing.
		d.appendText(bytes.NewReader(bodyOf(raw)), caps)
	}
}

// bodyOf is what follows the first blank line of raw.
func bodyOf(raw []byte) []byte {
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(raw, []byte(sep)); i >= 0 {
			return raw[i+len(sep):]
		}
	}
	return nil
}

// stripMboxLine drops the "From sender date" envelope line an mbox (and the
// corpus) puts before the header.
func stripMboxLine(raw []byte) []byte {
	if !bytes.HasPrefix(raw, []byte("From ")) {
		return raw
	}
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		return raw[i+1:]
	}
	return nil
}

func (d *document) readHeader(h mail.Header) {
	if s, err := h.Subject(); err == nil {
		d.subject = s
	} else {
		d.subject = h.Get("Subject")
	}
	if from, err := h.AddressList("From"); err == nil && len(from) > 0 {
		d.fromName, d.fromDomain = from[0].Name, domainOf(from[0].Address)
		if i := strings.LastIndexByte(from[0].Address, '@'); i > 0 {
			d.fromLocal = strings.ToLower(from[0].Address[:i])
		}
	} else {
		d.fromName, d.fromDomain = h.Get("From"), domainOf(h.Get("From"))
	}
	if rt, err := h.AddressList("Reply-To"); err == nil && len(rt) > 0 {
		d.replyDomain = domainOf(rt[0].Address)
	}
	if v := h.Get("Date"); v != "" {
		d.hasDate = true
		d.dateOK = plausibleDate(v)
	}
	if v := strings.TrimSpace(h.Get("Message-Id")); v != "" {
		d.hasMsgID = true
		d.msgIDOK = validMessageID(v)
	}
	d.mailer = h.Get("X-Mailer")
	if d.mailer == "" {
		d.mailer = h.Get("User-Agent")
	}
}

// plausibleDate reports whether v has the parts of an RFC 5322 date — a
// day of the month, a month name, a year and a time — in any of the
// spellings mail programs have used. It does not allocate (net/mail's
// ParseDate does, on every layout it tries): it runs on every message.
func plausibleDate(v string) bool {
	var day, month, year, clock bool
	for f := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
		switch {
		case len(f) == 3 && monthName(f):
			month = true
		case allDigits(f) && len(f) <= 2 && !day:
			day = true
		case allDigits(f) && (len(f) == 4 || len(f) == 2):
			year = true
		case len(f) >= 5 && f[2] == ':' && allDigits(f[:2]) && allDigits(f[3:5]):
			clock = true
		}
	}
	return day && month && year && clock
}

func monthName(f string) bool {
	for _, m := range [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} {
		if strings.EqualFold(f, m) {
			return true
		}
	}
	return false
}

func allDigits(f string) bool {
	for i := 0; i < len(f); i++ {
		if f[i] < '0' || f[i] > '9' {
			return false
		}
	}
	return f != ""
}

// validMessageID reports whether v is one <left@right> identifier, as
// every mail program writes it.
func validMessageID(v string) bool {
	if len(v) < 5 || v[0] != '<' || v[len(v)-1] != '>' {
		return false
	}
	left, right, ok := strings.Cut(v[1:len(v)-1], "@")
	return ok && left != "" && right != "" && !strings.ContainsAny(right, "@<> ")
}

// domainOf is the lowercased part after the last @, without a closing >.
func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimRight(strings.TrimSpace(addr[i+1:]), ">"))
}

// walk visits e and its parts depth-first, within the depth and part caps.
func (d *document) walk(e *message.Entity, depth int, caps Caps) {
	d.parts++
	if d.parts > caps.MaxParts {
		d.limitHit = true
		return
	}
	if mr := e.MultipartReader(); mr != nil {
		if depth >= caps.MaxDepth {
			d.limitHit = true
			return
		}
		for !d.limitHit {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return
			}
			if p == nil {
				// A missing closing boundary (a truncated message) or a
				// broken part header: keep what was read.
				d.malformed = true
				return
			}
			if err != nil {
				d.badCharset = true
			}
			d.walk(p, depth+1, caps)
		}
		return
	}
	mediaType, params, _ := e.Header.ContentType()
	disp, dparams, _ := e.Header.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if disp == "attachment" || name != "" {
		d.attachments = append(d.attachments, attachmentKind(name, mediaType))
		return
	}
	switch {
	case mediaType == "" || mediaType == "text/plain":
		d.hasPlain = true
		d.appendText(e.Body, caps)
	case mediaType == "text/html":
		d.hasHTML = true
		d.appendHTML(e.Body, caps)
	case mediaType == "message/rfc822":
		// A forwarded message: its text is part of what is being sent.
		if depth >= caps.MaxDepth {
			d.limitHit = true
			return
		}
		inner, err := message.Read(e.Body)
		if inner == nil {
			d.malformed = true
			return
		}
		if err != nil {
			d.badCharset = true
		}
		d.walk(inner, depth+1, caps)
	case strings.HasPrefix(mediaType, "image/"):
		d.images++
	}
}

// attachmentKind names an attachment by its extension, or its media type
// when it has no name.
func attachmentKind(name, mediaType string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 && len(name)-i <= 6 {
		return strings.ToLower(name[i+1:])
	}
	if mediaType == "" {
		return "unknown"
	}
	return mediaType
}

// appendText appends the decoded text of r to d.text, at most up to the
// decoded cap, separated from earlier parts by a newline.
func (d *document) appendText(r io.Reader, caps Caps) {
	if len(d.text) > 0 {
		d.text = append(d.text, '\n')
	}
	d.text = d.readCapped(d.text, r, caps.MaxDecodedBytes)
}

// readCapped appends r to buf while the message's decoded bytes stay within
// maxDecoded. Reaching the cap sets truncated; a read error (corrupt base64,
// say) sets malformed. Either way what was read is kept.
func (d *document) readCapped(buf []byte, r io.Reader, maxDecoded int) []byte {
	limit := maxDecoded - d.decoded
	if limit <= 0 {
		d.truncated = true
		return buf
	}
	start, end := len(buf), len(buf)+limit
	defer func() { d.decoded += len(buf) - start }()
	for empty := 0; len(buf) < end; {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), end)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf
		}
		if err != nil {
			d.malformed = true
			return buf
		}
		if n == 0 {
			if empty++; empty > 100 { // a reader that never progresses
				d.malformed = true
				return buf
			}
		}
	}
	// The cap is reached: tell a part that ends exactly here from a longer one.
	var one [1]byte
	if n, _ := r.Read(one[:]); n > 0 {
		d.truncated = true
	}
	return buf
}
