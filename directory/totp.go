package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tollgate-mail/tollgate/mfa"
	"github.com/tollgate-mail/tollgate/password"
)

// totpState is an admin's second-factor record.
type totpState struct {
	email    string
	secret   string // "" until TOTP is confirmed
	pending  string // "" unless an enrolment awaits its first code
	lastStep int64
}

func (d *Directory) totpState(ctx context.Context, adminID int64) (totpState, error) {
	var st totpState
	var secret, pending sql.NullString
	err := d.db.Read.QueryRowContext(ctx, `SELECT email, totp_secret, totp_pending, totp_last_step FROM admins WHERE id = $1`, adminID).
		Scan(&st.email, &secret, &pending, &st.lastStep)
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("admin %d: %w", adminID, ErrNotFound)
	}
	st.secret, st.pending = secret.String, pending.String
	return st, err
}

// BeginTOTP starts TOTP enrolment: it makes a new secret for the admin's
// email at issuer (shown in authenticator apps), stores it as pending and
// returns it with its otpauth URL and QR code. It does not enable TOTP:
// ConfirmTOTP does, given a first code. Beginning again replaces the
// pending secret. An admin with TOTP enabled gets ErrConflict (an operator
// must ResetTOTP first), so a stolen password cannot re-enrol the account.
//
// The secret is stored as is: it must be readable to check codes, so it is
// as sensitive as the database itself.
func (d *Directory) BeginTOTP(ctx context.Context, adminID int64, issuer string) (mfa.Enrollment, error) {
	what := fmt.Sprintf("begin TOTP enrolment of admin %d", adminID)
	st, err := d.totpState(ctx, adminID)
	if err != nil {
		return mfa.Enrollment{}, fmt.Errorf("%s: %w", what, err)
	}
	if st.secret != "" {
		return mfa.Enrollment{}, fmt.Errorf("%s: %w: TOTP is already enabled", what, ErrConflict)
	}
	e, err := mfa.Enroll(issuer, st.email)
	if err != nil {
		return mfa.Enrollment{}, invalid(what, err)
	}
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE admins SET totp_pending = $1 WHERE id = $2 AND totp_secret IS NULL`, e.Secret, adminID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("%s: %w: TOTP was enabled meanwhile", what, ErrConflict))
		}
		return nil
	})
	if err != nil {
		return mfa.Enrollment{}, err
	}
	return e, nil
}

// ConfirmTOTP finishes enrolment: if code is valid for the pending secret
// at now, TOTP is enabled (the code's step counts as used) and a fresh set
// of recovery codes replaces any old one. The plaintext codes are returned
// to be shown once; only their argon2id hashes are stored. A wrong code is
// ErrBadCredentials (wrapping mfa.ErrCodeFormat if it is not 6 digits) and
// counts toward the sign-in throttle; with no enrolment pending, or TOTP
// already enabled, the answer is ErrConflict.
func (d *Directory) ConfirmTOTP(ctx context.Context, adminID int64, code string, now time.Time) ([]string, error) {
	what := fmt.Sprintf("confirm TOTP of admin %d", adminID)
	st, err := d.totpState(ctx, adminID)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", what, err)
	case st.secret != "":
		return nil, fmt.Errorf("%s: %w: TOTP is already enabled", what, ErrConflict)
	case st.pending == "":
		return nil, fmt.Errorf("%s: %w: no enrolment in progress (BeginTOTP first)", what, ErrConflict)
	}
	attempt, err := d.reserveAttempt(ctx, st.email, now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ok, step, err := mfa.Verify(st.pending, code, now, 0)
	if err := codeError(what, ok, err, adminID); err != nil {
		return nil, err
	}
	plain, hashes, err := mfa.RecoveryCodes(0)
	if err != nil {
		d.releaseAttempt(ctx, attempt)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE admins SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1
			WHERE id = $2 AND totp_pending = $3 AND totp_secret IS NULL`, step, adminID, st.pending)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("%s: %w: the enrolment changed meanwhile", what, ErrConflict))
		}
		if err := replaceRecoveryCodes(ctx, tx, adminID, hashes); err != nil {
			return err
		}
		return clearAttempt(ctx, tx, attempt)
	})
	if err != nil {
		d.releaseAttempt(ctx, attempt)
		return nil, err
	}
	return plain, nil
}

func replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, adminID int64, hashes []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM admin_recovery_codes WHERE admin_id = $1`, adminID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO admin_recovery_codes (admin_id, hash) VALUES ($1, $2)`, adminID, h); err != nil {
			return err
		}
	}
	return nil
}

// codeError turns mfa.Verify's answer into nil (accepted) or the error for
// the caller. A corrupt stored secret is logged for the operator and is a
// failed attempt for the client.
func codeError(what string, ok bool, err error, adminID int64) error {
	switch {
	case errors.Is(err, mfa.ErrCodeFormat):
		return fmt.Errorf("%s: %w: %w", what, ErrBadCredentials, err)
	case err != nil:
		slog.Error("directory: unusable TOTP secret", "admin", adminID, "err", err)
		return fmt.Errorf("%s: %w", what, ErrBadCredentials)
	case !ok:
		return fmt.Errorf("%s: %w: wrong or already used code", what, ErrBadCredentials)
	}
	return nil
}

// CheckTOTP is the second step of signing in an admin with TOTP enabled:
// it accepts code if it is valid at now and its time step is later than the
// last accepted one. The step is recorded by one conditional statement
// (UPDATE … WHERE totp_last_step < step), so of two uses of one code, even
// at the same moment on two nodes, exactly one passes. A wrong or reused
// code is ErrBadCredentials (wrapping mfa.ErrCodeFormat if it is not 6
// digits) and counts toward the same throttle as SignIn. An admin without
// TOTP gets ErrConflict: enrol first.
func (d *Directory) CheckTOTP(ctx context.Context, adminID int64, code string, now time.Time) error {
	what := fmt.Sprintf("check TOTP of admin %d", adminID)
	st, err := d.totpState(ctx, adminID)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	case st.secret == "":
		return fmt.Errorf("%s: %w: TOTP is not enabled (enrol first)", what, ErrConflict)
	}
	attempt, err := d.reserveAttempt(ctx, st.email, now)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	// st.lastStep may be stale by now: Verify's check against it only
	// saves a write. acceptStep's UPDATE is what refuses a replay.
	ok, step, err := mfa.Verify(st.secret, code, now, st.lastStep)
	if err := codeError(what, ok, err, adminID); err != nil {
		return err
	}
	accepted, err := d.acceptStep(ctx, adminID, st.secret, step, attempt)
	if err != nil {
		d.releaseAttempt(ctx, attempt)
		return fmt.Errorf("%s: %w", what, err)
	}
	if !accepted {
		return fmt.Errorf("%s: %w: code already used", what, ErrBadCredentials)
	}
	return nil
}

// acceptStep records step as the admin's last accepted TOTP step if it is
// later than the stored one, and then clears the reserved attempt, in one
// transaction. The check and the write are one statement, so of several
// callers holding the same step (read before any of them committed) one
// gets true and the others false; a reset or re-enrolment (the secret
// changed) also gives false.
func (d *Directory) acceptStep(ctx context.Context, adminID int64, secret string, step, attempt int64) (bool, error) {
	var accepted bool
	err := d.db.Tx(ctx, func(tx *sql.Tx) error {
		accepted = false
		res, err := tx.ExecContext(ctx, `UPDATE admins SET totp_last_step = $1 WHERE id = $2 AND totp_secret = $3 AND totp_last_step < $1`,
			step, adminID, secret)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err // replayed: the attempt stays a failure
		}
		accepted = true
		return clearAttempt(ctx, tx, attempt)
	})
	return accepted, err
}

// UseRecoveryCode accepts one of the admin's recovery codes in place of a
// TOTP code, and deletes it in the same step, so it works once (of two
// concurrent uses one gets ErrBadCredentials). It returns how many codes
// are left. A wrong code is ErrBadCredentials and counts toward the sign-in
// throttle; each attempt costs one argon2id hash per unused code.
func (d *Directory) UseRecoveryCode(ctx context.Context, adminID int64, code string) (remaining int, err error) {
	what := fmt.Sprintf("use recovery code of admin %d", adminID)
	st, err := d.totpState(ctx, adminID)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s: %w", what, err)
	case st.secret == "":
		return 0, fmt.Errorf("%s: %w: TOTP is not enabled (enrol first)", what, ErrConflict)
	}
	attempt, err := d.reserveAttempt(ctx, st.email, d.clock())
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	ids, hashes, err := d.recoveryHashes(ctx, adminID)
	if err != nil {
		d.releaseAttempt(ctx, attempt)
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	i, err := mfa.UseRecoveryCode(ctx, code, hashes)
	if err != nil {
		if !errors.Is(err, password.ErrMalformed) {
			d.releaseAttempt(ctx, attempt)
			return 0, err // ctx ended while queued for a hash
		}
		slog.Error("directory: unusable recovery-code hash", "admin", adminID, "err", err)
	}
	if i < 0 {
		return 0, fmt.Errorf("%s: %w", what, ErrBadCredentials)
	}
	var used bool
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		used, remaining = false, 0
		res, err := tx.ExecContext(ctx, `DELETE FROM admin_recovery_codes WHERE id = $1 AND admin_id = $2`, ids[i], adminID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err // used meanwhile: the attempt stays a failure
		}
		used = true
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM admin_recovery_codes WHERE admin_id = $1`, adminID).Scan(&remaining); err != nil {
			return err
		}
		return clearAttempt(ctx, tx, attempt)
	})
	if err != nil {
		d.releaseAttempt(ctx, attempt)
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	if !used {
		return 0, fmt.Errorf("%s: %w: code already used", what, ErrBadCredentials)
	}
	return remaining, nil
}

func (d *Directory) recoveryHashes(ctx context.Context, adminID int64) (ids []int64, hashes []string, err error) {
	rows, err := d.db.Read.QueryContext(ctx, `SELECT id, hash FROM admin_recovery_codes WHERE admin_id = $1 ORDER BY id`, adminID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var h string
		if err := rows.Scan(&id, &h); err != nil {
			return nil, nil, err
		}
		ids, hashes = append(ids, id), append(hashes, h)
	}
	return ids, hashes, rows.Err()
}

// ResetTOTP turns an admin's TOTP off, deletes its recovery codes (the
// admin lost the device and the codes) and ends the admin's sessions, so the
// next sign-in enrols again, and appends the audit entry in the same
// transaction. Only an operator should be allowed to call it.
func (d *Directory) ResetTOTP(ctx context.Context, by By, adminID int64) (sessionsEnded int64, err error) {
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		a, err := scanAdmin(tx.QueryRowContext(ctx, `SELECT `+adminCols+` FROM admins WHERE id = $1`, adminID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reset TOTP of admin %d: %w", adminID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE admins SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0 WHERE id = $1`, adminID); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM admin_recovery_codes WHERE admin_id = $1`, adminID); err != nil {
			return err
		}
		if sessionsEnded, err = revokeSessionsTx(ctx, tx, adminID); err != nil {
			return err
		}
		return by.record(ctx, tx, a.TenantID, "admin.mfa.reset", fmt.Sprintf("admin:%d", adminID), nil,
			map[string]any{"email": a.Email, "sessions_ended": sessionsEnded})
	})
	if err != nil {
		return 0, err
	}
	return sessionsEnded, nil
}
