package nexthop

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	internal := map[string]string{
		"127.0.0.1": "loopback", "127.255.0.9": "loopback", "::1": "loopback",
		"10.0.0.1": "RFC 1918", "172.16.0.1": "RFC 1918", "172.31.255.255": "RFC 1918", "192.168.1.1": "RFC 1918",
		"fc00::1": "RFC 4193", "fd12:3456::1": "RFC 4193",
		"169.254.1.1": "link-local", "fe80::1": "link-local",
		"100.64.0.1": "CGNAT", "100.127.255.254": "CGNAT",
		"0.0.0.0": "unspecified", "::": "unspecified",
		"224.0.0.1": "multicast", "239.1.2.3": "multicast", "ff02::1": "multicast",
		"198.18.0.1": "benchmarking", "198.19.255.1": "benchmarking", "2001:2::1": "benchmarking",
		"192.0.2.1": "documentation", "198.51.100.7": "documentation", "203.0.113.9": "documentation", "2001:db8::25": "documentation",
		"169.254.169.254": "metadata", "fd00:ec2::254": "metadata",
		"255.255.255.255": "reserved", "240.0.0.1": "reserved",
		"::ffff:127.0.0.1": "loopback", "::ffff:10.1.2.3": "RFC 1918", "64:ff9b::a00:1": "RFC 1918", "64:ff9b::a9fe:a9fe": "metadata",
		"fe80::1%eth0": "link-local",
	}
	for s, want := range internal {
		got := Classify(netip.MustParseAddr(s))
		if got == "" || !strings.Contains(got, want) {
			t.Errorf("%s: got %q, want a kind naming %q", s, got, want)
		}
	}
	for _, s := range []string{"1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "192.0.3.1", "2a00:1450::1", "64:ff9b::808:808", "::ffff:8.8.4.4"} {
		if got := Classify(netip.MustParseAddr(s)); got != "" {
			t.Errorf("%s is public, got %q", s, got)
		}
	}
	if Classify(netip.Addr{}) == "" {
		t.Error("the zero address is public")
	}
}

func TestGuardAllows(t *testing.T) {
	allowed, err := ParsePrefixes([]string{"10.1.0.0/16", "127.0.0.1", " ::1 "})
	if err != nil {
		t.Fatal(err)
	}
	g := Guard{Allowed: allowed}
	for _, s := range []string{"10.1.2.3", "127.0.0.1", "::1", "::ffff:127.0.0.1", "8.8.8.8"} {
		if err := g.Check(netip.MustParseAddr(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"10.2.0.1", "127.0.0.2", "169.254.169.254"} {
		var r *Refusal
		if err := g.Check(netip.MustParseAddr(s)); !errors.As(err, &r) || r.Kind == "" {
			t.Errorf("%s: want a refusal, got %v", s, err)
		}
	}
	if _, err := ParsePrefixes([]string{"10.0.0.0/8", "nope"}); err == nil || !strings.Contains(err.Error(), "entry 1") {
		t.Fatalf("bad entry: %v", err)
	}
}

func TestLiteral(t *testing.T) {
	cases := []struct {
		in      string
		ip      string
		literal bool
		bad     bool
	}{
		{"example.com", "", false, false},
		{"[127.0.0.1]", "127.0.0.1", true, false},
		{"[IPv6:::1]", "::1", true, false},
		{"[ipv6:fd00:ec2::254]", "fd00:ec2::254", true, false},
		{"[::1]", "", true, true},
		{"[IPv6:127.0.0.1]", "", true, true},
		{"[127.000.000.001]", "", true, true},
		{"[x-tag:anything]", "", true, true},
		{"[IPv6:fe80::1%eth0]", "", true, true},
	}
	for _, c := range cases {
		ip, lit, err := Literal(c.in)
		if lit != c.literal || (err != nil) != c.bad || (c.ip != "" && ip.String() != c.ip) {
			t.Errorf("%s: got %v %v %v", c.in, ip, lit, err)
		}
	}
}
