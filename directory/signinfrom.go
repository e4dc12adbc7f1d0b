package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/tollgate-mail/tollgate/mfa"
	"github.com/tollgate-mail/tollgate/password"
)

// DefaultSourceThrottleLimit is how many failed admin sign-ins one source
// address (an IPv4 address, an IPv6 /64) may have within the throttle
// window before every further one from it gets ErrThrottled.
const DefaultSourceThrottleLimit = 20

// WithSourceThrottle sets the per-source-address sign-in limit (limit > 0;
// the window is WithSignInThrottle's).
func WithSourceThrottle(limit int) Option {
	return func(d *Directory) {
		if limit > 0 {
			d.sourceLimit = limit
		}
	}
}

// WithSignInHashes bounds how many admin sign-in password hashes run at
// once (n > 0; default half the CPUs, at least one), beneath the
// process-wide bound, so SMTP AUTH keeps hashing slots however many
// sign-ins arrive.
func WithSignInHashes(n int) Option {
	return func(d *Directory) {
		if n > 0 {
			d.signInHashes = password.NewLimiter(n)
		}
	}
}

// sourceKey is the throttle key of a source address. The prefix keeps it
// apart from emails in the same table.
func sourceKey(src netip.Addr) string {
	src = src.Unmap()
	if src.Is4() {
		return "source:" + src.String()
	}
	p, _ := src.Prefix(64)
	return "source:" + p.String()
}

// SignInFrom is the first step of an admin sign-in from source address
// src, with two throttles:
//
//   - per source address (WithSourceThrottle): a client past it gets
//     ErrThrottled before any hash is spent, whichever emails it tries. It
//     is never lifted early.
//   - per account (WithSignInThrottle), as SignIn. Anyone can fill it with
//     wrong passwords, so it must not lock the admin out: while it holds,
//     the right password together with a valid TOTP code (code) still
//     signs in, and mfaDone says the second factor was checked. Anything
//     less (no code, a wrong password, a wrong code) gets the same
//     ErrThrottled, so the answer tells nothing about the password. Wrong
//     codes given with the right password count toward a third throttle,
//     on the account's second factor, which only the password's holder
//     can fill and which the bypass does not lift.
//
// An invalid src (no address known) skips the source throttle.
func (d *Directory) SignInFrom(ctx context.Context, email, pw, code string, src netip.Addr, now time.Time) (a Admin, mfaDone bool, err error) {
	var srcAttempt int64
	if src.IsValid() {
		if srcAttempt, err = d.reserveAttemptN(ctx, sourceKey(src), d.sourceLimit, now); err != nil {
			return Admin{}, false, fmt.Errorf("sign in from %s: %w", src, err)
		}
	}
	succeeded := func() error {
		if srcAttempt == 0 {
			return nil
		}
		return d.db.Tx(ctx, func(tx *sql.Tx) error { return clearAttempt(ctx, tx, srcAttempt) })
	}
	a, err = d.SignIn(ctx, email, pw, now)
	switch {
	case err == nil:
		return a, false, succeeded()
	case errors.Is(err, ErrThrottled) && code != "":
		if b, berr := d.bypassThrottle(ctx, email, pw, code, now); berr == nil {
			return b, true, succeeded()
		} else if !errors.Is(berr, ErrBadCredentials) && !errors.Is(berr, ErrThrottled) {
			if srcAttempt != 0 {
				d.releaseAttempt(ctx, srcAttempt)
			}
			return Admin{}, false, berr
		}
		return Admin{}, false, fmt.Errorf("%w; the right password with a valid TOTP code (\"code\") signs in all the same", err)
	case errors.Is(err, ErrThrottled):
		return Admin{}, false, fmt.Errorf("%w; the right password with a valid TOTP code (\"code\") signs in all the same", err)
	case errors.Is(err, ErrBadCredentials):
		return Admin{}, false, err // the source's attempt stays a failure
	default:
		if srcAttempt != 0 {
			d.releaseAttempt(ctx, srcAttempt) // not a guess: the store or ctx failed
		}
		return Admin{}, false, err
	}
}

// bypassThrottle checks the password and a TOTP code of an admin whose
// account throttle holds. Only the password's holder reaches the code
// check, so wrong codes count toward the "mfa:" key of the account, which
// nothing lifts early.
func (d *Directory) bypassThrottle(ctx context.Context, email, pw, code string, now time.Time) (Admin, error) {
	addr, _, err := normAddress(email)
	if err != nil {
		return Admin{}, ErrBadCredentials
	}
	var hash string
	a, err := scanAdmin(d.db.Read.QueryRowContext(ctx, `SELECT `+adminCols+`, password_hash FROM admins WHERE email = $1`, addr), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return Admin{}, ErrBadCredentials
	} else if err != nil {
		return Admin{}, err
	}
	if len(pw) > maxAdminPassword {
		return Admin{}, ErrBadCredentials
	}
	ok, err := d.signInHashes.VerifyContext(ctx, pw, hash)
	if err != nil && !errors.Is(err, password.ErrMalformed) {
		return Admin{}, err
	}
	if !ok {
		return Admin{}, ErrBadCredentials
	}
	st, err := d.totpState(ctx, a.ID)
	if err != nil {
		return Admin{}, err
	}
	if st.secret == "" {
		return Admin{}, ErrBadCredentials // no second factor: the throttle stands
	}
	attempt, err := d.reserveAttempt(ctx, "mfa:"+addr, now)
	if err != nil {
		return Admin{}, err
	}
	valid, step, err := mfa.Verify(st.secret, code, now, st.lastStep)
	if err := codeError("sign in "+addr, valid, err, a.ID); err != nil {
		return Admin{}, err
	}
	accepted, err := d.acceptStep(ctx, a.ID, st.secret, step, attempt)
	if err != nil {
		d.releaseAttempt(ctx, attempt)
		return Admin{}, err
	}
	if !accepted {
		return Admin{}, ErrBadCredentials
	}
	at := now.UnixNano()
	if _, err := d.db.Write.ExecContext(ctx, `UPDATE admins SET last_sign_in = $1 WHERE id = $2`, at, a.ID); err != nil {
		return Admin{}, err
	}
	a.LastSignIn = fromNanos(at)
	return a, nil
}
