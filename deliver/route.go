package deliver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/nexthop"
)

// newResolver returns the system resolver, or one that asks only server
// (HOST:PORT) — how tests point MX lookups at a DNS server on loopback.
func newResolver(server string) *net.Resolver {
	if server == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			d := net.Dialer{Timeout: 5 * time.Second}
			return d.DialContext(ctx, network, server)
		},
	}
}

// route returns the HOST:PORT list to try for a destination, best first. On
// error, code is the enhanced status: 5.1.2 for a domain that does not
// exist, 5.1.10 for a null MX (RFC 7505), 4.4.3 for a passing DNS failure.
func (t *Transport) route(ctx context.Context, dest string) (hosts []string, code string, err error) {
	if t.opts.Smarthost != "" {
		return []string{t.opts.Smarthost}, "", nil
	}
	if dest == "" {
		return nil, "5.1.2", errors.New("recipient has no domain")
	}
	port := strconv.Itoa(t.opts.Port)
	if ip, literal, err := nexthop.Literal(dest); literal {
		if err != nil {
			return nil, "5.1.2", err
		}
		return []string{net.JoinHostPort(ip.String(), port)}, "", nil
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	mxs, err := t.resolver.LookupMX(lctx, dest)
	var dnsErr *net.DNSError
	if err != nil && !(errors.As(err, &dnsErr) && dnsErr.IsNotFound && len(mxs) == 0) {
		return nil, "4.4.3", fmt.Errorf("MX lookup for %s failed: %v", dest, err)
	}
	if len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == "") {
		return nil, "5.1.10", fmt.Errorf("domain %s accepts no mail (null MX, RFC 7505)", dest)
	}
	if len(mxs) == 0 {
		// No MX: the domain itself is the implicit MX (RFC 5321 5.1), if it
		// has an address at all.
		addrs, aerr := t.resolver.LookupHost(lctx, dest)
		if aerr != nil || len(addrs) == 0 {
			if errors.As(aerr, &dnsErr) && dnsErr.IsNotFound {
				return nil, "5.1.2", fmt.Errorf("domain %s does not exist (no MX, A or AAAA record)", dest)
			}
			return nil, "4.4.3", fmt.Errorf("address lookup for %s failed: %v", dest, aerr)
		}
		return []string{net.JoinHostPort(dest, port)}, "", nil
	}
	sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Pref < mxs[j].Pref })
	for _, mx := range mxs {
		hosts = append(hosts, net.JoinHostPort(strings.TrimSuffix(mx.Host, "."), port))
	}
	return hosts, "", nil
}
