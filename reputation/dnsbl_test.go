package reputation

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/dnstest"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

const (
	zoneA = "bl.test"
	zoneB = "other.test"
	// 2001:db8::bad reversed in nibbles.
	v6Name = "d.a.b.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
)

func newTestDNSBL(t *testing.T, server string, zones ...string) *dnsbl {
	t.Helper()
	b, err := newDNSBL(DNSBLConfig{Zones: zones, Server: server, Timeout: 2 * time.Second,
		ListedTTL: 30 * time.Minute, NotListedTTL: 10 * time.Minute, ErrorTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Real queries to a DNS server on loopback: reversed octets for IPv4,
// nibbles for IPv6, 127.0.0.x is a listing, NXDOMAIN is not, the first
// listing zone in order is reported.
func TestDNSBLLookups(t *testing.T) {
	srv := dnstest.Start(t,
		"7.2.0.192."+zoneA+". 60 IN A 127.0.0.2",
		"7.2.0.192."+zoneB+". 60 IN A 127.0.0.4",
		"8.2.0.192."+zoneB+". 60 IN A 127.0.0.3",
		v6Name+zoneA+". 60 IN A 127.0.0.10",
		"9.2.0.192."+zoneA+". 60 IN TXT \"only a TXT record\"",
	)
	b := newTestDNSBL(t, srv.Addr, zoneA, zoneB)
	ctx := context.Background()
	now := time.Now()
	for ip, want := range map[string]string{
		"192.0.2.7":     zoneA + "=127.0.0.2",
		"192.0.2.8":     zoneB + "=127.0.0.3",
		"2001:db8::bad": zoneA + "=127.0.0.10",
		"192.0.2.9":     "", // NOERROR without an A record
		"192.0.2.10":    "", // NXDOMAIN
	} {
		r := b.lookup(ctx, addr(ip), now)
		got := ""
		if r.Zone != "" {
			got = r.Zone + "=" + r.Answer.String()
		}
		if got != want || r.Failed != "" {
			t.Errorf("%s: listed %q failed %q %v; want %q", ip, got, r.Failed, r.FailErr, want)
		}
	}
}

// Answers are cached for their TTL, positive and negative: a change at the
// server shows only once the cached answer has expired.
func TestDNSBLCache(t *testing.T) {
	srv := dnstest.Start(t, "7.2.0.192."+zoneA+". 60 IN A 127.0.0.2")
	b := newTestDNSBL(t, srv.Addr, zoneA)
	ctx := context.Background()
	now := time.Now()
	listed := func(ip string, at time.Time) bool { return b.lookup(ctx, addr(ip), at).Zone != "" }

	if !listed("192.0.2.7", now) || listed("192.0.2.8", now) {
		t.Fatal("first answers wrong")
	}
	srv.Set(t, "7.2.0.192."+zoneA+".")                                           // delisted
	srv.Set(t, "8.2.0.192."+zoneA+".", "8.2.0.192."+zoneA+". 60 IN A 127.0.0.2") // newly listed
	if !listed("192.0.2.7", now.Add(30*time.Minute-time.Nanosecond)) {
		t.Error("positive answer not cached for its TTL")
	}
	if listed("192.0.2.7", now.Add(30*time.Minute)) {
		t.Error("positive answer outlived its TTL")
	}
	if listed("192.0.2.8", now.Add(10*time.Minute-time.Nanosecond)) {
		t.Error("negative answer not cached for its TTL")
	}
	if !listed("192.0.2.8", now.Add(10*time.Minute)) {
		t.Error("negative answer outlived its TTL")
	}
}

// A failing blocklist never counts as a listing: SERVFAIL, an answer outside
// 127.0.0.0/24 (a zone refusing the resolver) and a server that never
// answers all come back as "not listed, failed", and the failure is cached
// briefly so a dead resolver does not cost a timeout per message.
func TestDNSBLFailures(t *testing.T) {
	ctx := context.Background()
	now := time.Now()

	srv := dnstest.Start(t, "7.2.0.192."+zoneA+". 60 IN A 127.255.255.254")
	b := newTestDNSBL(t, srv.Addr, zoneA)
	if r := b.lookup(ctx, addr("192.0.2.7"), now); r.Zone != "" || r.Failed != zoneA || !strings.Contains(r.FailErr.Error(), "127.255.255.254") {
		t.Errorf("refusal answer: %+v", r)
	}
	srv.ServFail(true)
	if r := b.lookup(ctx, addr("192.0.2.8"), now); r.Zone != "" || r.Failed != zoneA || !strings.Contains(r.FailErr.Error(), "SERVFAIL") {
		t.Errorf("SERVFAIL: %+v", r)
	}
	srv.ServFail(false)
	if r := b.lookup(ctx, addr("192.0.2.8"), now.Add(time.Minute-time.Nanosecond)); r.Failed == "" {
		t.Error("failure not cached for ErrorTTL")
	}
	if r := b.lookup(ctx, addr("192.0.2.8"), now.Add(time.Minute)); r.Failed != "" {
		t.Errorf("failure outlived ErrorTTL: %+v", r)
	}

	// A UDP socket that reads queries and never answers.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	dead, err := newDNSBL(DNSBLConfig{Zones: []string{zoneA}, Server: silent.LocalAddr().String(), Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	r := dead.lookup(ctx, addr("192.0.2.7"), now)
	if took := time.Since(began); r.Zone != "" || r.Failed != zoneA || took > 2*time.Second {
		t.Errorf("silent server: %+v after %s", r, took)
	}
}

// Through Assess: a listed IP is Listed whatever its record; a failed
// lookup leaves the record to decide and shows in the figures.
func TestAssessWithDNSBL(t *testing.T) {
	srv := dnstest.Start(t, "7.2.0.192."+zoneA+". 60 IN A 127.0.0.2")
	clk := newClock()
	tr := open(t, storetest.SQLite(t), Config{Clock: clk.Now, MinMessages: 1, NewIPAge: time.Hour,
		DNSBL: DNSBLConfig{Zones: []string{zoneA}, Server: srv.Addr}})
	observe(tr, "192.0.2.7", 5, 0)
	observe(tr, "192.0.2.8", 5, 0)
	ctx := context.Background()
	later := clk.Now().Add(2 * time.Hour)
	a := tr.Assess(ctx, 1, addr("192.0.2.7"), later)
	if a.Level != Listed || !hasFigure(a, "dnsbl", zoneA+"=127.0.0.2") {
		t.Errorf("listed: %s %v", a.Level, a.Figures())
	}
	srv.ServFail(true)
	a = tr.Assess(ctx, 1, addr("192.0.2.8"), later)
	if a.Level != Good || !hasFigure(a, "dnsbl_error", "") {
		t.Errorf("lookup failure: %s %v", a.Level, a.Figures())
	}
}

// hasFigure: value "" matches any value.
func hasFigure(a Assessment, name, value string) bool {
	for _, f := range a.Figures() {
		if f.Name == name && (value == "" || f.Value == value) {
			return true
		}
	}
	return false
}

func TestDNSBLConfigErrors(t *testing.T) {
	if _, err := newDNSBL(DNSBLConfig{Zones: []string{"bad zone!"}, Server: "127.0.0.1:53"}); err == nil {
		t.Error("a zone that is no domain name was accepted")
	}
}
