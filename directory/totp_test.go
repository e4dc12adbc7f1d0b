package directory

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/tollgate-mail/tollgate/mfa"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// codeAt makes a TOTP code with the library's own generator, independent
// of mfa.Verify's step arithmetic.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode returns a 6-digit code that is valid for none of the steps
// around at.
func wrongCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	valid := []string{codeAt(t, secret, at.Add(-time.Minute)), codeAt(t, secret, at.Add(-30*time.Second)), codeAt(t, secret, at),
		codeAt(t, secret, at.Add(30*time.Second)), codeAt(t, secret, at.Add(time.Minute))}
	for _, c := range []string{"000000", "111111", "222222", "333333", "444444", "555555"} {
		if !slices.Contains(valid, c) {
			return c
		}
	}
	panic("unreachable")
}

// enrolled creates an operator with TOTP confirmed at t0 and returns it,
// its secret and its recovery codes.
func enrolled(t *testing.T, d *Directory, email string) (Admin, string, []string) {
	t.Helper()
	ctx := t.Context()
	a := must[Admin](t)(d.CreateAdmin(ctx, By{}, 0, email, adminPW, Operator))
	e := must[mfa.Enrollment](t)(d.BeginTOTP(ctx, a.ID, "Tollgate"))
	rec := must[[]string](t)(d.ConfirmTOTP(ctx, a.ID, codeAt(t, e.Secret, t0), t0))
	return must[Admin](t)(d.Admin(ctx, a.ID)), e.Secret, rec
}

func TestTOTP(t *testing.T) {
	forEachDir(t, testTOTP)
}

func testTOTP(t *testing.T, d *Directory) {
	ctx := t.Context()
	a := must[Admin](t)(d.CreateAdmin(ctx, By{}, 0, "root@ops.example", adminPW, Operator))
	if s := must[Admin](t)(d.SignIn(ctx, "root@ops.example", adminPW, t0)); s.TOTPEnabled {
		t.Fatal("new admin has TOTP enabled")
	}
	wantErr(t, d.CheckTOTP(ctx, a.ID, "123456", t0), ErrConflict, "not enabled")
	_, err := d.ConfirmTOTP(ctx, a.ID, "123456", t0)
	wantErr(t, err, ErrConflict, "BeginTOTP")
	_, err = d.BeginTOTP(ctx, a.ID, "bad:issuer")
	wantErr(t, err, ErrInvalid, "issuer")
	_, err = d.BeginTOTP(ctx, 999, "Tollgate")
	wantErr(t, err, ErrNotFound, "999")

	// Beginning twice: only the second secret counts.
	first := must[mfa.Enrollment](t)(d.BeginTOTP(ctx, a.ID, "Tollgate"))
	e := must[mfa.Enrollment](t)(d.BeginTOTP(ctx, a.ID, "Tollgate"))
	if e.Secret == first.Secret || e.URL == "" || len(e.PNG) == 0 {
		t.Fatalf("enrolment %+v", e)
	}
	_, err = d.ConfirmTOTP(ctx, a.ID, codeAt(t, first.Secret, t0), t0)
	wantErr(t, err, ErrBadCredentials)
	_, err = d.ConfirmTOTP(ctx, a.ID, "12345", t0)
	wantErr(t, err, ErrBadCredentials)
	if !errors.Is(err, mfa.ErrCodeFormat) {
		t.Errorf("malformed code: %v, want mfa.ErrCodeFormat too", err)
	}
	if must[Admin](t)(d.Admin(ctx, a.ID)).TOTPEnabled {
		t.Fatal("TOTP enabled by a wrong code")
	}

	rec := must[[]string](t)(d.ConfirmTOTP(ctx, a.ID, codeAt(t, e.Secret, t0), t0))
	if len(rec) != mfa.DefaultRecoveryCodes || len(slices.Compact(slices.Sorted(slices.Values(rec)))) != len(rec) {
		t.Fatalf("recovery codes %v", rec)
	}
	if !must[Admin](t)(d.Admin(ctx, a.ID)).TOTPEnabled {
		t.Fatal("TOTP not enabled after confirmation")
	}
	var stored int
	if err := d.db.Read.QueryRow(`SELECT COUNT(*) FROM admin_recovery_codes WHERE admin_id = $1 AND hash LIKE '$argon2id$%'`, a.ID).Scan(&stored); err != nil || stored != len(rec) {
		t.Fatalf("%d argon2id recovery hashes stored (%v), want %d", stored, err, len(rec))
	}
	_, err = d.BeginTOTP(ctx, a.ID, "Tollgate")
	wantErr(t, err, ErrConflict, "already enabled")
	_, err = d.ConfirmTOTP(ctx, a.ID, codeAt(t, e.Secret, t0), t0)
	wantErr(t, err, ErrConflict, "already enabled")

	// Two wrong codes so far. The confirming code's step is used up.
	wantErr(t, d.CheckTOTP(ctx, a.ID, codeAt(t, e.Secret, t0), t0), ErrBadCredentials)
	next := t0.Add(30 * time.Second)
	code := codeAt(t, e.Secret, next)
	if err := d.CheckTOTP(ctx, a.ID, code, next); err != nil {
		t.Fatal(err)
	}
	// Replay within the validity window: refused. A wrong code makes 5
	// failures.
	wantErr(t, d.CheckTOTP(ctx, a.ID, code, next.Add(5*time.Second)), ErrBadCredentials, "already used")
	wantErr(t, d.CheckTOTP(ctx, a.ID, wrongCode(t, e.Secret, next), next.Add(6*time.Second)), ErrBadCredentials)

	// TOTP failures count toward the same throttle as SignIn: a right
	// password and a right code are now both refused.
	_, err = d.SignIn(ctx, "root@ops.example", adminPW, next.Add(10*time.Second))
	wantErr(t, err, ErrThrottled)
	later := next.Add(30 * time.Second)
	wantErr(t, d.CheckTOTP(ctx, a.ID, codeAt(t, e.Secret, later), later), ErrThrottled)

	// After the window, the next step's code works.
	free := t0.Add(DefaultThrottleWindow + time.Minute)
	must[Admin](t)(d.SignIn(ctx, "root@ops.example", adminPW, free))
	if err := d.CheckTOTP(ctx, a.ID, codeAt(t, e.Secret, free), free); err != nil {
		t.Fatal(err)
	}
	wantErr(t, d.CheckTOTP(ctx, a.ID, wrongCode(t, e.Secret, free), free), ErrBadCredentials)
	wantErr(t, d.CheckTOTP(ctx, 999, "000000", free), ErrNotFound)

	// A recovery code works once.
	d.clock = func() time.Time { return free }
	left, err := d.UseRecoveryCode(ctx, a.ID, rec[3])
	if err != nil || left != len(rec)-1 {
		t.Fatalf("UseRecoveryCode = %d, %v; want %d, nil", left, err, len(rec)-1)
	}
	_, err = d.UseRecoveryCode(ctx, a.ID, rec[3])
	wantErr(t, err, ErrBadCredentials)
	_, err = d.UseRecoveryCode(ctx, a.ID, "not-a-code")
	wantErr(t, err, ErrBadCredentials)
	// Typed in upper case without dashes, another one still works.
	left, err = d.UseRecoveryCode(ctx, a.ID, "  "+upperNoDash(rec[0]))
	if err != nil || left != len(rec)-2 {
		t.Fatalf("UseRecoveryCode = %d, %v; want %d, nil", left, err, len(rec)-2)
	}

	// Reset: TOTP off and recovery codes gone; enrolling again works.
	if _, err := d.ResetTOTP(ctx, By{}, a.ID); err != nil {
		t.Fatal(err)
	}
	if must[Admin](t)(d.Admin(ctx, a.ID)).TOTPEnabled {
		t.Fatal("TOTP enabled after reset")
	}
	_, err = d.UseRecoveryCode(ctx, a.ID, rec[1])
	wantErr(t, err, ErrConflict)
	_, err = d.ResetTOTP(ctx, By{}, 999)
	wantErr(t, err, ErrNotFound)
	e2 := must[mfa.Enrollment](t)(d.BeginTOTP(ctx, a.ID, "Tollgate"))
	rec2 := must[[]string](t)(d.ConfirmTOTP(ctx, a.ID, codeAt(t, e2.Secret, free), free))
	_, err = d.UseRecoveryCode(ctx, a.ID, rec[1])
	wantErr(t, err, ErrBadCredentials) // the old set is gone
	if _, err := d.UseRecoveryCode(ctx, a.ID, rec2[1]); err != nil {
		t.Fatal(err)
	}
}

func upperNoDash(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '-' {
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
		}
	}
	return string(out)
}

// One fresh code used at the same moment on two nodes, several times over:
// exactly one use passes. Every racer reads the old last step and passes
// mfa.Verify; only the conditional UPDATE can tell them apart.
func TestTOTPConcurrentUse(t *testing.T) {
	forEachStore(t, testTOTPConcurrentUse)
}

func testTOTPConcurrentUse(t *testing.T, db *store.DB) {
	// A throttle high enough that it does not decide the race.
	nodes := [2]*Directory{openDir(t, db, WithSignInThrottle(1000, time.Minute))}
	nodes[1] = openDir(t, storetest.Reopen(t, db), WithSignInThrottle(1000, time.Minute))
	a, secret, _ := enrolled(t, nodes[0], "root@ops.example")
	for round := 1; round <= 5; round++ {
		at := t0.Add(time.Duration(round) * 30 * time.Second)
		code := codeAt(t, secret, at)
		errs := race(8, func(i int) error { return nodes[i%2].CheckTOTP(t.Context(), a.ID, code, at) })
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, ErrBadCredentials):
				t.Fatalf("round %d, use %d: %v", round, i, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of 8 concurrent uses of one code passed, want 1 (%v)", round, ok, errs)
		}
	}
}

// The conditional UPDATE itself: with a stale last step (as a racer that
// read before the other's commit has) the second acceptance is refused.
func TestTOTPStaleReadRefused(t *testing.T) {
	forEachDir(t, func(t *testing.T, d *Directory) {
		a, secret, _ := enrolled(t, d, "root@ops.example")
		at := t0.Add(30 * time.Second)
		code := codeAt(t, secret, at)
		st := must[totpState](t)(d.totpState(t.Context(), a.ID))
		if err := d.CheckTOTP(t.Context(), a.ID, code, at); err != nil {
			t.Fatal(err)
		}
		// What a racer that read st before that commit does next: Verify
		// passes on its stale last step, the conditional update refuses.
		ok, step, err := mfa.Verify(st.secret, code, at, st.lastStep)
		if !ok || err != nil {
			t.Fatalf("stale Verify = %v, %v", ok, err)
		}
		if accepted, err := d.acceptStep(t.Context(), a.ID, st.secret, step, 0); accepted || err != nil {
			t.Fatalf("acceptStep of a used step = %v, %v; want false, nil", accepted, err)
		}
		// A later step is accepted.
		if accepted, err := d.acceptStep(t.Context(), a.ID, st.secret, step+1, 0); !accepted || err != nil {
			t.Fatalf("acceptStep of a new step = %v, %v; want true, nil", accepted, err)
		}
	})
}

// Two concurrent uses of one recovery code: one passes.
func TestRecoveryCodeConcurrentUse(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *store.DB) {
		nodes := [2]*Directory{openDir(t, db, WithSignInThrottle(1000, time.Minute))}
		nodes[1] = openDir(t, storetest.Reopen(t, db), WithSignInThrottle(1000, time.Minute))
		a, _, rec := enrolled(t, nodes[0], "root@ops.example")
		errs := race(4, func(i int) error { _, err := nodes[i%2].UseRecoveryCode(t.Context(), a.ID, rec[0]); return err })
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, ErrBadCredentials):
				t.Fatalf("use %d: %v", i, err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of 4 concurrent uses of one recovery code passed, want 1", ok)
		}
	})
}
