package dkim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
)

// TXTLooker looks up TXT records; *dnsverify.Checker is the real one, the
// same resolver the domain's verification uses.
type TXTLooker interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// KeyStatus is what DNS holds for one key.
type KeyStatus struct {
	Key
	Published bool
	// Detail says what was found, in a sentence an admin can act on.
	Detail string
}

// CheckResult is the outcome of Check.
type CheckResult struct {
	Keys []KeyStatus
	// Activated is the generation that started signing with this check
	// (0: none did).
	Activated int
}

// Check looks up the records of the domain's pending and active keys. When
// every key of the newest pending generation is published, that generation
// starts signing and the older one is retired: this is how the first keys
// go live and how a rotation completes.
func (s *Store) Check(ctx context.Context, tenantID int64, domain string, dns TXTLooker, actor string) (CheckResult, error) {
	domain = normDomain(domain)
	keys, err := s.Keys(ctx, tenantID, domain)
	if err != nil {
		return CheckResult{}, err
	}
	if len(keys) == 0 {
		return CheckResult{}, fmt.Errorf("dkim: %s: %w", domain, ErrNoKeys)
	}
	var res CheckResult
	pendingGen, pendingAll := 0, true
	for _, k := range keys {
		if k.State == Retired {
			continue
		}
		st, err := lookupKey(ctx, dns, k)
		if err != nil {
			return CheckResult{}, err
		}
		res.Keys = append(res.Keys, st)
		if k.State == Pending {
			if pendingGen == 0 {
				pendingGen = k.Generation
			}
			if k.Generation == pendingGen && !st.Published {
				pendingAll = false
			}
		}
	}
	if pendingGen != 0 && pendingAll {
		if err := s.activate(ctx, tenantID, domain, pendingGen, actor); err != nil {
			return CheckResult{}, err
		}
		res.Activated = pendingGen
	}
	return res, nil
}

// ErrLookup wraps DNS failures that say nothing about the record.
var ErrLookup = errors.New("DNS lookup failed")

func lookupKey(ctx context.Context, dns TXTLooker, k Key) (KeyStatus, error) {
	st := KeyStatus{Key: k}
	name := k.RecordName()
	txts, err := dns.LookupTXT(ctx, name)
	var dnsErr *net.DNSError
	if err != nil && !(errors.As(err, &dnsErr) && dnsErr.IsNotFound) {
		return st, fmt.Errorf("dkim: %w for %s: %v; try again later", ErrLookup, name, err)
	}
	if len(txts) == 0 {
		st.Detail = fmt.Sprintf("no TXT record at %s: publish %q there (changes can take up to an hour to be seen)", name, k.RecordValue())
		return st, nil
	}
	for _, t := range txts {
		if p, ok := publicKeyTag(t); ok && p == k.PublicKey {
			st.Published = true
			st.Detail = fmt.Sprintf("found this key at %s", name)
			return st, nil
		}
	}
	st.Detail = fmt.Sprintf("found %d TXT record(s) at %s, none with this key: replace them with %q", len(txts), name, k.RecordValue())
	return st, nil
}

// publicKeyTag returns the p= tag of a DKIM key record, whitespace removed.
func publicKeyTag(record string) (string, bool) {
	for _, tag := range strings.Split(record, ";") {
		name, value, ok := strings.Cut(tag, "=")
		if ok && strings.TrimSpace(name) == "p" {
			return strings.Join(strings.Fields(value), ""), true
		}
	}
	return "", false
}
