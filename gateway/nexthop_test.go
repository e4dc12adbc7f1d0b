package gateway_test

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/dnstest"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/trace"
)

// internalHost is a loopback address with a sink for the allowed next hop;
// the internal server that must never be reached listens on 127.0.0.1 on
// the same port.
const internalHost = "127.0.0.3"

// TestInternalNextHopsRefused: address literals in internal ranges are
// refused at RCPT with 5.1.2 and a help link; an MX record pointing at
// 10.0.0.1 or at loopback is refused before any connection (the dial hook
// never sees it, the internal server never gets a connection), bounced with
// 5.1.2, and the trace says why without any banner of the internal server.
// The operator's allowed range (the sink's address) is delivered to.
func TestInternalNextHopsRefused(t *testing.T) {
	var sink *devsink.Sink
	var internal net.Listener
	for range 10 { // the same port free on two loopback addresses
		s, err := devsink.Start(internalHost+":0", "", nil, devsink.Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(s.Addr())
		if internal, err = net.Listen("tcp", "127.0.0.1:"+port); err == nil {
			sink = s
			break
		}
		s.Close()
	}
	if sink == nil {
		t.Fatal("no port free on both loopback addresses")
	}
	t.Cleanup(func() { sink.Close(); internal.Close() })
	var internalConns sync.WaitGroup
	reached := make(chan struct{}, 16)
	go func() {
		for {
			c, err := internal.Accept()
			if err != nil {
				return
			}
			reached <- struct{}{}
			internalConns.Add(1)
			go func() {
				defer internalConns.Done()
				c.Write([]byte("220 secret-internal-banner ESMTP\r\n"))
				c.Close()
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(sink.Addr())
	dns := dnstest.Start(t,
		"private.test. 60 IN MX 10 mx.private.test.",
		"mx.private.test. 60 IN A 10.0.0.1",
		"loop.test. 60 IN MX 10 mx.loop.test.",
		"mx.loop.test. 60 IN A 127.0.0.1",
		"ok.test. 60 IN MX 10 mx.ok.test.",
		"mx.ok.test. 60 IN A "+internalHost,
		"demo.test. 60 IN MX 10 mx.ok.test.",
	)
	var mu sync.Mutex
	var dialled []netip.AddrPort
	cfg := testConfig(t, "")
	cfg.Delivery.Resolver = dns.Addr
	cfg.Delivery.Port, _ = strconv.Atoi(port)
	cfg.Delivery.AllowedInternalNextHops = config.Prefixes{netip.MustParsePrefix(internalHost + "/32")}
	g := startWith(t, cfg, false, gateway.Options{OnConnect: func(a netip.AddrPort) {
		mu.Lock()
		dialled = append(dialled, a)
		mu.Unlock()
	}})
	seedTenantWithConnector(t, g, "demo", "demo.test", "127.0.0.0/8")

	c := dial(t, addr(g, "relay"))
	if err := c.Mail("a@demo.test", nil); err != nil {
		t.Fatal(err)
	}
	for _, lit := range []string{"[127.0.0.1]", "[10.0.0.1]", "[169.254.169.254]", "[IPv6:fd00:ec2::254]", "[IPv6:::1]", "[100.64.1.1]", "[192.168.0.1]", "[0.0.0.0]"} {
		err := c.Rcpt("probe@"+lit, nil)
		wantCode(t, err, 550, "5.1.2")
		if !strings.Contains(err.Error(), "/ndr/5.1.2") {
			t.Fatalf("%s: no help link in %v", lit, err)
		}
	}
	// The allowed range and public literals pass RCPT.
	if err := c.Rcpt("ok@["+internalHost+"]", nil); err != nil {
		t.Fatal(err)
	}
	c.Reset()

	err := send(c, "a@demo.test", []string{"one@private.test", "two@loop.test", "three@ok.test"},
		"Message-ID: <hop@demo.test>\r\nSubject: hops\r\n\r\nx\r\n")
	if err != nil {
		t.Fatal(err)
	}
	// three@ok.test delivered, then the DSN for the two refused.
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 2 }) {
		t.Fatalf("want a delivery and a DSN, sink has %d", sink.Count())
	}
	var dsnData []byte
	for _, m := range sink.Messages() {
		if m.From == "" {
			dsnData = m.Data
		} else if len(m.To) != 1 || m.To[0] != "three@ok.test" {
			t.Fatalf("delivered to %v", m.To)
		}
	}
	checkDSN(t, dsnData, "one@private.test", "5.1.2", "<hop@demo.test>")
	if !strings.Contains(string(dsnData), "two@loop.test") {
		t.Fatalf("DSN lacks the loopback recipient:\n%s", dsnData)
	}
	select {
	case <-reached:
		t.Fatal("the internal server on 127.0.0.1 got a connection")
	default:
	}
	mu.Lock()
	for _, a := range dialled {
		if a.Addr().String() != internalHost {
			t.Fatalf("dialled %v", a)
		}
	}
	mu.Unlock()

	ctx := context.Background()
	g.Trace.Flush(ctx)
	for rcpt, want := range map[string]string{
		"one@private.test": "10.0.0.1, a private address (RFC 1918)",
		"two@loop.test":    "127.0.0.1, a loopback address",
	} {
		found := false
		for _, e := range messageEvents(t, g, rcpt) {
			if strings.Contains(e.Detail, "banner") || strings.Contains(e.Detail, "secret-internal") {
				t.Fatalf("trace echoes the internal server: %+v", e)
			}
			if e.Stage == "bounced" && e.Rcpt == rcpt {
				found = true
				if !strings.Contains(e.Detail, want) || !strings.Contains(e.Detail, "before connecting") || e.Attrs["code"] != "5.1.2" || e.Attrs["remote"] != "" {
					t.Fatalf("%s: trace %+v", rcpt, e)
				}
			}
		}
		if !found {
			t.Fatalf("%s: no bounced event in the trace", rcpt)
		}
	}
}

// messageEvents is the trace of the message sent to rcpt.
func messageEvents(t *testing.T, g *gateway.Gateway, rcpt string) []trace.Entry {
	t.Helper()
	ctx := context.Background()
	if err := g.Trace.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sums, err := g.Trace.Search(ctx, trace.Query{Recipient: rcpt})
	if err != nil || len(sums) == 0 {
		t.Fatalf("trace search for %s: %v %v", rcpt, sums, err)
	}
	_, events, err := g.Trace.Message(ctx, sums[0].ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return events
}
