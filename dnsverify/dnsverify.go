// Package dnsverify proves that a tenant controls a domain: the tenant
// publishes a TXT record "tollgate-verification=<token>" at the domain, and
// Check looks it up for real.
//
// DNS changes take minutes to an hour to be seen, so Check is cheap to repeat
// and says precisely what it found when the answer is no: no such domain, no
// TXT records, other TXT records, or a verification record with another token.
package dnsverify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Prefix starts the value of a verification record.
const Prefix = "tollgate-verification="

// Record is the TXT value to publish for token.
func Record(token string) string { return Prefix + token }

// Checker looks up verification records.
type Checker struct {
	resolver *net.Resolver
	timeout  time.Duration
}

// New returns a Checker that asks server (HOST:PORT) or, with server "",
// the system's resolver.
func New(server string) *Checker {
	c := &Checker{resolver: net.DefaultResolver, timeout: 10 * time.Second}
	if server != "" {
		c.resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			d := net.Dialer{Timeout: 5 * time.Second}
			return d.DialContext(ctx, network, server)
		}}
	}
	return c
}

// Result is what a check found.
type Result struct {
	Verified bool
	// Found lists the TXT values seen at the domain (at most 20, each cut at
	// 200 characters), so an admin sees what is published instead.
	Found []string
	// Detail explains the outcome in a sentence an admin can act on.
	Detail string
}

// ErrLookup wraps DNS failures that say nothing about the record (timeouts,
// SERVFAIL): try again later.
var ErrLookup = errors.New("DNS lookup failed")

// Check looks for Record(token) at domain.
func (c *Checker) Check(ctx context.Context, domain, token string) (Result, error) {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	want := Record(token)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	txts, err := c.resolver.LookupTXT(ctx, domain)
	var dnsErr *net.DNSError
	if err != nil && !(errors.As(err, &dnsErr) && dnsErr.IsNotFound) {
		return Result{}, fmt.Errorf("%w for %s: %v; try again later", ErrLookup, domain, err)
	}
	if err != nil {
		// NXDOMAIN and "no TXT records" both come back as not found; tell
		// them apart, since the fix differs.
		if _, herr := c.resolver.LookupHost(ctx, domain); herr != nil && errors.As(herr, &dnsErr) && dnsErr.IsNotFound {
			if ns, _ := c.resolver.LookupNS(ctx, domain); len(ns) == 0 {
				return Result{Detail: fmt.Sprintf("%s does not exist in DNS (or has no records at all): publish TXT %q there", domain, want)}, nil
			}
		}
		return Result{Detail: fmt.Sprintf("%s has no TXT records: publish TXT %q there (changes can take up to an hour to be seen)", domain, want)}, nil
	}
	r := Result{}
	var others []string
	for _, t := range txts {
		if len(r.Found) < 20 {
			r.Found = append(r.Found, truncate(t, 200))
		}
		v := strings.TrimSpace(t)
		if v == want {
			r.Verified = true
		} else if strings.HasPrefix(strings.ToLower(v), Prefix) {
			others = append(others, v)
		}
	}
	switch {
	case r.Verified:
		r.Detail = fmt.Sprintf("found TXT %q at %s", want, domain)
	case len(others) > 0:
		r.Detail = fmt.Sprintf("found %s at %s, but this domain's token is %q: replace the old record (it may be from an earlier attempt or another account)",
			strings.Join(quoteAll(others), ", "), domain, token)
	default:
		r.Detail = fmt.Sprintf("found %d TXT record(s) at %s, none of them %q: add it beside them", len(txts), domain, want)
	}
	return r, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func quoteAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = fmt.Sprintf("%q", truncate(s, 100))
	}
	return out
}

// LookupTXT returns the TXT values at name (a record's strings joined), for
// other records a tenant publishes, such as DKIM keys: one resolver for
// every check an admin runs.
func (c *Checker) LookupTXT(ctx context.Context, name string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.resolver.LookupTXT(ctx, strings.TrimSuffix(name, "."))
}
