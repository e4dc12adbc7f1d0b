package events

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/tollgate-mail/tollgate/nexthop"
)

// CheckURL refuses a webhook URL that is not http(s), or whose host is an
// address literal in a reserved range the guard does not allow. Names are
// checked when they are dialled (GuardedClient), so DNS cannot route
// around the rule.
func CheckURL(raw string, guard nexthop.Guard) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return fmt.Errorf("webhook url %q is not an http(s) URL", raw)
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		if err := guard.Check(ip); err != nil {
			return fmt.Errorf("webhook url %q: %w (allow it in events.allowed_internal_webhooks)", raw, err)
		}
	}
	return nil
}

// GuardedClient is an HTTP client that will not connect to an address the
// guard refuses, whatever the URL's name resolves to and wherever a
// redirect points: the check runs on the address being dialled. Tenants
// choose their webhook URLs; without this, a URL would let them probe the
// operator's internal network.
func GuardedClient(guard nexthop.Guard) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook dial %q: %w", address, err)
		}
		return guard.Check(ap.Addr())
	}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = dialer.DialContext
	return &http.Client{Transport: tr}
}
