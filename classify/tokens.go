package classify

import (
	"bytes"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Word limits: shorter words carry no signal, longer ones are base64 or
// hashes that never repeat.
const (
	minWordBytes = 2
	maxWordBytes = 32
	maxHosts     = 64 // link hosts kept per message
)

// textStats are the counts a scan of text gathers on the way, for rules.
type textStats struct {
	words, letters, upper int
	urls                  int
	// zeroWidth counts invisible format characters (zero-width space,
	// joiners, word joiner, BOM, soft hyphen) between two letters: they
	// split a word for a filter and not for a reader. They are dropped, so
	// the word is scored as the reader sees it.
	zeroWidth int
	// mixedScript counts words that mix Latin letters with Cyrillic or
	// Greek ones (look-alike letters: "Аррlе" with Cyrillic А, р).
	mixedScript int
}

// scanText calls word with each word of text, lowercased into scratch (the
// slice is only valid during the call), and url with the host of each
// http(s):// or www. link; a link's path is not split into words. Words are
// runs of letters and digits (any script), with $ kept ("$100") and
// apostrophes dropped ("don't" is "dont"); all-digit words over four digits
// are skipped (phone numbers, ids).
func scanText(text []byte, scratch []byte, st *textStats, word func([]byte), url func(string)) []byte {
	w := scratch[:0]
	digits := true
	latin, other := false, false // the word's scripts, for mixedScript
	flush := func() {
		if latin && other {
			st.mixedScript++
		}
		if len(w) >= minWordBytes && len(w) <= maxWordBytes && !(digits && len(w) > 4) {
			st.words++
			word(w)
		}
		w, digits, latin, other = w[:0], true, false, false
	}
	for i := 0; i < len(text); {
		c := text[i]
		if len(w) == 0 && (c|0x20 == 'h' || c|0x20 == 'w') && isLinkStart(text[i:]) {
			end := linkEnd(text, i)
			if h := urlHost(text[i:end]); h != "" {
				st.urls++
				url(h)
			}
			i = end
			continue
		}
		if c < utf8.RuneSelf {
			switch {
			case 'a' <= c && c <= 'z':
				w, digits, latin = append(w, c), false, true
				st.letters++
			case 'A' <= c && c <= 'Z':
				w, digits, latin = append(w, c+'a'-'A'), false, true
				st.letters++
				st.upper++
			case '0' <= c && c <= '9':
				w = append(w, c)
			case c == '$':
				w, digits = append(w, c), false
			case c == '\'':
				// inside a word: dropped; elsewhere: a separator
				if len(w) == 0 {
					flush()
				}
			default:
				flush()
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(text[i:])
		i += size
		switch {
		case isZeroWidth(r):
			if len(w) > 0 && i < len(text) && startsWithLetter(text[i:]) {
				st.zeroWidth++
				continue // inside a word: dropped, the word goes on
			}
			flush()
		case unicode.IsLetter(r):
			st.letters++
			if unicode.IsUpper(r) {
				st.upper++
			}
			if r < 0x250 {
				latin = true
			} else if unicode.In(r, unicode.Cyrillic, unicode.Greek) {
				other = true
			}
			w, digits = utf8.AppendRune(w, unicode.ToLower(r)), false
		case unicode.IsDigit(r):
			w = utf8.AppendRune(w, r)
		default:
			flush()
		}
	}
	flush()
	return w
}

// isZeroWidth reports whether r is an invisible format character used to
// break words for filters.
func isZeroWidth(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad':
		return true
	}
	return false
}

// startsWithLetter reports whether b starts with a letter (any script).
func startsWithLetter(b []byte) bool {
	r, _ := utf8.DecodeRune(b)
	return unicode.IsLetter(r)
}

// isLinkStart reports whether b starts with http://, https:// or www.
// (any case).
func isLinkStart(b []byte) bool {
	return hasPrefixFold(b, "http://") || hasPrefixFold(b, "https://") || hasPrefixFold(b, "www.")
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

// linkEnd is the index where the link starting at i ends: the first space,
// quote or bracket.
func linkEnd(text []byte, i int) int {
	for j := i; j < len(text); j++ {
		switch text[j] {
		case ' ', '\t', '\r', '\n', '"', '\'', '<', '>', '(', ')':
			return j
		}
	}
	return len(text)
}

// urlHost is the lowercased host of an http(s) or scheme-less www. link, or
// "" for anything else (mailto:, relative links, garbage).
func urlHost(u []byte) string {
	u = bytes.TrimSpace(u)
	switch {
	case hasPrefixFold(u, "http://"):
		u = u[len("http://"):]
	case hasPrefixFold(u, "https://"):
		u = u[len("https://"):]
	case hasPrefixFold(u, "www."):
	default:
		return ""
	}
	if i := bytes.IndexAny(u, "/?#\\"); i >= 0 {
		u = u[:i]
	}
	if i := bytes.LastIndexByte(u, '@'); i >= 0 { // user:pass@host
		u = u[i+1:]
	}
	if len(u) > 0 && u[0] == '[' { // [IPv6]:port
		j := bytes.IndexByte(u, ']')
		if j < 0 {
			return ""
		}
		u = u[1:j]
	} else if i := bytes.LastIndexByte(u, ':'); i >= 0 { // host:port
		u = u[:i]
	}
	u = bytes.Trim(u, ".[]")
	if len(u) == 0 || len(u) > 253 {
		return ""
	}
	return strings.ToLower(string(u))
}

// isIPHost reports whether a link host is an IP literal, which legitimate
// senders rarely use.
func isIPHost(h string) bool {
	_, err := netip.ParseAddr(h)
	return err == nil
}
