// Package dnstest runs a DNS server on loopback for tests, in the manner of
// net/http/httptest: a zone the test can publish, change and remove records
// in, answered authoritatively over UDP and TCP.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server is a running test DNS server.
type Server struct {
	// Addr is the HOST:PORT to give resolvers.
	Addr string

	mu       sync.Mutex
	rrs      map[string][]dns.RR
	servfail bool
}

// Start serves the given records (zone-file syntax, e.g.
// "example.test. 60 IN MX 10 mx.example.test.") until the test ends. Names
// without records answer NXDOMAIN; a name with records but none of the asked
// type answers an empty NOERROR.
func Start(t testing.TB, records ...string) *Server {
	t.Helper()
	return StartAt(t, "127.0.0.1:0", records...)
}

// StartAt is Start on a given address, for a helper process that must
// answer on port 53 (a tool that reads /etc/resolv.conf takes no port).
func StartAt(t testing.TB, address string, records ...string) *Server {
	t.Helper()
	s := &Server{rrs: map[string][]dns.RR{}}
	for _, r := range records {
		s.add(t, r)
	}
	// UDP and TCP on one port number: the kernel picks a free UDP port,
	// and the same TCP port may be taken by another process (tests run in
	// parallel), so try a few ports before giving up.
	var pc net.PacketConn
	var ln net.Listener
	var err error
	for range 20 {
		if pc, err = net.ListenPacket("udp", address); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatalf("dnstest: no port free for both UDP and TCP: %v", err)
	}
	s.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: s}
	tcp := &dns.Server{Listener: ln, Handler: s}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	return s
}

func (s *Server) add(t testing.TB, record string) {
	t.Helper()
	rr, err := dns.NewRR(record)
	if err != nil {
		t.Fatalf("dnstest: bad record %q: %v", record, err)
	}
	name := strings.ToLower(rr.Header().Name)
	s.rrs[name] = append(s.rrs[name], rr)
}

// Set replaces every record of name with records (none: the name is gone).
func (s *Server) Set(t testing.TB, name string, records ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rrs, strings.ToLower(dns.Fqdn(name)))
	for _, r := range records {
		s.add(t, r)
	}
}

// ServFail makes every answer SERVFAIL (on) or normal again (off).
func (s *Server) ServFail(on bool) {
	s.mu.Lock()
	s.servfail = on
	s.mu.Unlock()
}

// ServeDNS implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative, m.RecursionAvailable = true, true
	if s.servfail {
		m.Rcode = dns.RcodeServerFailure
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	rrs, ok := s.rrs[strings.ToLower(q.Name)]
	if !ok {
		m.Rcode = dns.RcodeNameError
	}
	for _, rr := range rrs {
		if rr.Header().Rrtype == q.Qtype {
			m.Answer = append(m.Answer, rr)
		}
	}
	w.WriteMsg(m)
}
