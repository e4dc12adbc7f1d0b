package gateway_test

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/tollgate-mail/tollgate/devsink"
)

// startDNS serves a small zone on loopback (UDP and TCP) and returns its
// address. Names not in records get NXDOMAIN; names in hasA but without the
// asked type get an empty answer.
func startDNS(t *testing.T, records []string) string {
	t.Helper()
	zone := map[string][]dns.RR{}
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil {
			t.Fatalf("bad test record %q: %v", r, err)
		}
		zone[strings.ToLower(rr.Header().Name)] = append(zone[strings.ToLower(rr.Header().Name)], rr)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q := req.Question[0]
		rrs, ok := zone[strings.ToLower(q.Name)]
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
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	udp := &dns.Server{PacketConn: pc, Handler: h}
	tcp := &dns.Server{Listener: ln, Handler: h}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	return pc.LocalAddr().String()
}

// Delivery looks up MX records with a real resolver, falls back to the
// domain's address without MX, and bounces null-MX and non-existent domains
// with their own codes.
func TestMXDelivery(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	_, port, _ := net.SplitHostPort(sink.Addr())
	resolver := startDNS(t, []string{
		"example.test. 60 IN MX 10 mx1.example.test.",
		"example.test. 60 IN MX 20 mx2.example.test.",
		"mx1.example.test. 60 IN A 127.0.0.1",
		"mx2.example.test. 60 IN A 127.0.0.1",
		"nomx.test. 60 IN A 127.0.0.1",
		"nullmx.test. 60 IN MX 0 .",
		"demo.test. 60 IN MX 10 mx1.example.test.",
	})
	cfg := testConfig(t, "")
	cfg.Delivery.Resolver = resolver
	cfg.Delivery.Port, _ = strconv.Atoi(port)
	g := start(t, cfg, false) // no dev seed: it would deliver to the capture sink
	seedTenantWithConnector(t, g, "demo", "demo.test", "127.0.0.0/8")
	c := dial(t, addr(g, "relay"))
	err := send(c, "a@demo.test", []string{"one@example.test", "two@nomx.test", "three@nullmx.test", "four@nx.test"},
		"Message-ID: <mx@demo.test>\r\nSubject: mx\r\n\r\nx\r\n")
	if err != nil {
		t.Fatal(err)
	}
	// example.test and nomx.test: one transaction each; then one DSN for the
	// two failures.
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 3 }) {
		t.Fatalf("want 2 deliveries and a DSN, sink has %d", sink.Count())
	}
	got := map[string]bool{}
	var dsnData []byte
	for _, m := range sink.Messages() {
		if m.From == "" {
			dsnData = m.Data
			continue
		}
		for _, r := range m.To {
			got[r] = true
		}
	}
	if !got["one@example.test"] || !got["two@nomx.test"] || len(got) != 2 {
		t.Fatalf("delivered to %v", got)
	}
	checkDSN(t, dsnData, "three@nullmx.test", "5.1.10", "<mx@demo.test>")
	if !strings.Contains(string(dsnData), "four@nx.test") || !strings.Contains(string(dsnData), "5.1.2") {
		t.Fatalf("DSN lacks the non-existent domain's recipient with 5.1.2:\n%s", dsnData)
	}
}
