package reputation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Defaults for DNSBLConfig's zero fields.
const (
	DefaultDNSBLTimeout      = time.Second
	DefaultDNSBLListedTTL    = 30 * time.Minute
	DefaultDNSBLNotListedTTL = 10 * time.Minute
	DefaultDNSBLErrorTTL     = time.Minute
	DefaultDNSBLMaxCached    = 100_000
)

// DNSBLConfig names the DNS blocklists to consult and how.
type DNSBLConfig struct {
	// Zones, e.g. "zen.spamhaus.org"; each is asked in order.
	Zones []string
	// Server is the resolver's HOST:PORT; "" uses the first nameserver in
	// /etc/resolv.conf. Public DNSBLs refuse queries from big public
	// resolvers, so point this at a resolver of your own.
	Server string
	// Timeout bounds one zone's lookup. A lookup that fails or times out
	// counts as "not listed" and is reported in the figures: a broken
	// blocklist must not stop mail.
	Timeout time.Duration
	// How long answers are cached: listed, not listed (NXDOMAIN), failed.
	// Failures are cached briefly so a dead resolver costs one timeout a
	// minute per IP, not one per message.
	ListedTTL, NotListedTTL, ErrorTTL time.Duration
	// MaxCached bounds the cache; past it, expired answers are swept and,
	// if that is not enough, the cache starts afresh.
	MaxCached int
}

// DNSBLResult is what the zones said about one IP.
type DNSBLResult struct {
	Zone   string     // the first zone that lists the IP, "" if none
	Answer netip.Addr // that zone's 127.0.0.x answer
	// Failed is the first zone whose lookup failed and FailErr why; the IP
	// then counts as not listed by that zone.
	Failed  string
	FailErr error
}

type dnsbl struct {
	cfg    DNSBLConfig
	zones  []string // lowercase, fully qualified
	server string
	udp    *dns.Client
	tcp    *dns.Client

	mu    sync.Mutex
	cache map[dnsblKey]dnsblAnswer
}

type dnsblKey struct {
	zone int
	ip   netip.Addr
}

type dnsblAnswer struct {
	listed  netip.Addr // valid if listed
	err     error
	expires time.Time
}

func newDNSBL(cfg DNSBLConfig) (*dnsbl, error) {
	positiveOr(&cfg.Timeout, DefaultDNSBLTimeout)
	positiveOr(&cfg.ListedTTL, DefaultDNSBLListedTTL)
	positiveOr(&cfg.NotListedTTL, DefaultDNSBLNotListedTTL)
	positiveOr(&cfg.ErrorTTL, DefaultDNSBLErrorTTL)
	positiveOr(&cfg.MaxCached, DefaultDNSBLMaxCached)
	b := &dnsbl{cfg: cfg, server: cfg.Server, cache: map[dnsblKey]dnsblAnswer{},
		udp: &dns.Client{Net: "udp", Timeout: cfg.Timeout},
		tcp: &dns.Client{Net: "tcp", Timeout: cfg.Timeout}}
	for _, z := range cfg.Zones {
		z = strings.ToLower(strings.TrimSpace(z))
		if !hostname(z) {
			return nil, fmt.Errorf("dnsbl zone %q is not a domain name", z)
		}
		b.zones = append(b.zones, dns.Fqdn(z))
	}
	if b.server == "" {
		conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil || len(conf.Servers) == 0 {
			return nil, fmt.Errorf("dnsbl: no server configured and none found in /etc/resolv.conf: %v", err)
		}
		b.server = net.JoinHostPort(conf.Servers[0], conf.Port)
	}
	return b, nil
}

// lookup asks every zone about ip (unmapped), from the cache where it can,
// querying the misses in parallel.
func (b *dnsbl) lookup(ctx context.Context, ip netip.Addr, now time.Time) DNSBLResult {
	var answers [8]dnsblAnswer // no allocation for up to 8 zones
	got := answers[:0]
	if len(b.zones) > len(answers) {
		got = make([]dnsblAnswer, 0, len(b.zones))
	}
	var misses []int
	b.mu.Lock()
	for i := range b.zones {
		a, ok := b.cache[dnsblKey{i, ip}]
		if !ok || !now.Before(a.expires) {
			misses = append(misses, i)
		}
		got = append(got, a)
	}
	b.mu.Unlock()

	if len(misses) > 0 {
		fresh := b.fetch(ctx, ip, misses, now)
		for j, i := range misses {
			got[i] = fresh[j]
		}
	}

	var r DNSBLResult
	for i, a := range got {
		switch {
		case a.err != nil && r.Failed == "":
			r.Failed, r.FailErr = b.cfg.Zones[i], a.err
		case a.listed.IsValid() && r.Zone == "":
			r.Zone, r.Answer = b.cfg.Zones[i], a.listed
		}
	}
	return r
}

// fetch queries the zones in misses in parallel and caches the answers. It
// is apart from lookup so that only a miss allocates.
func (b *dnsbl) fetch(ctx context.Context, ip netip.Addr, misses []int, now time.Time) []dnsblAnswer {
	fresh := make([]dnsblAnswer, len(misses))
	var wg sync.WaitGroup
	for j, i := range misses {
		wg.Go(func() { fresh[j] = b.query(ctx, i, ip, now) })
	}
	wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.cache)+len(misses) > b.cfg.MaxCached {
		for k, a := range b.cache {
			if !now.Before(a.expires) {
				delete(b.cache, k)
			}
		}
		if len(b.cache)+len(misses) > b.cfg.MaxCached {
			clear(b.cache)
		}
	}
	for j, i := range misses {
		b.cache[dnsblKey{i, ip}] = fresh[j]
	}
	return fresh
}

// query asks one zone: an A record in 127.0.0.0/24 means listed, NXDOMAIN
// (or no A record) means not listed, anything else is a failure. Blocklists
// answer outside 127.0.0.0/24 (e.g. 127.255.255.254) to say "I refuse to
// answer this resolver": that is a failure, not a listing.
func (b *dnsbl) query(ctx context.Context, zone int, ip netip.Addr, now time.Time) dnsblAnswer {
	name := reverseName(ip) + b.zones[zone]
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	resp, _, err := b.udp.ExchangeContext(ctx, m, b.server)
	if err == nil && resp.Truncated {
		resp, _, err = b.tcp.ExchangeContext(ctx, m, b.server)
	}
	fail := func(err error) dnsblAnswer {
		// Logged here, once per IP and zone per ErrorTTL (the cache holds
		// the failure), since an accepted message's figures go nowhere.
		slog.Warn("reputation: DNSBL lookup failed; counting the IP as not listed", "zone", b.cfg.Zones[zone], "ip", ip, "err", err)
		return dnsblAnswer{err: fmt.Errorf("dnsbl %s: %w", name, err), expires: now.Add(b.cfg.ErrorTTL)}
	}
	if err != nil {
		return fail(err)
	}
	switch resp.Rcode {
	case dns.RcodeNameError:
		return dnsblAnswer{expires: now.Add(b.cfg.NotListedTTL)}
	case dns.RcodeSuccess:
	default:
		return fail(errors.New(dns.RcodeToString[resp.Rcode]))
	}
	for _, rr := range resp.Answer {
		a, ok := rr.(*dns.A)
		if !ok {
			continue
		}
		addr, _ := netip.AddrFromSlice(a.A.To4())
		if !listedNet.Contains(addr) {
			return fail(fmt.Errorf("answer %s is not a listing (127.0.0.x); the zone may refuse queries from this resolver", addr))
		}
		return dnsblAnswer{listed: addr, expires: now.Add(b.cfg.ListedTTL)}
	}
	return dnsblAnswer{expires: now.Add(b.cfg.NotListedTTL)}
}

// hostname reports whether z is letters, digits, '-' and '_' in dot-separated
// labels (dns.IsDomainName accepts any byte, spaces included).
func hostname(z string) bool {
	z = strings.TrimSuffix(z, ".")
	if z == "" || len(z) > 253 {
		return false
	}
	for _, l := range strings.Split(z, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

var listedNet = netip.MustParsePrefix("127.0.0.0/24")

// reverseName is ip's DNSBL label sequence with a trailing dot: reversed
// octets for IPv4 ("7.2.0.192."), reversed nibbles for IPv6.
func reverseName(ip netip.Addr) string {
	var b strings.Builder
	if ip.Is4() {
		o := ip.As4()
		for i := 3; i >= 0; i-- {
			b.WriteString(strconv.Itoa(int(o[i])))
			b.WriteByte('.')
		}
		return b.String()
	}
	const hex = "0123456789abcdef"
	o := ip.As16()
	b.Grow(64)
	for i := 15; i >= 0; i-- {
		b.WriteByte(hex[o[i]&0xf])
		b.WriteByte('.')
		b.WriteByte(hex[o[i]>>4])
		b.WriteByte('.')
	}
	return b.String()
}
