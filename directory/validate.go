package directory

import (
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// invalid wraps ErrInvalid with what was being done and why.
func invalid(what string, reason error) error {
	return fmt.Errorf("%s: %w: %v", what, ErrInvalid, reason)
}

// checkName validates a display name (tenant, connector, creator).
func checkName(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errors.New("name is empty")
	case !utf8.ValidString(s):
		return "", errors.New("name is not valid UTF-8")
	case utf8.RuneCountInString(s) > 128:
		return "", errors.New("name is longer than 128 characters")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", errors.New("name contains control characters")
	}
	return s, nil
}

// normDomain returns the lowercase form of an ASCII domain name without a
// trailing dot. Internationalised names must be given in A-label (xn--)
// form: converting them needs golang.org/x/text, which the module does not
// require yet.
func normDomain(s string) (string, error) {
	d := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	if d == "" {
		return "", errors.New("domain is empty")
	}
	if len(d) > 253 {
		return "", errors.New("domain is longer than 253 characters")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", errors.New("domain needs at least two labels, like example.com")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", fmt.Errorf("label %q must be 1 to 63 characters", l)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("label %q starts or ends with a hyphen", l)
		}
		for _, c := range l {
			if c >= utf8.RuneSelf {
				return "", fmt.Errorf("label %q is not ASCII: give internationalised names in their xn-- form", l)
			}
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", fmt.Errorf("label %q contains %q: only letters, digits and hyphens are allowed", l, c)
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", errors.New("top-level label is numeric: an IP address is not a domain")
	}
	return d, nil
}

// normAddress returns a bare address (user@example.com), lowercased, and its
// domain. Logins are case-insensitive, so "User@Example.com" and
// "user@example.com" are one user.
func normAddress(s string) (addr, domain string, err error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", "", fmt.Errorf("address: %v", err)
	}
	if a.Name != "" || a.Address != s {
		return "", "", errors.New("want a bare address like user@example.com")
	}
	at := strings.LastIndexByte(s, '@')
	local := strings.ToLower(s[:at])
	if len(local) > 64 {
		return "", "", errors.New("local part is longer than 64 characters")
	}
	if domain, err = normDomain(s[at+1:]); err != nil {
		return "", "", err
	}
	return local + "@" + domain, domain, nil
}

// checkPassword bounds secrets: long enough to resist guessing, short enough
// that hashing them costs nothing extra.
func checkPassword(pw string) error {
	if len(pw) < 8 || len(pw) > 1024 {
		return errors.New("password must be 8 to 1024 bytes")
	}
	return nil
}

// Ranges broader than these would attribute large parts of the internet to
// one tenant, which is an open relay by another name.
const (
	minBits4 = 8
	minBits6 = 32
)

// normPrefixes masks, unmaps (::ffff:192.0.2.0/120 becomes 192.0.2.0/24),
// sorts and deduplicates ranges.
func normPrefixes(in []netip.Prefix) ([]netip.Prefix, error) {
	if len(in) == 0 {
		return nil, errors.New("no IP ranges")
	}
	out := make([]netip.Prefix, 0, len(in))
	for _, p := range in {
		if !p.IsValid() {
			return nil, fmt.Errorf("range %q is not a valid CIDR prefix", p.String())
		}
		a, bits := p.Addr().WithZone(""), p.Bits()
		if a.Is4In6() && bits >= 96 {
			a, bits = a.Unmap(), bits-96
		}
		p = netip.PrefixFrom(a, bits).Masked()
		if a.Is4() && bits < minBits4 || a.Is6() && bits < minBits6 {
			return nil, fmt.Errorf("range %s is too broad (at most /%d for IPv4, /%d for IPv6)", p, minBits4, minBits6)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, comparePrefix)
	return slices.Compact(out), nil
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}
