package gateway_test

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/dnstest"
)

// Delivery looks up MX records with a real resolver, falls back to the
// domain's address without MX, and bounces null-MX and non-existent domains
// with their own codes.
func TestMXDelivery(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	_, port, _ := net.SplitHostPort(sink.Addr())
	resolver := dnstest.Start(t,
		"example.test. 60 IN MX 10 mx1.example.test.",
		"example.test. 60 IN MX 20 mx2.example.test.",
		"mx1.example.test. 60 IN A 127.0.0.1",
		"mx2.example.test. 60 IN A 127.0.0.1",
		"nomx.test. 60 IN A 127.0.0.1",
		"nullmx.test. 60 IN MX 0 .",
		"demo.test. 60 IN MX 10 mx1.example.test.",
	).Addr
	cfg := testConfig(t, "")
	cfg.Delivery.Resolver = resolver
	cfg.Delivery.Port, _ = strconv.Atoi(port)
	// The MX records point at the sink on loopback: allow it.
	cfg.Delivery.AllowedInternalNextHops = config.Prefixes{netip.MustParsePrefix("127.0.0.1/32")}
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
