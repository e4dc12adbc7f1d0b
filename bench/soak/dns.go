package main

import (
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// zone is the soak's own DNS server: it publishes each tenant domain's
// verification TXT record, so tenants are verified the way operators'
// customers verify them, and answers NXDOMAIN for everything else.
type zone struct {
	pc  net.PacketConn
	srv *dns.Server

	mu  sync.Mutex
	txt map[string][]string // fqdn, lower case → values
}

func startZone() (*zone, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	z := &zone{pc: pc, txt: map[string][]string{}}
	z.srv = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(z.serve)}
	go z.srv.ActivateAndServe()
	return z, nil
}

func (z *zone) addr() string { return z.pc.LocalAddr().String() }
func (z *zone) close()       { z.srv.Shutdown() }

func (z *zone) publish(name, value string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	k := dns.Fqdn(strings.ToLower(name))
	z.txt[k] = append(z.txt[k], value)
}

func (z *zone) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		z.mu.Lock()
		vals, ok := z.txt[strings.ToLower(q.Name)]
		z.mu.Unlock()
		switch {
		case !ok:
			m.Rcode = dns.RcodeNameError
		case q.Qtype == dns.TypeTXT:
			for _, v := range vals {
				m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{v}})
			}
		}
	}
	w.WriteMsg(m)
}
