package directory

import "testing"

func TestCertConnectors(t *testing.T) { forEachDir(t, testCertConnectors) }

func testCertConnectors(t *testing.T, d *Directory) {
	ctx := t.Context()
	acme := tenantWithDomain(t, d, "acme", "acme.test")
	evil := tenantWithDomain(t, d, "evil", "evil.test")

	c := must[Connector](t)(d.CreateCertConnector(ctx, By{Actor: "test"}, acme.ID, "mx", "*.Acme.TEST"))
	if c.CertDomain != "*.acme.test" {
		t.Fatalf("cert domain %q", c.CertDomain)
	}
	exact := must[Connector](t)(d.CreateCertConnector(ctx, By{Actor: "test"}, acme.ID, "relay", "relay.mail.acme.test"))
	// Matching: wildcard one label deep, exact names, case and trailing dots.
	for _, tc := range []struct {
		names []string
		want  int64
	}{
		{[]string{"mx1.acme.test"}, c.ID},
		{[]string{"CN-only", "MX2.ACME.TEST."}, c.ID},
		{[]string{"relay.mail.acme.test"}, exact.ID},
		{[]string{"a.b.acme.test"}, 0}, // two labels below the wildcard
		{[]string{"acme.test"}, 0},     // the wildcard is not the apex
		{[]string{"*.acme.test"}, 0},   // a certificate's own wildcard claims nothing
		{[]string{"mx.evil.test"}, 0},
		{nil, 0},
	} {
		got, tn, ok := d.ConnectorForCert(tc.names)
		if (tc.want == 0) != !ok || (ok && (got.ID != tc.want || tn.ID != acme.ID)) {
			t.Errorf("names %v: got %+v ok=%v, want connector %d", tc.names, got, ok, tc.want)
		}
	}
	// A tenant may only claim names in its own verified domains, and not
	// one another tenant claims.
	_, err := d.CreateCertConnector(ctx, By{Actor: "test"}, evil.ID, "steal", "*.acme.test")
	wantErr(t, err, ErrInvalid, "verified")
	_, err = d.CreateCertConnector(ctx, By{Actor: "test"}, acme.ID, "bad", "*.*.acme.test")
	wantErr(t, err, ErrInvalid)
	// Two tenants with nested verified domains cannot both claim one name.
	must[Connector](t)(d.CreateCertConnector(ctx, By{Actor: "test"}, acme.ID, "nested", "*.mail.acme.test"))
	must[Domain](t)(d.AddDomain(ctx, By{}, evil.ID, "mail.acme.test"))
	if err := d.MarkDomainVerified(ctx, By{}, evil.ID, "mail.acme.test"); err != nil {
		t.Fatal(err)
	}
	_, err = d.CreateCertConnector(ctx, By{Actor: "test"}, evil.ID, "clash", "*.mail.acme.test")
	wantErr(t, err, ErrConflict)
	// Deleting stops the match.
	if err := d.DeleteConnector(ctx, By{}, acme.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := d.ConnectorForCert([]string{"mx1.acme.test"}); ok {
		t.Fatal("a deleted certificate connector still matches")
	}
	// Listed with its domain.
	cs := must[[]Connector](t)(d.Connectors(ctx, acme.ID))
	if len(cs) != 3 || cs[0].CertDomain != "*.acme.test" || len(cs[0].IPRanges) != 0 {
		t.Fatalf("listed %+v", cs)
	}
}
