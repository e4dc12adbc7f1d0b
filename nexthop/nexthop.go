// Package nexthop says which IP addresses Tollgate may hand mail to. A tenant
// chooses its recipients, and so, through DNS it controls, the hosts its mail
// is delivered to: an address literal (RCPT TO:<x@[127.0.0.1]>) or an MX
// record pointing at 10.0.0.1 or 169.254.169.254 would make the gateway a
// probe of the operator's internal network, with the internal server's
// replies shown back in the tenant's trace. Delivery refuses every address
// in a loopback, private, link-local, shared (CGNAT), metadata, multicast or
// otherwise reserved range unless the operator allowed it (a smarthost set-up
// delivers to internal hosts on purpose).
//
// The front end (address literals at RCPT) and delivery (MX and A results,
// before any connection is made) share this one list.
package nexthop

import (
	"fmt"
	"net/netip"
	"strings"
)

// reserved are the ranges no public mail server lives in, each with the
// words a refusal uses for it. Order matters: the first match names the
// range, so the cloud metadata addresses come before the ranges around them.
var reserved = []struct {
	prefix netip.Prefix
	kind   string
}{
	{pfx("169.254.169.254/32"), "cloud metadata address"},
	{pfx("fd00:ec2::254/128"), "cloud metadata address"},
	{pfx("0.0.0.0/8"), "unspecified address (\"this network\", RFC 1122)"},
	{pfx("127.0.0.0/8"), "loopback address"},
	{pfx("10.0.0.0/8"), "private address (RFC 1918)"},
	{pfx("172.16.0.0/12"), "private address (RFC 1918)"},
	{pfx("192.168.0.0/16"), "private address (RFC 1918)"},
	{pfx("100.64.0.0/10"), "shared address (CGNAT, RFC 6598)"},
	{pfx("169.254.0.0/16"), "link-local address"},
	{pfx("192.0.0.0/24"), "IETF protocol assignment (RFC 6890)"},
	{pfx("192.0.2.0/24"), "documentation address (RFC 5737)"},
	{pfx("198.51.100.0/24"), "documentation address (RFC 5737)"},
	{pfx("203.0.113.0/24"), "documentation address (RFC 5737)"},
	{pfx("198.18.0.0/15"), "benchmarking address (RFC 2544)"},
	{pfx("224.0.0.0/4"), "multicast address"},
	{pfx("240.0.0.0/4"), "reserved address (RFC 1112)"}, // includes 255.255.255.255
	{pfx("::/128"), "unspecified address"},
	{pfx("::1/128"), "loopback address"},
	{pfx("fc00::/7"), "unique local address (RFC 4193)"},
	{pfx("fe80::/10"), "link-local address"},
	{pfx("fec0::/10"), "site-local address (deprecated, RFC 3879)"},
	{pfx("ff00::/8"), "multicast address"},
	{pfx("100::/64"), "discard-only address (RFC 6666)"},
	{pfx("2001:db8::/32"), "documentation address (RFC 3849)"},
	{pfx("2001:2::/48"), "benchmarking address (RFC 5180)"},
	{pfx("64:ff9b:1::/48"), "local-use NAT64 address (RFC 8215)"},
}

// nat64 is the well-known NAT64 prefix (RFC 6052): its last 32 bits are an
// IPv4 address the translator connects to, judged as that address.
var nat64 = pfx("64:ff9b::/96")

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// Classify returns what kind of reserved address ip is ("loopback
// address", "private address (RFC 1918)", …), or "" for a public one.
// IPv4-mapped and NAT64 addresses are judged by the IPv4 address inside.
func Classify(ip netip.Addr) string {
	ip = ip.WithZone("")
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if ip.Is6() && nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, r := range reserved {
		if r.prefix.Contains(ip) {
			return r.kind
		}
	}
	if !ip.IsValid() {
		return "invalid address"
	}
	return ""
}

// Guard decides whether delivery may connect to an address: every public
// address, and the reserved ones the operator allowed
// (delivery.allowed_internal_next_hops).
type Guard struct {
	Allowed []netip.Prefix
}

// Check returns nil when ip may be a next hop, else a *Refusal naming its
// range.
func (g Guard) Check(ip netip.Addr) error {
	kind := Classify(ip)
	if kind == "" {
		return nil
	}
	u := ip.WithZone("").Unmap()
	for _, p := range g.Allowed {
		if p.Contains(u) {
			return nil
		}
	}
	return &Refusal{Addr: u, Kind: kind}
}

// Refusal is the error for an address delivery will not connect to.
type Refusal struct {
	Host string // the MX or host name it came from; "" for an address literal
	Addr netip.Addr
	Kind string
}

func (r *Refusal) Error() string {
	if r.Host != "" && r.Host != r.Addr.String() {
		return fmt.Sprintf("%s resolves to %s, a %s", r.Host, r.Addr, r.Kind)
	}
	return fmt.Sprintf("%s is a %s", r.Addr, r.Kind)
}

// ParsePrefixes reads a list of CIDRs or single addresses (a bare address
// is its own /32 or /128), naming the first bad entry.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %q is not an IP address or CIDR", i, s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Literal returns the address of a recipient domain that is an address
// literal ("[192.0.2.1]", "[IPv6:2001:db8::1]"), ok false for a domain name,
// and an error for a literal that is not an IP address (RFC 5321's
// general address literals name no host Tollgate can deliver to).
func Literal(domain string) (ip netip.Addr, ok bool, err error) {
	if !strings.HasPrefix(domain, "[") || !strings.HasSuffix(domain, "]") {
		return netip.Addr{}, false, nil
	}
	inner := domain[1 : len(domain)-1]
	v6 := len(inner) >= 5 && strings.EqualFold(inner[:5], "IPv6:")
	if v6 {
		inner = inner[5:]
	}
	ip, err = netip.ParseAddr(inner)
	if err != nil || ip.Zone() != "" || ip.Is6() != v6 {
		return netip.Addr{}, true, fmt.Errorf("address literal %s is neither an IPv4 address nor \"IPv6:\" and an IPv6 address (RFC 5321 4.1.3)", domain)
	}
	return ip, true, nil
}
