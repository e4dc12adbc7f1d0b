package deliver

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"syscall"

	"github.com/tollgate-mail/tollgate/nexthop"
)

// InternalCode is the status of a recipient whose next hops are all
// internal or reserved addresses (RFC 3463 X.1.2, "bad destination system
// address": no host Tollgate may deliver to). The RCPT check refuses
// address literals with the same code, so one help page explains both.
const InternalCode = "5.1.2"

// dialGuard vets every address a dial is about to connect to. It runs as
// net.Dialer.Control, after the socket is made and before connect(2), so a
// refused address never sees a packet, whatever name led to it and however
// its DNS answer changed since the MX lookup. It remembers what it refused,
// so a host with only internal addresses (a permanent failure) is told
// apart from a host that is down (a temporary one).
type dialGuard struct {
	guard     nexthop.Guard
	enforce   bool // false for the smarthost: the operator chose it
	host      string
	onConnect func(netip.AddrPort)

	mu      sync.Mutex
	refused *nexthop.Refusal
	passed  bool
}

func (g *dialGuard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("next hop address %q: %w", address, err)
	}
	if g.enforce {
		if err := g.guard.Check(ap.Addr()); err != nil {
			var r *nexthop.Refusal
			if errors.As(err, &r) {
				r.Host = g.host
			}
			g.mu.Lock()
			if g.refused == nil {
				g.refused = r
			}
			g.mu.Unlock()
			return err
		}
	}
	g.mu.Lock()
	g.passed = true
	g.mu.Unlock()
	if g.onConnect != nil {
		g.onConnect(ap)
	}
	return nil
}

// refusal is the guard's refusal when it refused every address the dial
// tried, else nil.
func (g *dialGuard) refusal() *nexthop.Refusal {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.passed {
		return nil
	}
	return g.refused
}

// refusedDetail is the result text for a refused next hop. It says what
// the address is and that no connection was made; there is no remote
// reply to show, so nothing of an internal server reaches the trace.
func refusedDetail(r *nexthop.Refusal) string {
	return fmt.Sprintf("next hop refused before connecting: %s; Tollgate does not deliver to internal or reserved networks "+
		"(an operator can allow one in delivery.allowed_internal_next_hops)", r)
}
