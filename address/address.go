// Package address is the envelope address: it parses an RFC 5321 mailbox
// as an SMTP path carries it and writes it back in one canonical wire form.
//
// Tollgate judges, stores, delivers and reports an address in that one
// form, so what the policy sees is exactly what the next hop, a DSN or an
// alert gets. The form matters: a local part such as
// `"x> AUTH=<ceo@b.example>"@a.example` holds a '>' and a space, and written
// without its quotes it ends the path and adds an SMTP parameter at the next
// hop. String quotes every local part that is not a Dot-string (RFC 5321
// section 4.1.2), escaping '"' and '\'; Parse refuses what no Quoted-string
// can carry (control characters, CR, LF, NUL, invalid UTF-8).
package address

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Address is one mailbox. The zero Address is the null reverse-path "<>".
type Address struct {
	// Local is the local part's characters, unquoted: `a b` for `"a b"@x`.
	Local string
	// Domain is a domain name (ASCII labels or, with SMTPUTF8, U-labels)
	// or an address literal with its brackets: "[192.0.2.1]",
	// "[IPv6:2001:db8::1]".
	Domain string
}

// Limits of RFC 5321 section 4.5.3.1, on the canonical form.
const (
	MaxLocal   = 64  // octets of the local part as written
	MaxDomain  = 255 // octets of the domain
	MaxMailbox = 254 // octets of local@domain: a path is at most 256 with its brackets
)

// Error is why a string is not an address Tollgate can carry.
type Error struct {
	Input  string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("%q: %s", e.Input, e.Reason) }

// ErrNull is returned by Parse for the empty string: the null reverse-path
// is valid only where ParseReversePath is used.
var ErrNull = errors.New("address: empty address")

// Parse parses a mailbox as it stands between a path's angle brackets,
// Local-part "@" ( Domain / address-literal ), with RFC 6531's UTF-8
// extensions. An unquoted local part may have dots where a Dot-string may
// not ("a..b", "a.", as some providers hand out); String quotes it.
func Parse(s string) (Address, error) {
	if s == "" {
		return Address{}, ErrNull
	}
	bad := func(reason string) (Address, error) { return Address{}, &Error{Input: s, Reason: reason} }
	if !utf8.ValidString(s) {
		return bad("not valid UTF-8")
	}
	var local strings.Builder
	rest := s
	if rest[0] == '"' {
		rest = rest[1:]
		for {
			if rest == "" {
				return bad("unterminated quoted local part")
			}
			r, n := utf8.DecodeRuneInString(rest)
			rest = rest[n:]
			if r == '"' {
				break
			}
			if r == '\\' {
				if rest == "" {
					return bad("unterminated quoted local part")
				}
				r, n = utf8.DecodeRuneInString(rest)
				rest = rest[n:]
				if r < ' ' || r > '~' { // quoted-pairSMTP is %d32-126
					return bad(fmt.Sprintf("character %U cannot be escaped in a local part", r))
				}
			} else if isControl(r) {
				return bad(fmt.Sprintf("control character %U in local part", r))
			}
			local.WriteRune(r)
		}
		if !strings.HasPrefix(rest, "@") {
			return bad("quoted local part not followed by @")
		}
	} else {
		i := strings.IndexByte(rest, '@')
		if i < 0 {
			return bad("no @")
		}
		for _, r := range rest[:i] {
			if !isAtext(r) && r != '.' {
				if isControl(r) {
					return bad(fmt.Sprintf("control character %U in local part", r))
				}
				return bad(fmt.Sprintf("character %q must be quoted in a local part", r))
			}
		}
		local.WriteString(rest[:i])
		rest = rest[i:]
	}
	a := Address{Local: local.String()}
	if a.Local == "" {
		return bad("empty local part")
	}
	dom, err := parseDomain(rest[1:])
	if err != nil {
		return bad(err.Error())
	}
	a.Domain = dom
	if err := a.checkLength(); err != nil {
		return bad(err.Error())
	}
	return a, nil
}

// ParseReversePath is Parse that also takes "" (or "<>") as the null
// reverse-path of MAIL FROM, which it returns as the zero Address.
func ParseReversePath(s string) (Address, error) {
	if s == "" || s == "<>" {
		return Address{}, nil
	}
	return Parse(s)
}

// New checks an already unquoted local part and a domain and returns them
// as an Address; it is for addresses that come from elsewhere (an RFC 5322
// parser) and are written on as envelope addresses.
func New(local, domain string) (Address, error) {
	in := local + "@" + domain
	bad := func(reason string) (Address, error) { return Address{}, &Error{Input: in, Reason: reason} }
	if local == "" {
		return bad("empty local part")
	}
	if !utf8.ValidString(local) {
		return bad("not valid UTF-8")
	}
	for _, r := range local {
		if isControl(r) {
			return bad(fmt.Sprintf("control character %U in local part", r))
		}
	}
	dom, err := parseDomain(domain)
	if err != nil {
		return bad(err.Error())
	}
	a := Address{Local: local, Domain: dom}
	if err := a.checkLength(); err != nil {
		return bad(err.Error())
	}
	return a, nil
}

func (a Address) checkLength() error {
	l := len(QuoteLocal(a.Local))
	switch {
	case l > MaxLocal:
		return fmt.Errorf("local part longer than %d octets", MaxLocal)
	case len(a.Domain) > MaxDomain:
		return fmt.Errorf("domain longer than %d octets", MaxDomain)
	case l+1+len(a.Domain) > MaxMailbox:
		return fmt.Errorf("address longer than %d octets", MaxMailbox)
	}
	return nil
}

// IsZero reports whether a is the null reverse-path.
func (a Address) IsZero() bool { return a.Local == "" && a.Domain == "" }

// String is the canonical wire form, local@domain with the local part
// quoted where it must be; "" for the null reverse-path. Parse(a.String())
// gives a back.
func (a Address) String() string {
	if a.IsZero() {
		return ""
	}
	return QuoteLocal(a.Local) + "@" + a.Domain
}

// Path is String in angle brackets, as MAIL FROM and RCPT TO write it:
// "<>" for the null reverse-path.
func (a Address) Path() string { return "<" + a.String() + ">" }

// ASCII reports whether the address is all ASCII; one that is not needs
// SMTPUTF8 (RFC 6531) at every hop.
func (a Address) ASCII() bool { return isASCII(a.Local) && isASCII(a.Domain) }

// QuoteLocal writes a local part as a Dot-string when it is one and as a
// Quoted-string otherwise, with '"' and '\' escaped.
func QuoteLocal(local string) string {
	if isDotString(local) {
		return local
	}
	var b strings.Builder
	b.Grow(len(local) + 2)
	b.WriteByte('"')
	for _, r := range local {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// isDotString reports whether s is Atom *("." Atom).
func isDotString(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if r != '.' && !isAtext(r) {
			return false
		}
	}
	return true
}

// isAtext is RFC 5322 atext with RFC 6531's UTF8-non-ascii.
func isAtext(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case r >= utf8.RuneSelf:
		return !isControl(r)
	}
	return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
}

// isControl is C0, DEL and C1: nothing a Quoted-string can carry, and
// nothing a DSN, a log line or a console should show.
func isControl(r rune) bool {
	return r < ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == utf8.RuneError
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// parseDomain checks a domain name or address literal and returns its
// canonical form: names as written, literals with the address in its
// standard text form and the tag spelled "IPv6:".
func parseDomain(d string) (string, error) {
	if d == "" {
		return "", errors.New("empty domain")
	}
	if d[0] == '[' {
		if d[len(d)-1] != ']' {
			return "", fmt.Errorf("bad address literal %q", d)
		}
		lit := d[1 : len(d)-1]
		v6 := len(lit) >= 5 && strings.EqualFold(lit[:5], "IPv6:")
		if v6 {
			lit = lit[5:]
		}
		ip, err := netip.ParseAddr(lit)
		if err != nil || ip.Zone() != "" || ip.Is4() == v6 {
			return "", fmt.Errorf("bad address literal %q", d)
		}
		if v6 {
			return "[IPv6:" + ip.String() + "]", nil
		}
		return "[" + ip.String() + "]", nil
	}
	if len(d) > MaxDomain {
		return "", fmt.Errorf("domain longer than %d octets", MaxDomain)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("bad domain %q", d)
		}
		for _, r := range label {
			ok := r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= utf8.RuneSelf
			if !ok {
				return "", fmt.Errorf("bad character %q in domain %q", r, d)
			}
		}
	}
	if !isASCII(d) {
		// U-labels (RFC 6531): only what IDNA accepts, so no control,
		// space or look-alike punctuation hides in a domain.
		if _, err := idna.Lookup.ToASCII(d); err != nil {
			return "", fmt.Errorf("bad internationalised domain %q: %v", d, err)
		}
	}
	return d, nil
}
