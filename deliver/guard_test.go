package deliver

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/dnstest"
)

// dialLog records every address the transport was about to connect to.
type dialLog struct {
	mu    sync.Mutex
	addrs []netip.AddrPort
}

func (l *dialLog) add(a netip.AddrPort) { l.mu.Lock(); l.addrs = append(l.addrs, a); l.mu.Unlock() }
func (l *dialLog) list() []netip.AddrPort {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]netip.AddrPort(nil), l.addrs...)
}

// MX and A results in internal or reserved ranges are refused before any
// connection, permanently when every host is refused; an allowed range, a
// public host among refused ones, and the smarthost are delivered to.
func TestInternalNextHops(t *testing.T) {
	sink, err := devsink.Start("127.0.0.1:0", "", nil, devsink.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	_, portStr, _ := net.SplitHostPort(sink.Addr())
	port, _ := strconv.Atoi(portStr)
	dns := dnstest.Start(t,
		"private.test. 60 IN MX 10 mx.private.test.",
		"mx.private.test. 60 IN A 10.0.0.1",
		"loop.test. 60 IN MX 10 mx.loop.test.",
		"mx.loop.test. 60 IN A 127.0.0.2",
		"metadata.test. 60 IN A 169.254.169.254",
		"v6.test. 60 IN AAAA fd00:ec2::254",
		"mixed.test. 60 IN MX 10 mx.private.test.",
		"mixed.test. 60 IN MX 20 mx.allowed.test.",
		"mx.allowed.test. 60 IN A 127.0.0.1",
		"multi.test. 60 IN A 10.0.0.1",
		"multi.test. 60 IN A 127.0.0.1",
		"down.test. 60 IN MX 10 mx.private.test.",
		"down.test. 60 IN MX 20 mx.down.test.",
		"mx.down.test. 60 IN A 127.0.0.1",
	)
	var dials dialLog
	tr := transport(t, "", func(o *Options) {
		o.Resolver, o.Port, o.OnConnect = dns.Addr, port, dials.add
		o.AllowedInternal = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	for _, c := range []struct{ rcpt, kind string }{
		{"a@private.test", "10.0.0.1, a private address (RFC 1918)"},
		{"a@loop.test", "127.0.0.2, a loopback address"},
		{"a@metadata.test", "169.254.169.254, a cloud metadata address"},
		{"a@v6.test", "fd00:ec2::254, a cloud metadata address"},
		{"a@[10.1.2.3]", "10.1.2.3 is a private address"},
		{"a@[IPv6:::1]", "::1 is a loopback address"},
	} {
		res := tr.Deliver(context.Background(), delivery("s@x.test", c.rcpt))
		r := res[0]
		if r.OK || !r.Permanent || r.Code != InternalCode || r.Remote != "" || !strings.Contains(r.Detail, c.kind) ||
			!strings.Contains(r.Detail, "before connecting") {
			t.Errorf("%s: %+v", c.rcpt, r)
		}
	}
	if got := dials.list(); len(got) != 0 {
		t.Fatalf("refused hops were dialled: %v", got)
	}

	// A refused MX is skipped for the next one; an internal address of a
	// host is skipped for its allowed one.
	for _, rcpt := range []string{"b@mixed.test", "c@multi.test"} {
		if res := tr.Deliver(context.Background(), delivery("s@x.test", rcpt)); !res[0].OK {
			t.Fatalf("%s: %+v", rcpt, res[0])
		}
	}
	for _, a := range dials.list() {
		if a.Addr() != netip.MustParseAddr("127.0.0.1") {
			t.Fatalf("dialled %v", a)
		}
	}
	if sink.Count() != 2 {
		t.Fatalf("sink has %d messages, want 2", sink.Count())
	}

	// A refused MX beside one that is down is a temporary failure: the
	// one that is down may come back.
	sink.Close()
	res := tr.Deliver(context.Background(), delivery("s@x.test", "d@down.test"))
	if res[0].OK || res[0].Permanent || res[0].Code != "4.4.1" {
		t.Fatalf("down beside refused: %+v", res[0])
	}
}

// The smarthost is the operator's own choice: it is dialled on loopback
// with no allowed ranges at all.
func TestSmarthostIsNeverRefused(t *testing.T) {
	sink, err := devsink.Start("127.0.0.1:0", "", nil, devsink.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	var dials dialLog
	tr := transport(t, sink.Addr(), func(o *Options) { o.OnConnect = dials.add })
	if res := tr.Deliver(context.Background(), delivery("s@x.test", "a@[127.0.0.1]", "b@example.test")); !res[0].OK || !res[1].OK {
		t.Fatalf("smarthost: %+v", res)
	}
	if len(dials.list()) != 1 {
		t.Fatalf("dials: %v", dials.list())
	}
}
