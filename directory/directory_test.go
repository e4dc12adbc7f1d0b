package directory

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/password"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

func TestMain(m *testing.M) {
	// Cheap hashes keep the suite fast; production keeps DefaultParams.
	password.SetParams(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	m.Run()
}

// forEachStore runs fn against a fresh SQLite file and a fresh PostgreSQL
// schema (see storetest), so this suite is the directory's conformance
// suite for both stores.
func forEachStore(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	storetest.ForEach(t, fn)
}

// forEachDir is forEachStore with a Directory opened on the store.
func forEachDir(t *testing.T, fn func(t *testing.T, d *Directory)) {
	t.Helper()
	forEachStore(t, func(t *testing.T, db *store.DB) { fn(t, openDir(t, db)) })
}

func openDir(t *testing.T, db *store.DB, opts ...Option) *Directory {
	t.Helper()
	d, err := Open(t.Context(), db, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// must fails the test on err and returns v.
func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// wantErr checks errors.Is(err, target) and that the message mentions each
// of mention.
func wantErr(t *testing.T, err, target error, mention ...string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
	for _, m := range mention {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// tenantWithDomain creates a tenant with one verified domain.
func tenantWithDomain(t *testing.T, d *Directory, name, domain string) Tenant {
	t.Helper()
	tn := must[Tenant](t)(d.CreateTenant(t.Context(), By{}, name, Licensed, 10))
	must[Domain](t)(d.AddDomain(t.Context(), By{}, tn.ID, domain))
	if err := d.MarkDomainVerified(t.Context(), By{}, tn.ID, domain); err != nil {
		t.Fatal(err)
	}
	return tn
}

func prefixes(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

func TestTenants(t *testing.T) {
	forEachDir(t, testTenants)
}

func testTenants(t *testing.T, d *Directory) {
	ctx := t.Context()
	a := must[Tenant](t)(d.CreateTenant(ctx, By{}, "  Acme  ", Trial, 0))
	if a.ID == 0 || a.Name != "Acme" || a.License != Trial || a.CreatedAt.IsZero() {
		t.Fatalf("created %+v", a)
	}
	if got := must[Tenant](t)(d.Tenant(ctx, a.ID)); got != a {
		t.Fatalf("Tenant = %+v, want %+v", got, a)
	}
	if got := must[Tenant](t)(d.TenantByName(ctx, "Acme")); got != a {
		t.Fatalf("TenantByName = %+v, want %+v", got, a)
	}
	_, err := d.CreateTenant(ctx, By{}, "Acme", Licensed, 5)
	wantErr(t, err, ErrConflict, "Acme")
	_, err = d.Tenant(ctx, 999)
	wantErr(t, err, ErrNotFound, "999")
	_, err = d.TenantByName(ctx, "nobody")
	wantErr(t, err, ErrNotFound, "nobody")
	_, err = d.CreateTenant(ctx, By{}, " ", Trial, 0)
	wantErr(t, err, ErrInvalid, "empty")
	_, err = d.CreateTenant(ctx, By{}, "x", "gold", 0)
	wantErr(t, err, ErrInvalid, "gold")
	_, err = d.CreateTenant(ctx, By{}, "x", Licensed, -1)
	wantErr(t, err, ErrInvalid, "-1")
}

func TestDomains(t *testing.T) {
	forEachDir(t, testDomains)
}

func testDomains(t *testing.T, d *Directory) {
	ctx := t.Context()
	a := must[Tenant](t)(d.CreateTenant(ctx, By{}, "a", Licensed, 1))
	b := must[Tenant](t)(d.CreateTenant(ctx, By{}, "b", Licensed, 1))

	dom := must[Domain](t)(d.AddDomain(ctx, By{}, a.ID, "Example.COM."))
	if dom.Name != "example.com" || dom.Verified || len(dom.Token) < 20 || dom.TenantID != a.ID {
		t.Fatalf("added %+v", dom)
	}
	_, err := d.AddDomain(ctx, By{}, a.ID, "example.com")
	wantErr(t, err, ErrConflict, "example.com")
	_, err = d.AddDomain(ctx, By{}, 999, "example.org")
	wantErr(t, err, ErrNotFound, "999")
	_, err = d.AddDomain(ctx, By{}, a.ID, "exa_mple.com")
	wantErr(t, err, ErrInvalid, "exa_mple.com")
	if d.IsVerifiedDomain(a.ID, "example.com") {
		t.Fatal("pending domain reported verified")
	}

	// b may add the same name pending; the token differs.
	domB := must[Domain](t)(d.AddDomain(ctx, By{}, b.ID, "example.com"))
	if domB.Token == dom.Token {
		t.Fatal("two domains share a token")
	}
	if err := d.MarkDomainVerified(ctx, By{}, a.ID, "EXAMPLE.com"); err != nil {
		t.Fatal(err)
	}
	if err := d.MarkDomainVerified(ctx, By{}, a.ID, "example.com"); err != nil {
		t.Fatalf("verifying again: %v", err)
	}
	wantErr(t, d.MarkDomainVerified(ctx, By{}, b.ID, "example.com"), ErrConflict, "example.com")
	wantErr(t, d.MarkDomainVerified(ctx, By{}, a.ID, "other.com"), ErrNotFound, "other.com")

	if !d.IsVerifiedDomain(a.ID, "Example.com.") || d.IsVerifiedDomain(b.ID, "example.com") {
		t.Fatal("IsVerifiedDomain wrong after verification")
	}
	must[Domain](t)(d.AddDomain(ctx, By{}, a.ID, "alpha.example"))
	list := must[[]Domain](t)(d.Domains(ctx, a.ID))
	if len(list) != 2 || list[0].Name != "alpha.example" || list[1].Name != "example.com" || !list[1].Verified || list[1].Token != dom.Token {
		t.Fatalf("Domains = %+v", list)
	}
	_, err = d.Domains(ctx, 999)
	wantErr(t, err, ErrNotFound)
}

func TestOpenTwiceAndClose(t *testing.T) {
	forEachStore(t, testOpenTwiceAndClose)
}

func testOpenTwiceAndClose(t *testing.T, db *store.DB) {
	d1 := openDir(t, db)
	d2 := openDir(t, db) // migrations already applied: a no-op
	if err := d1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d1.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	must[Tenant](t)(d2.CreateTenant(t.Context(), By{}, "x", Trial, 0))
}
