package dsn

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tollgate-mail/tollgate/address"
)

// Limits from RFC 5322 section 2.1.1 and our own sense of proportion.
const (
	maxLine  = 998  // octets on one line, without the CRLF
	maxValue = 2048 // octets kept of one value from untrusted input (a reply, an address)
)

// oneLine returns s as one line of valid UTF-8. Remote replies and addresses
// are untrusted: a CR or LF in them would start a new header field in the
// delivery-status part (or a new MIME boundary), so every control character,
// line separator and run of white space becomes one space.
func oneLine(s string) string {
	if len(s) > 4*maxValue {
		s = s[:4*maxValue] // do not spend time on what truncate drops anyway
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, c := range s {
		if isControl(c) || unicode.IsSpace(c) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(c)
	}
	return truncate(b.String(), maxValue)
}

func isControl(c rune) bool {
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == '\u2028' || c == '\u2029'
}

// truncate cuts s to at most n octets plus "...", on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// asciiValue is oneLine with every non-ASCII character written as \x{HEX},
// the RFC 6533 escape. The message/delivery-status part is 7-bit text, and
// an escaped code point still tells an admin what the remote server said.
func asciiValue(s string) string {
	s = oneLine(s)
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if c < utf8.RuneSelf {
			b.WriteRune(c)
		} else {
			fmt.Fprintf(&b, `\x{%X}`, c)
		}
	}
	return truncate(b.String(), maxValue)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// bareAddress returns an envelope address without its angle brackets.
func bareAddress(s string) string {
	s = oneLine(s)
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// wireAddress is an envelope address as the DSN writes it (To, the
// Final-Recipient, the human text): its canonical form, the local part
// quoted where it must be, exactly as the next hop got it. One that does not
// parse (from a spool of an older version) is cleaned to one line and gets
// its local part quoted all the same, so a '>' or a space in it never reads
// as the end of the address.
func wireAddress(s string) string {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "<") && strings.HasSuffix(t, ">") {
		t = t[1 : len(t)-1]
	}
	if a, err := address.Parse(t); err == nil {
		return a.String()
	}
	t = bareAddress(s)
	at := strings.LastIndexByte(t, '@')
	if t == "" {
		return ""
	}
	if at < 0 {
		return address.QuoteLocal(t)
	}
	domain := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-[]:", c) || c >= utf8.RuneSelf {
			return c
		}
		return -1
	}, t[at+1:])
	return address.QuoteLocal(t[:at]) + "@" + domain
}

// addressValue formats an address for Final-Recipient or Original-Recipient:
// "rfc822; addr" for ASCII, else "utf-8; addr" in the 7-bit
// utf-8-addr-xtext form of RFC 6533 section 3.
func addressValue(addr string) string {
	if isASCII(addr) {
		return "rfc822; " + addr
	}
	var b strings.Builder
	for _, c := range addr {
		if c > ' ' && c < 0x7f && c != '+' && c != '=' && c != '\\' {
			b.WriteRune(c)
		} else {
			fmt.Fprintf(&b, `\x{%X}`, c)
		}
	}
	return "utf-8; " + b.String()
}

// originalValue formats an ORCPT (RFC 3461) for Original-Recipient. The
// client may have given "type;address" or, as go-smtp hands it over, only
// the decoded address; both work.
func originalValue(orcpt string) string {
	s := oneLine(orcpt)
	if i := strings.IndexByte(s, ';'); i > 0 && isAtom(s[:i]) {
		typ := strings.ToLower(s[:i])
		addr := bareAddress(s[i+1:])
		if addr == "" {
			return ""
		}
		if typ != "rfc822" {
			return typ + "; " + asciiValue(addr)
		}
		s = addr
	}
	s = bareAddress(s)
	if s == "" {
		return ""
	}
	return addressValue(s)
}

func isAtom(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// fieldKey turns an Extra key into the tail of an "X-Tollgate-" field name:
// only letters, digits and hyphens survive, and it stays short enough that
// go-message's header folding always has room on the first line.
func fieldKey(k string) string {
	var b strings.Builder
	for _, c := range k {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteRune(c)
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	return s
}

// writeLines copies src to w with every line ending as CRLF and no line
// longer than maxLine octets, so the output is valid 7bit/8bit MIME and
// carries no bare CR or LF (an SMTP smuggling vector at the next hop).
//
// In a header block (header true) only LF ends a line: a stray CR, like any
// other control character but TAB, becomes a space, and an overlong line is
// folded with a leading space so it stays part of its field. In a body a
// bare CR ends a line too, NUL becomes a space (RFC 2045 forbids it in 7bit
// and 8bit data) and an overlong line is split, never inside a UTF-8 sequence.
func writeLines(w io.Writer, src []byte, header bool) error {
	// Room for the CRs added to bare LFs; flushed at 32 KiB.
	out := make([]byte, 0, min(len(src)+len(src)/64+64, 32<<10))
	n := 0 // octets on the current output line
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			out = append(out, '\r', '\n')
			n = 0
			continue
		case c == '\r' && i+1 < len(src) && src[i+1] == '\n':
			continue // the LF ends the line
		case c == '\r' && !header:
			out = append(out, '\r', '\n')
			n = 0
			continue
		case header && (c < 0x20 && c != '\t' || c == 0x7f):
			c = ' '
		case c == 0:
			c = ' '
		}
		if n >= maxLine || (n >= maxLine-3 && c >= 0xc0) {
			out = append(out, '\r', '\n')
			n = 0
			if header {
				out = append(out, ' ')
				n = 1
			}
		}
		out = append(out, c)
		n++
		if len(out) >= cap(out)-8 {
			if _, err := w.Write(out); err != nil {
				return err
			}
			out = out[:0]
		}
	}
	_, err := w.Write(out)
	return err
}

// has8bit reports whether b needs an 8bit (not 7bit) transfer encoding.
func has8bit(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}
