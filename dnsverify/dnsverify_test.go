package dnsverify

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// zone is a mutable DNS zone served on loopback, so tests can publish,
// change and remove records between checks.
type zone struct {
	mu       sync.Mutex
	rrs      map[string][]dns.RR
	servfail bool
}

func (z *zone) set(t *testing.T, name string, records ...string) {
	t.Helper()
	z.mu.Lock()
	defer z.mu.Unlock()
	delete(z.rrs, dns.Fqdn(name))
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil {
			t.Fatal(err)
		}
		z.rrs[rr.Header().Name] = append(z.rrs[rr.Header().Name], rr)
	}
}

func startZone(t *testing.T) (*zone, string) {
	z := &zone{rrs: map[string][]dns.RR{}}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		z.mu.Lock()
		defer z.mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative, m.RecursionAvailable = true, true
		if z.servfail {
			m.Rcode = dns.RcodeServerFailure
			w.WriteMsg(m)
			return
		}
		q := req.Question[0]
		rrs, ok := z.rrs[strings.ToLower(q.Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: h}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return z, pc.LocalAddr().String()
}

func TestCheckPublishChangeRemove(t *testing.T) {
	z, addr := startZone(t)
	c := New(addr)
	ctx := context.Background()
	const token = "abc123"

	// Nothing published, no such domain.
	r, err := c.Check(ctx, "acme.test", token)
	if err != nil || r.Verified || !strings.Contains(r.Detail, "does not exist") {
		t.Fatalf("NXDOMAIN: %+v %v", r, err)
	}
	// The domain exists but has no TXT.
	z.set(t, "acme.test", "acme.test. 60 IN A 192.0.2.1")
	r, err = c.Check(ctx, "acme.test", token)
	if err != nil || r.Verified || !strings.Contains(r.Detail, "no TXT records") || !strings.Contains(r.Detail, Record(token)) {
		t.Fatalf("no TXT: %+v %v", r, err)
	}
	// Other TXT records only.
	z.set(t, "acme.test", "acme.test. 60 IN A 192.0.2.1", `acme.test. 60 IN TXT "v=spf1 -all"`)
	r, _ = c.Check(ctx, "acme.test", token)
	if r.Verified || len(r.Found) != 1 || r.Found[0] != "v=spf1 -all" || !strings.Contains(r.Detail, "none of them") {
		t.Fatalf("other TXT: %+v", r)
	}
	// A verification record with an old token.
	z.set(t, "acme.test", `acme.test. 60 IN TXT "tollgate-verification=old999"`)
	r, _ = c.Check(ctx, "acme.test", token)
	if r.Verified || !strings.Contains(r.Detail, "old999") || !strings.Contains(r.Detail, token) {
		t.Fatalf("old token: %+v", r)
	}
	// Published (split into two strings, as long TXT values are).
	z.set(t, "acme.test", `acme.test. 60 IN TXT "v=spf1 -all"`, `acme.test. 60 IN TXT "tollgate-verif" "ication=abc123"`)
	r, err = c.Check(ctx, "ACME.test.", token)
	if err != nil || !r.Verified {
		t.Fatalf("published: %+v %v", r, err)
	}
	// Removed again.
	z.set(t, "acme.test", "acme.test. 60 IN A 192.0.2.1")
	if r, _ := c.Check(ctx, "acme.test", token); r.Verified {
		t.Fatal("a removed record still verifies")
	}
	// A failing server is an error to retry, not a "no".
	z.mu.Lock()
	z.servfail = true
	z.mu.Unlock()
	if _, err := c.Check(ctx, "acme.test", token); !errors.Is(err, ErrLookup) {
		t.Fatalf("SERVFAIL: %v, want ErrLookup", err)
	}
}
