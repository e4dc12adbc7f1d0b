package reputation

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// ParsePrefix reads an IP ("192.0.2.7", "2001:db8::1") as a one-address
// prefix, or a CIDR ("192.0.2.0/24"). IPv4-mapped IPv6 is turned into IPv4,
// as client addresses are. A CIDR with host bits set is refused rather than
// masked: "10.1.2.3/8" is more likely a typo than a wish to list 10.0.0.0/8.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%w: %q is not an IP address or CIDR", ErrInvalid, s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%w: %q is not an IP address or CIDR", ErrInvalid, s)
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("%w: %s has host bits set; did you mean %s?", ErrInvalid, s, p.Masked())
	}
	return p, nil
}

// checkPrefix validates a prefix given as a value (not parsed here).
func checkPrefix(p netip.Prefix) error {
	if !p.IsValid() || p.Addr().Zone() != "" {
		return fmt.Errorf("%w: invalid prefix %s", ErrInvalid, p)
	}
	if p.Addr().Is4In6() {
		return fmt.Errorf("%w: %s is IPv4-mapped IPv6; give it as IPv4", ErrInvalid, p)
	}
	if p != p.Masked() {
		return fmt.Errorf("%w: %s has host bits set; did you mean %s?", ErrInvalid, p, p.Masked())
	}
	return nil
}

// prefixSet finds the longest prefix holding an address: one map lookup per
// prefix length in use, longest first, with no allocation.
type prefixSet[V any] struct {
	bits4, bits6 []int // the lengths present, longest first
	m            map[netip.Prefix]V
}

func (s *prefixSet[V]) add(p netip.Prefix, v V) {
	if s.m == nil {
		s.m = map[netip.Prefix]V{}
	}
	s.m[p] = v
	bits := &s.bits6
	if p.Addr().Is4() {
		bits = &s.bits4
	}
	if !slices.Contains(*bits, p.Bits()) {
		*bits = append(*bits, p.Bits())
		slices.SortFunc(*bits, func(a, b int) int { return b - a })
	}
}

// lookup returns the value of the longest prefix that holds ip (which must
// be unmapped).
func (s *prefixSet[V]) lookup(ip netip.Addr) (v V, p netip.Prefix, ok bool) {
	bits := s.bits6
	if ip.Is4() {
		bits = s.bits4
	}
	for _, b := range bits {
		p, _ := ip.Prefix(b)
		if v, ok := s.m[p]; ok {
			return v, p, true
		}
	}
	return v, netip.Prefix{}, false
}
