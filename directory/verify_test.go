package directory

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/dnstest"
	"github.com/tollgate-mail/tollgate/dnsverify"
)

// Domain verification looks the record up for real (a DNS server on
// loopback): publishing it verifies the domain, and a second tenant that
// publishes its own token for the same name cannot take it over.
func TestVerifyDomain(t *testing.T) { forEachDir(t, testVerifyDomain) }

func testVerifyDomain(t *testing.T, d *Directory) {
	ctx := t.Context()
	dns := dnstest.Start(t, "acme.test. 60 IN A 192.0.2.1")
	checker := dnsverify.New(dns.Addr)
	acme := must[Tenant](t)(d.CreateTenant(ctx, By{}, "acme", Trial, 0))
	dom := must[Domain](t)(d.AddDomain(ctx, By{}, acme.ID, "Acme.TEST"))
	if want := fmt.Sprintf(`acme.test. IN TXT "tollgate-verification=%s"`, dom.Token); dom.DNSRecord() != want {
		t.Fatalf("record %q, want %q", dom.DNSRecord(), want)
	}

	// Not published yet: not verified, and the reason says so.
	got, res, err := d.VerifyDomain(ctx, By{}, acme.ID, "acme.test", checker)
	if err != nil || got.Verified || res.Verified || !strings.Contains(res.Detail, "no TXT records") {
		t.Fatalf("before publishing: %+v %+v %v", got, res, err)
	}
	if d.IsVerifiedDomain(acme.ID, "acme.test") {
		t.Fatal("verified without a record")
	}
	// Published: verified, and attribution sees it.
	dns.Set(t, "acme.test", fmt.Sprintf(`acme.test. 60 IN TXT "%s"`, dnsverify.Record(dom.Token)))
	got, res, err = d.VerifyDomain(ctx, By{}, acme.ID, "acme.test", checker)
	if err != nil || !got.Verified || !res.Verified {
		t.Fatalf("after publishing: %+v %+v %v", got, res, err)
	}
	eventually(t, "snapshot sees the verified domain", func() bool { return d.IsVerifiedDomain(acme.ID, "acme.test") })

	// Another tenant adds the same name and publishes its own token: the
	// record is found, but the domain is acme's.
	evil := must[Tenant](t)(d.CreateTenant(ctx, By{}, "evil", Trial, 0))
	edom := must[Domain](t)(d.AddDomain(ctx, By{}, evil.ID, "acme.test"))
	dns.Set(t, "acme.test", fmt.Sprintf(`acme.test. 60 IN TXT "%s"`, dnsverify.Record(edom.Token)))
	_, _, err = d.VerifyDomain(ctx, By{}, evil.ID, "acme.test", checker)
	wantErr(t, err, ErrConflict)

	// A DNS failure is an error to retry, not a "no".
	other := must[Domain](t)(d.AddDomain(ctx, By{}, acme.ID, "other.test"))
	dns.ServFail(true)
	if _, _, err := d.VerifyDomain(ctx, By{}, acme.ID, other.Name, checker); !errors.Is(err, dnsverify.ErrLookup) {
		t.Fatalf("SERVFAIL: %v", err)
	}
	dns.ServFail(false)
	_, _, err = d.VerifyDomain(ctx, By{}, acme.ID, "nope.test", checker)
	wantErr(t, err, ErrNotFound)
	_, _, err = d.VerifyDomain(ctx, By{}, acme.ID, "bad domain", checker)
	wantErr(t, err, ErrInvalid)
}
