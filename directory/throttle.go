package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrThrottled is returned by admin sign-in steps (SignIn, ConfirmTOTP,
// CheckTOTP, UseRecoveryCode) while an email has had too many failed
// attempts within the throttle window, even for correct credentials.
var ErrThrottled = errors.New("too many failed sign-in attempts")

// Defaults for WithSignInThrottle: 5 failures within 15 minutes.
const (
	DefaultThrottleLimit  = 5
	DefaultThrottleWindow = 15 * time.Minute
)

// WithSignInThrottle sets how many failed admin sign-in attempts (password,
// TOTP code or recovery code) an email may have within window before every
// further attempt gets ErrThrottled (limit > 0, window > 0; others are
// ignored). Every node of a fleet should use the same values.
func WithSignInThrottle(limit int, window time.Duration) Option {
	return func(d *Directory) {
		if limit > 0 {
			d.throttleLimit = limit
		}
		if window > 0 {
			d.throttleWindow = window
		}
	}
}

// reserveAttempt is the throttle's gate, run before an attempt is checked.
// In one transaction it drops failures older than the window, refuses with
// ErrThrottled if email has throttleLimit failures within it, and otherwise
// records this attempt as a failure and returns its row id. The caller
// deletes that row (clearAttempt, in the transaction that records the
// success) only when the attempt succeeds.
//
// Counting the attempt before it is checked keeps the limit exact under
// concurrency: on PostgreSQL the lock on the email makes the count and the
// insert one step, so a burst of guesses from several nodes gets at most
// throttleLimit checks, not one each. A crash between reservation and
// check leaves a failure behind, which is the safe side. Successes do not
// reset earlier failures: otherwise someone who knows the password could
// sign in again after every few wrong TOTP codes and guess without limit.
func (d *Directory) reserveAttempt(ctx context.Context, email string, at time.Time) (int64, error) {
	return d.reserveAttemptN(ctx, email, d.throttleLimit, at)
}

// reserveAttemptN is reserveAttempt with its own limit (the source-address
// throttle), in the same table and window.
func (d *Directory) reserveAttemptN(ctx context.Context, email string, limit int, at time.Time) (int64, error) {
	cutoff := at.Add(-d.throttleWindow).UnixNano()
	var id int64
	err := d.db.Tx(ctx, func(tx *sql.Tx) error {
		id = 0
		if err := d.db.Lock(ctx, tx, "directory/admin-auth:"+email); err != nil {
			return err
		}
		// Stale rows of every email go, so emails never seen again do
		// not pile up; the index on at keeps this cheap.
		if _, err := tx.ExecContext(ctx, `DELETE FROM admin_auth_failures WHERE at <= $1`, cutoff); err != nil {
			return err
		}
		// The limit-th most recent failure in the window, if any: the
		// throttle lifts when it leaves the window.
		var nth int64
		err := tx.QueryRowContext(ctx, `SELECT at FROM admin_auth_failures WHERE email = $1 AND at > $2
			ORDER BY at DESC LIMIT 1 OFFSET $3`, email, cutoff, limit-1).Scan(&nth)
		if err == nil {
			until := fromNanos(nth).Add(d.throttleWindow)
			return fmt.Errorf("%w: %d failed attempts within %v; try again after %s",
				ErrThrottled, limit, d.throttleWindow, until.Format(time.RFC3339))
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO admin_auth_failures (email, at) VALUES ($1, $2) RETURNING id`,
			email, at.UnixNano()).Scan(&id)
	})
	return id, err
}

// clearAttempt deletes a reserved attempt inside the caller's transaction
// that records its success.
func clearAttempt(ctx context.Context, tx *sql.Tx, id int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM admin_auth_failures WHERE id = $1`, id)
	return err
}

// releaseAttempt deletes a reserved attempt that could not be checked (the
// context ended while waiting for a hash, the database failed): that is not
// a failed guess. Best effort, so it runs even after ctx has ended.
func (d *Directory) releaseAttempt(ctx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := d.db.Tx(ctx, func(tx *sql.Tx) error { return clearAttempt(ctx, tx, id) })
	if err != nil {
		slog.Warn("directory: release sign-in attempt", "id", id, "err", err)
	}
}
