package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// The typed values of the file. Each is parsed once, when the file is
// read, so the rest of Tollgate takes netip and time values and never
// re-parses a string the config already checked. A bad value fails the
// load with the key's name (see LoadFile).

// Duration is a time.Duration written as "30s", "5m" or "1h30m" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration (use e.g. 30s, 5m, 1h): %q", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// D is shorthand for a Duration literal.
func D(v time.Duration) Duration { return Duration{v} }

// Durations returns the time.Duration values of ds.
func Durations(ds []Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Duration
	}
	return out
}

// Prefixes is a list of CIDRs or single addresses in TOML (a bare address
// is its own /32 or /128), e.g. ["10.0.0.0/8", "192.0.2.7"]. A file's list
// replaces the default one. A CIDR with host bits set ("10.1.2.3/8") is
// refused rather than masked: it is more likely a typo than a wish to list
// 10.0.0.0/8. IPv4-mapped IPv6 is read as IPv4, as client addresses are.
type Prefixes []netip.Prefix

// UnmarshalTOML reads the list, naming the first bad entry by its index.
func (p *Prefixes) UnmarshalTOML(v any) error {
	strs, err := stringList(v)
	if err != nil {
		return err
	}
	out := make(Prefixes, 0, len(strs))
	for i, s := range strs {
		pfx, err := parsePrefix(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		out = append(out, pfx)
	}
	*p = out
	return nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("%s has host bits set; did you mean %s?", s, p.Masked())
	}
	return p, nil
}

// MarshalTOML writes the list back as TOML strings.
func (p Prefixes) MarshalTOML() ([]byte, error) {
	return quotedList(p)
}

// Addrs is a list of IP addresses in TOML, e.g. ["192.0.2.7", "2001:db8::7"].
type Addrs []netip.Addr

// UnmarshalTOML reads the list, naming the first bad entry by its index.
func (a *Addrs) UnmarshalTOML(v any) error {
	strs, err := stringList(v)
	if err != nil {
		return err
	}
	out := make(Addrs, 0, len(strs))
	for i, s := range strs {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("entry %d: %q is not an IP address", i, s)
		}
		out = append(out, ip)
	}
	*a = out
	return nil
}

// MarshalTOML writes the list back as TOML strings.
func (a Addrs) MarshalTOML() ([]byte, error) {
	return quotedList(a)
}

func stringList(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be a list of strings, got %T", v)
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("entry %d: must be a string, got %T", i, e)
		}
		out[i] = s
	}
	return out, nil
}

func quotedList[T fmt.Stringer](list []T) ([]byte, error) {
	b := []byte{'['}
	for i, e := range list {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "%q", e.String())
	}
	return append(b, ']'), nil
}
