package smtpd

import (
	"net/netip"
	"testing"
)

// The caps count an IPv6 client by its /64 (one subscriber) and its network
// by the /48; IPv4 by the address and the /24.
func TestConnectionKeys(t *testing.T) {
	for _, c := range []struct{ ip, addr, net string }{
		{"192.0.2.77", "192.0.2.77/32", "192.0.2.0/24"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64", "2001:db8:1::/48"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64", "2001:db8:1::/48"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64", "2001:db8:1::/48"},
	} {
		ip := netip.MustParseAddr(c.ip)
		if got := addrKey(ip).String(); got != c.addr {
			t.Errorf("addrKey(%s) = %s, want %s", c.ip, got, c.addr)
		}
		if got := netKey(ip).String(); got != c.net {
			t.Errorf("netKey(%s) = %s, want %s", c.ip, got, c.net)
		}
	}
	l := newConnLimiter(100, 2, 3, 80, timeouts{})
	for i, c := range []struct {
		ip, reason string
	}{
		{"2001:db8:1:2::1", ""}, {"2001:db8:1:2::2", ""}, {"2001:db8:1:2::3", "per_ip"}, // one /64
		{"2001:db8:1:5::1", ""}, {"2001:db8:1:6::1", "per_network"}, // one /48
		{"2001:db8:2::1", ""},
	} {
		ok, reason := l.acquire(netip.MustParseAddr(c.ip))
		if ok != (c.reason == "") || reason != c.reason {
			t.Fatalf("%d: acquire(%s) = %v %q, want %q", i, c.ip, ok, reason, c.reason)
		}
	}
}

// Every spelling of a login that reaches one account shares its throttle.
func TestUserKeyNormalised(t *testing.T) {
	want := userKey("user@demo.test")
	for _, v := range []string{"User@Demo.Test", " user@demo.test", "user@demo.test\t", "USER@DEMO.TEST "} {
		if got := userKey(v); got != want {
			t.Errorf("userKey(%q) = %q, want %q", v, got, want)
		}
	}
}
