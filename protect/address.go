package protect

import (
	"mime"
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// The IDNA profiles a sender domain is converted with: UTS #46
// non-transitional (today's browsers and resolvers) and transitional
// (older ones, where "ß" is "ss"). A Unicode domain that either maps to a
// verified name is judged as that name.
var (
	idnaLookup       = idna.Lookup
	idnaTransitional = idna.New(idna.MapForLookup(), idna.Transitional(true), idna.BidiRule())
)

// senderDomains is the domain of addr as the directory names domains:
// the part after the last '@', lowercase ASCII without trailing dots, with
// Unicode labels as A-labels (xn--). A name whose two IDNA forms differ
// gives both. An address literal ([192.0.2.1]) or no domain gives none.
//
// The last '@' is the domain's: the envelope parser unquotes local parts,
// so <"x@b.example"@a.example> arrives as x@b.example@a.example, whose
// domain is a.example, which is where the next hop will deliver its
// bounces and what a receiver's DMARC check will judge.
func senderDomains(addr string) []string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return nil
	}
	d := strings.TrimRight(strings.TrimSpace(addr[at+1:]), ".")
	if d == "" || d[0] == '[' {
		return nil
	}
	if isASCII(d) {
		return []string{strings.ToLower(d)}
	}
	var out []string
	for _, p := range []*idna.Profile{idnaLookup, idnaTransitional} {
		// On an error the profile still returns its best mapping; a name
		// it could not make ASCII matches no verified domain.
		s, _ := p.ToASCII(d)
		s = strings.ToLower(strings.TrimRight(s, "."))
		if s != "" && (len(out) == 0 || out[0] != s) {
			out = append(out, s)
		}
	}
	return out
}

// canonAddress is addr as logins and aliases are stored: lowercase, the
// local part unquoted (the parsers already did that), the domain in its
// first canonical form.
func canonAddress(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	ds := senderDomains(addr)
	if at < 0 || len(ds) == 0 {
		return strings.ToLower(addr)
	}
	return strings.ToLower(addr[:at]) + "@" + ds[0]
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// headerAddresses parses the addresses of an originator field (From,
// Sender, Resent-From or Resent-Sender: all the fields of that name, joined
// with ", "). ok is false when it does not
// parse; then addrs holds every "@domain" the text names as a lenient mail
// reader might read it: the raw text, the text without comments and white
// space (RFC 5322's obsolete syntax allows CFWS around '@' and the dots of
// a domain, so "ceo @ (x) b.example" is ceo@b.example to many readers,
// while Go's parser refuses it), and the text with RFC 2047 encoded words
// decoded. A check that refuses some domains can then still judge what a
// reader would show.
func headerAddresses(field string) (addrs []string, ok bool) {
	list, err := mail.ParseAddressList(field)
	if err == nil {
		for _, a := range list {
			addrs = append(addrs, a.Address)
		}
		return addrs, true
	}
	addrs = namedDomains(addrs, field)
	addrs = namedDomains(addrs, withoutCFWS(field))
	if dec, err := (&mime.WordDecoder{}).DecodeHeader(field); err == nil && dec != field {
		addrs = namedDomains(addrs, dec)
		addrs = namedDomains(addrs, withoutCFWS(dec))
	}
	return addrs, false
}

// namedDomains appends "x@" + every domain that follows an '@' in text.
func namedDomains(addrs []string, text string) []string {
	for rest := text; ; {
		i := strings.IndexByte(rest, '@')
		if i < 0 {
			return addrs
		}
		rest = rest[i+1:]
		end := strings.IndexAny(rest, " \t\r\n<>()[],;:\"'@\\")
		if end < 0 {
			end = len(rest)
		}
		if end > 0 {
			addrs = append(addrs, "x@"+rest[:end])
		}
	}
}

// withoutCFWS is text without its comments (nested parentheses, with
// quoted pairs) and without white space.
func withoutCFWS(text string) string {
	var b strings.Builder
	depth := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\\' && depth > 0:
			i++ // a quoted pair inside a comment
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0, c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
