package directory

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
)

const adminPW = "correct horse battery"

// t0 is a fixed sign-in time, 10 s into a TOTP step.
var t0 = time.Date(2026, 11, 20, 12, 0, 10, 0, time.UTC)

func TestAdmins(t *testing.T) {
	forEachDir(t, testAdmins)
}

func testAdmins(t *testing.T, d *Directory) {
	ctx := t.Context()
	a := tenantWithDomain(t, d, "a", "a.example")
	b := tenantWithDomain(t, d, "b", "b.example")

	op := must[Admin](t)(d.CreateAdmin(ctx, By{}, 0, "Root@Ops.Example", adminPW, Operator))
	if op.ID == 0 || op.Email != "root@ops.example" || op.Role != Operator || op.TenantID != 0 || op.TOTPEnabled ||
		op.CreatedAt.IsZero() || !op.PasswordChangedAt.Equal(op.CreatedAt) || !op.LastSignIn.IsZero() {
		t.Fatalf("created %+v", op)
	}
	ta := must[Admin](t)(d.CreateAdmin(ctx, By{}, a.ID, "boss@a.example", adminPW, TenantAdmin))
	tb := must[Admin](t)(d.CreateAdmin(ctx, By{}, a.ID, "aide@a.example", adminPW, TenantAdmin))
	must[Admin](t)(d.CreateAdmin(ctx, By{}, b.ID, "boss@b.example", adminPW, TenantAdmin))

	if got := must[Admin](t)(d.Admin(ctx, ta.ID)); got != ta {
		t.Fatalf("Admin = %+v, want %+v", got, ta)
	}
	_, err := d.Admin(ctx, 999)
	wantErr(t, err, ErrNotFound, "999")

	ops := must[[]Admin](t)(d.Admins(ctx, 0))
	if len(ops) != 1 || ops[0] != op {
		t.Fatalf("Admins(0) = %+v", ops)
	}
	as := must[[]Admin](t)(d.Admins(ctx, a.ID))
	if len(as) != 2 || as[0] != tb || as[1] != ta {
		t.Fatalf("Admins(a) = %+v, want aide then boss", as)
	}
	_, err = d.Admins(ctx, 999)
	wantErr(t, err, ErrNotFound, "999")

	for _, c := range []struct {
		tenant          int64
		email, pw       string
		role            Role
		target          error
		mention1, ment2 string
	}{
		{0, "BOSS@a.example", adminPW, Operator, ErrConflict, "BOSS@a.example", "exists"},
		{0, "x@ops.example", "short pw", Operator, ErrInvalid, "x@ops.example", "12 to 1024 bytes"},
		{0, "x@ops.example", strings.Repeat("p", 1025), Operator, ErrInvalid, "x@ops.example", "12 to 1024 bytes"},
		{0, "not an address", adminPW, Operator, ErrInvalid, "not an address", "address"},
		{a.ID, "x@ops.example", adminPW, Operator, ErrInvalid, "x@ops.example", "operator"},
		{0, "x@ops.example", adminPW, TenantAdmin, ErrInvalid, "x@ops.example", "tenant"},
		{a.ID, "x@ops.example", adminPW, "root", ErrInvalid, "x@ops.example", "root"},
		{999, "x@ops.example", adminPW, TenantAdmin, ErrNotFound, "x@ops.example", "999"},
	} {
		_, err := d.CreateAdmin(ctx, By{}, c.tenant, c.email, c.pw, c.role)
		wantErr(t, err, c.target, c.mention1, c.ment2)
	}
	// 12 bytes is enough.
	must[Admin](t)(d.CreateAdmin(ctx, By{}, 0, "twelve@ops.example", "123456789012", Operator))

	// A new password replaces the old and moves PasswordChangedAt.
	time.Sleep(time.Millisecond)
	if _, err := d.SetAdminPassword(ctx, By{}, ta.ID, "a brand new password"); err != nil {
		t.Fatal(err)
	}
	got := must[Admin](t)(d.Admin(ctx, ta.ID))
	if !got.PasswordChangedAt.After(ta.PasswordChangedAt) || !got.CreatedAt.Equal(ta.CreatedAt) {
		t.Fatalf("after SetAdminPassword: %+v (before %+v)", got, ta)
	}
	_, err = d.SignIn(ctx, "boss@a.example", adminPW, t0)
	wantErr(t, err, ErrBadCredentials)
	must[Admin](t)(d.SignIn(ctx, "boss@a.example", "a brand new password", t0))
	_, err = d.SetAdminPassword(ctx, By{}, ta.ID, "too short")
	wantErr(t, err, ErrInvalid, "12 to 1024")
	_, err = d.SetAdminPassword(ctx, By{}, 999, "long enough password")
	wantErr(t, err, ErrNotFound, "999")
}

func TestSignIn(t *testing.T) {
	forEachDir(t, testSignIn)
}

func testSignIn(t *testing.T, d *Directory) {
	ctx := t.Context()
	op := must[Admin](t)(d.CreateAdmin(ctx, By{}, 0, "root@ops.example", adminPW, Operator))

	got := must[Admin](t)(d.SignIn(ctx, " ROOT@ops.example ", adminPW, t0))
	if got.ID != op.ID || got.TOTPEnabled || !got.LastSignIn.Equal(t0) {
		t.Fatalf("SignIn = %+v", got)
	}
	if stored := must[Admin](t)(d.Admin(ctx, op.ID)); !stored.LastSignIn.Equal(t0) {
		t.Fatalf("LastSignIn stored %v, want %v", stored.LastSignIn, t0)
	}

	real := d.dummyHash
	calls := 0
	d.dummyHash = func() (string, error) { calls++; return real() }
	for _, c := range []struct{ email, pw string }{
		{"root@ops.example", "wrong password"},
		{"root@ops.example", ""},
		{"root@ops.example", strings.Repeat("x", 2000)},
		{"ghost@ops.example", adminPW},
		{"not an address", adminPW},
	} {
		_, err := d.SignIn(ctx, c.email, c.pw, t0)
		wantErr(t, err, ErrBadCredentials)
	}
	if calls != 1 {
		t.Fatalf("dummy hash used %d times, want 1 (for the unknown email)", calls)
	}
	// Those were 2 + 1 failures for root (under the limit of 5).
	must[Admin](t)(d.SignIn(ctx, "root@ops.example", adminPW, t0))
}

func TestSignInThrottle(t *testing.T) {
	forEachDir(t, testSignInThrottle)
}

func testSignInThrottle(t *testing.T, d *Directory) {
	ctx := t.Context()
	must[Admin](t)(d.CreateAdmin(ctx, By{}, 0, "root@ops.example", adminPW, Operator))
	must[Admin](t)(d.CreateAdmin(ctx, By{}, 0, "other@ops.example", adminPW, Operator))

	// Five failures spread over 10 minutes.
	for i := range DefaultThrottleLimit {
		_, err := d.SignIn(ctx, "root@ops.example", "wrong password", t0.Add(time.Duration(i)*2*time.Minute))
		wantErr(t, err, ErrBadCredentials)
	}
	last := t0.Add(8 * time.Minute)
	// Now even the right password is refused, and says until when: the
	// first failure leaves the window at t0+15m.
	_, err := d.SignIn(ctx, "root@ops.example", adminPW, last.Add(time.Second))
	wantErr(t, err, ErrThrottled, t0.Add(DefaultThrottleWindow).Format(time.RFC3339))
	_, err = d.SignIn(ctx, "root@ops.example", adminPW, t0.Add(DefaultThrottleWindow-time.Second))
	wantErr(t, err, ErrThrottled)
	// Another admin is not affected.
	must[Admin](t)(d.SignIn(ctx, "other@ops.example", adminPW, last))

	// Once the first failure is out of the window, one attempt is allowed
	// again; the right password gets in.
	must[Admin](t)(d.SignIn(ctx, "root@ops.example", adminPW, t0.Add(DefaultThrottleWindow)))
	// A success does not wipe the other four failures: one more wrong
	// password throttles again.
	_, err = d.SignIn(ctx, "root@ops.example", "wrong again", t0.Add(DefaultThrottleWindow+time.Second))
	wantErr(t, err, ErrBadCredentials)
	_, err = d.SignIn(ctx, "root@ops.example", adminPW, t0.Add(DefaultThrottleWindow+2*time.Second))
	wantErr(t, err, ErrThrottled)
	// After a whole window of quiet, all is well.
	must[Admin](t)(d.SignIn(ctx, "root@ops.example", adminPW, t0.Add(DefaultThrottleWindow+2*time.Second+DefaultThrottleWindow)))

	// Unknown emails are throttled alike, so throttling does not reveal
	// which emails exist.
	for range DefaultThrottleLimit {
		_, err := d.SignIn(ctx, "ghost@ops.example", "guess", t0)
		wantErr(t, err, ErrBadCredentials)
	}
	_, err = d.SignIn(ctx, "Ghost@ops.example", "guess", t0)
	wantErr(t, err, ErrThrottled)
}

func TestSignInThrottleOption(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *store.DB) {
		d := openDir(t, db, WithSignInThrottle(2, time.Minute))
		ctx := t.Context()
		must[Admin](t)(d.CreateAdmin(ctx, By{}, 0, "root@ops.example", adminPW, Operator))
		for range 2 {
			_, err := d.SignIn(ctx, "root@ops.example", "wrong password", t0)
			wantErr(t, err, ErrBadCredentials)
		}
		_, err := d.SignIn(ctx, "root@ops.example", adminPW, t0.Add(59*time.Second))
		wantErr(t, err, ErrThrottled, "2 failed attempts within 1m0s")
		must[Admin](t)(d.SignIn(ctx, "root@ops.example", adminPW, t0.Add(time.Minute)))
	})
}

// A burst of guesses from two nodes at once gets exactly the limit's worth
// of password checks: attempts are counted before they are checked.
func TestSignInThrottleConcurrent(t *testing.T) {
	forEachStore(t, testSignInThrottleConcurrent)
}

func testSignInThrottleConcurrent(t *testing.T, db *store.DB) {
	nodes := twoNodes(t, db)
	must[Admin](t)(nodes[0].CreateAdmin(t.Context(), By{}, 0, "root@ops.example", adminPW, Operator))
	errs := race(12, func(i int) error {
		_, err := nodes[i%2].SignIn(t.Context(), "root@ops.example", "wrong password", t0)
		return err
	})
	var bad, throttled int
	for i, err := range errs {
		switch {
		case errors.Is(err, ErrBadCredentials):
			bad++
		case errors.Is(err, ErrThrottled):
			throttled++
		default:
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if bad != DefaultThrottleLimit || throttled != 12-DefaultThrottleLimit {
		t.Fatalf("%d bad credentials, %d throttled; want %d and %d", bad, throttled, DefaultThrottleLimit, 12-DefaultThrottleLimit)
	}
}

// A tenant admin's new admin must be at one of the tenant's verified
// domains: not a pending one, not another tenant's, and not before the
// tenant has any.
func TestCreateAdminAtOwnDomain(t *testing.T) {
	forEachDir(t, testCreateAdminAtOwnDomain)
}

func testCreateAdminAtOwnDomain(t *testing.T, d *Directory) {
	ctx := t.Context()
	a := must[Tenant](t)(d.CreateTenant(ctx, By{}, "a", Licensed, 1))
	b := must[Tenant](t)(d.CreateTenant(ctx, By{}, "b", Licensed, 1))
	const pw = "a long admin password"
	_, err := d.CreateAdminAtOwnDomain(ctx, By{}, a.ID, "x@a.test", pw)
	wantErr(t, err, ErrInvalid, "has none yet")
	for _, dom := range []string{"a.test", "pending.test"} {
		must[Domain](t)(d.AddDomain(ctx, By{}, a.ID, dom))
	}
	if err := d.MarkDomainVerified(ctx, By{}, a.ID, "a.test"); err != nil {
		t.Fatal(err)
	}
	must[Domain](t)(d.AddDomain(ctx, By{}, b.ID, "b.test"))
	if err := d.MarkDomainVerified(ctx, By{}, b.ID, "b.test"); err != nil {
		t.Fatal(err)
	}
	if ad := must[Admin](t)(d.CreateAdminAtOwnDomain(ctx, By{}, a.ID, "New@A.Test", pw)); ad.Email != "new@a.test" || ad.TenantID != a.ID || ad.Role != TenantAdmin {
		t.Fatalf("admin %+v", ad)
	}
	_, err = d.CreateAdminAtOwnDomain(ctx, By{}, a.ID, "x@pending.test", pw)
	wantErr(t, err, ErrInvalid, "(a.test)", "pending.test is not one")
	_, err = d.CreateAdminAtOwnDomain(ctx, By{}, a.ID, "x@b.test", pw)
	wantErr(t, err, ErrInvalid, "b.test is not one")
	_, err = d.CreateAdminAtOwnDomain(ctx, By{}, a.ID, "new@a.test", pw)
	wantErr(t, err, ErrConflict)
}
