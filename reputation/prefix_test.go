package reputation

import (
	"errors"
	"net/netip"
	"testing"
)

func TestParsePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7/32",
		" 192.0.2.0/24 ":       "192.0.2.0/24",
		"::ffff:192.0.2.7":     "192.0.2.7/32",
		"::ffff:192.0.2.0/120": "192.0.2.0/24",
		"2001:db8::1":          "2001:db8::1/128",
		"2001:db8::/32":        "2001:db8::/32",
		"0.0.0.0/0":            "0.0.0.0/0",
	} {
		p, err := ParsePrefix(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"", "example.com", "192.0.2.300", "10.1.2.3/8", "2001:db8::1/32", "fe80::1%eth0", "192.0.2.0/33"} {
		if p, err := ParsePrefix(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePrefix(%q) = %v, %v; want ErrInvalid", in, p, err)
		}
	}
}

// Longest prefix wins, v4 and v6 never mix, and the edges of a range are in
// it and one address past them is not.
func TestPrefixSet(t *testing.T) {
	var s prefixSet[string]
	for p, v := range map[string]string{
		"10.0.0.0/8": "wide", "10.1.0.0/16": "narrow", "10.1.2.3/32": "one",
		"2001:db8::/32": "v6-wide", "2001:db8:1::/48": "v6-narrow", "::/0": "v6-all",
	} {
		s.add(netip.MustParsePrefix(p), v)
	}
	for ip, want := range map[string]string{
		"10.0.0.0": "wide", "10.255.255.255": "wide", "10.1.0.0": "narrow", "10.1.255.255": "narrow",
		"10.1.2.3": "one", "10.1.2.4": "narrow", "11.0.0.0": "", "9.255.255.255": "",
		"2001:db8::1": "v6-wide", "2001:db8:1::": "v6-narrow", "2001:db8:1:ffff:ffff:ffff:ffff:ffff": "v6-narrow",
		"2001:db8:2::": "v6-wide", "2001:db9::": "v6-all",
	} {
		got, _, _ := s.lookup(netip.MustParseAddr(ip))
		if got != want {
			t.Errorf("lookup %s = %q, want %q", ip, got, want)
		}
	}
}

func TestReverseName(t *testing.T) {
	if got := reverseName(netip.MustParseAddr("192.0.2.7")); got != "7.2.0.192." {
		t.Errorf("v4: %s", got)
	}
	// The example of RFC 5782 section 2.4.
	want := "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4."
	if got := reverseName(netip.MustParseAddr("4321:0:1:2:3:4:567:89ab")); got != want {
		t.Errorf("v6: %s\nwant %s", got, want)
	}
}
