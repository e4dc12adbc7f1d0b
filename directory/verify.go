package directory

import (
	"context"
	"fmt"

	"github.com/tollgate-mail/tollgate/dnsverify"
)

// DomainChecker looks up a domain's ownership record; *dnsverify.Checker is
// the real one (its DNS server is configurable, and tests start one on
// loopback).
type DomainChecker interface {
	Check(ctx context.Context, domain, token string) (dnsverify.Result, error)
}

// DNSRecord is the TXT record a tenant publishes to prove it owns dom.
func (dom Domain) DNSRecord() string {
	return fmt.Sprintf("%s. IN TXT %q", dom.Name, dnsverify.Record(dom.Token))
}

// VerifyDomain looks the tenant's pending domain's record up for real and,
// when it is there, marks the domain verified (subject to MarkDomainVerified's
// one-tenant rule). The result says what was found either way; a DNS failure
// is an error wrapping dnsverify.ErrLookup, to be retried later.
func (d *Directory) VerifyDomain(ctx context.Context, by By, tenantID int64, name string, checker DomainChecker) (Domain, dnsverify.Result, error) {
	what := fmt.Sprintf("verify domain %q", name)
	n, err := normDomain(name)
	if err != nil {
		return Domain{}, dnsverify.Result{}, invalid(what, err)
	}
	doms, err := d.Domains(ctx, tenantID)
	if err != nil {
		return Domain{}, dnsverify.Result{}, fmt.Errorf("%s: %w", what, err)
	}
	for _, dom := range doms {
		if dom.Name != n {
			continue
		}
		if dom.Verified {
			return dom, dnsverify.Result{Verified: true, Detail: "already verified"}, nil
		}
		res, err := checker.Check(ctx, dom.Name, dom.Token)
		if err != nil || !res.Verified {
			return dom, res, err
		}
		if err := d.MarkDomainVerified(ctx, by, tenantID, dom.Name); err != nil {
			return dom, res, err
		}
		dom.Verified = true
		return dom, res, nil
	}
	return Domain{}, dnsverify.Result{}, fmt.Errorf("%s for tenant %d: %w", what, tenantID, ErrNotFound)
}
