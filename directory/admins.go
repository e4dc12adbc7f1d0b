package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/password"
)

// Role is what an admin may manage.
type Role string

const (
	// Operator runs the whole service (Admin.TenantID is 0).
	Operator Role = "operator"
	// TenantAdmin manages one tenant (Admin.TenantID).
	TenantAdmin Role = "tenant-admin"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return r == Operator || r == TenantAdmin }

// Admin is an operator or a tenant admin. Every admin signs in with a
// password and a TOTP code: while TOTPEnabled is false the admin must enrol
// (BeginTOTP, ConfirmTOTP) before anything else.
type Admin struct {
	ID                int64
	TenantID          int64 // 0 for operators
	Email             string
	Role              Role
	TOTPEnabled       bool
	CreatedAt         time.Time
	PasswordChangedAt time.Time
	LastSignIn        time.Time // last accepted password (SignIn); zero if never
	// PasswordChangeRequired is set by RequirePasswordChange: until the
	// admin sets a new password, their sessions may do nothing else.
	PasswordChangeRequired bool
}

// Admin passwords are longer than users' (checkPassword): an admin account
// reaches every user of a tenant, or every tenant.
const (
	minAdminPassword = 12
	maxAdminPassword = 1024
)

func checkAdminPassword(pw string) error {
	if len(pw) < minAdminPassword || len(pw) > maxAdminPassword {
		return fmt.Errorf("admin password must be %d to %d bytes", minAdminPassword, maxAdminPassword)
	}
	return nil
}

// CreateAdmin adds an admin. Operators have tenantID 0; a tenant admin
// needs an existing tenant (else ErrNotFound). The email is validated and
// lowercased, and is unique across all admins (ErrConflict). The password
// is hashed before the write transaction starts.
func (d *Directory) CreateAdmin(ctx context.Context, by By, tenantID int64, email, pw string, role Role) (Admin, error) {
	return d.createAdmin(ctx, by, tenantID, email, pw, role, false)
}

// CreateAdminAtOwnDomain is CreateAdmin for a tenant admin added by another
// tenant admin: the email must be at one of the tenant's verified accepted
// domains (else ErrInvalid, naming them). Otherwise a tenant could make
// admins at any address, and probe which addresses are admins elsewhere.
// Operators add admins at any address with CreateAdmin.
func (d *Directory) CreateAdminAtOwnDomain(ctx context.Context, by By, tenantID int64, email, pw string) (Admin, error) {
	return d.createAdmin(ctx, by, tenantID, email, pw, TenantAdmin, true)
}

func (d *Directory) createAdmin(ctx context.Context, by By, tenantID int64, email, pw string, role Role, ownDomain bool) (Admin, error) {
	what := fmt.Sprintf("create admin %q", email)
	addr, domain, err := normAddress(email)
	if err != nil {
		return Admin{}, invalid(what, err)
	}
	switch {
	case !role.Valid():
		return Admin{}, invalid(what, fmt.Errorf("role %q is not %q or %q", role, Operator, TenantAdmin))
	case role == Operator && tenantID != 0:
		return Admin{}, invalid(what, fmt.Errorf("an operator belongs to no tenant, got tenant %d", tenantID))
	case role == TenantAdmin && tenantID <= 0:
		return Admin{}, invalid(what, errors.New("a tenant admin needs a tenant"))
	}
	if err := checkAdminPassword(pw); err != nil {
		return Admin{}, invalid(what, err)
	}
	hash, err := password.HashContext(ctx, pw)
	if err != nil {
		return Admin{}, fmt.Errorf("%s: %w", what, err)
	}
	a := Admin{TenantID: tenantID, Email: addr, Role: role}
	var created int64
	a.CreatedAt, created = now()
	a.PasswordChangedAt = a.CreatedAt
	var tenant sql.NullInt64
	if role == TenantAdmin {
		tenant = sql.NullInt64{Int64: tenantID, Valid: true}
	}
	err = d.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		if role == TenantAdmin {
			if _, err := getTenant(ctx, tx, tenantID); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		if ownDomain {
			if err := checkOwnDomain(ctx, tx, tenantID, domain, what); err != nil {
				return err
			}
		}
		a.ID, err = insertID(ctx, tx, what, "an admin with that email exists",
			`INSERT INTO admins (tenant_id, email, role, password_hash, created_at, password_changed_at) VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (email) DO NOTHING RETURNING id`,
			tenant, addr, string(role), hash, created)
		if err != nil {
			return err
		}
		return by.record(ctx, tx, tenantID, "admin.create", fmt.Sprintf("admin:%d", a.ID), nil, a)
	})
	if err != nil {
		return Admin{}, err
	}
	return a, nil
}

const adminCols = `id, tenant_id, email, role, totp_secret IS NOT NULL, created_at, password_changed_at, last_sign_in, password_change_required`

func scanAdmin(row interface{ Scan(...any) error }, extra ...any) (Admin, error) {
	var a Admin
	var tenant, lastSignIn sql.NullInt64
	var created, changed int64
	err := row.Scan(append([]any{&a.ID, &tenant, &a.Email, &a.Role, &a.TOTPEnabled, &created, &changed, &lastSignIn, &a.PasswordChangeRequired}, extra...)...)
	a.TenantID = tenant.Int64
	a.CreatedAt, a.PasswordChangedAt = fromNanos(created), fromNanos(changed)
	if lastSignIn.Valid {
		a.LastSignIn = fromNanos(lastSignIn.Int64)
	}
	return a, err
}

// Admin returns the admin with id, or ErrNotFound.
func (d *Directory) Admin(ctx context.Context, id int64) (Admin, error) {
	a, err := scanAdmin(d.db.Read.QueryRowContext(ctx, `SELECT `+adminCols+` FROM admins WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Admin{}, fmt.Errorf("admin %d: %w", id, ErrNotFound)
	}
	return a, err
}

// Admins lists a tenant's admins by email; tenantID 0 lists the operators.
// An unknown tenant is ErrNotFound.
func (d *Directory) Admins(ctx context.Context, tenantID int64) ([]Admin, error) {
	query := `SELECT ` + adminCols + ` FROM admins WHERE tenant_id IS NULL ORDER BY email`
	var args []any
	if tenantID != 0 {
		if _, err := d.Tenant(ctx, tenantID); err != nil {
			return nil, fmt.Errorf("list admins: %w", err)
		}
		query = `SELECT ` + adminCols + ` FROM admins WHERE tenant_id = $1 ORDER BY email`
		args = append(args, tenantID)
	}
	rows, err := d.db.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Admin
	for rows.Next() {
		a, err := scanAdmin(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetAdminPassword replaces an admin's password, sets PasswordChangedAt,
// clears PasswordChangeRequired and ends the admin's sessions (whoever held
// one signs in again), appending the audit entry in the same transaction.
// It does not lift a throttle or touch the second factor.
func (d *Directory) SetAdminPassword(ctx context.Context, by By, id int64, pw string) (sessionsEnded int64, err error) {
	what := fmt.Sprintf("set password of admin %d", id)
	if err := checkAdminPassword(pw); err != nil {
		return 0, invalid(what, err)
	}
	hash, err := password.HashContext(ctx, pw)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	_, changed := now()
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		a, err := scanAdmin(tx.QueryRowContext(ctx, `SELECT `+adminCols+` FROM admins WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE admins SET password_hash = $1, password_changed_at = $2, password_change_required = FALSE WHERE id = $3`, hash, changed, id); err != nil {
			return err
		}
		if sessionsEnded, err = revokeSessionsTx(ctx, tx, id); err != nil {
			return err
		}
		return by.record(ctx, tx, a.TenantID, "admin.password.change", fmt.Sprintf("admin:%d", id), nil, map[string]any{"sessions_ended": sessionsEnded})
	})
	if err != nil {
		return 0, err
	}
	return sessionsEnded, nil
}

// RequirePasswordChange marks an admin who must set a new password before
// anything else (ErrNotFound if there is none): for a password that may
// have leaked. The admin's sessions stay, limited to changing the password,
// so the admin is asked at once rather than at the next sign-in. The audit
// entry is appended in the same transaction.
func (d *Directory) RequirePasswordChange(ctx context.Context, by By, id int64) error {
	what := fmt.Sprintf("require a password change of admin %d", id)
	return d.db.Tx(ctx, func(tx *sql.Tx) error {
		a, err := scanAdmin(tx.QueryRowContext(ctx, `SELECT `+adminCols+` FROM admins WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE admins SET password_change_required = TRUE WHERE id = $1`, id); err != nil {
			return err
		}
		after := a
		after.PasswordChangeRequired = true
		return by.record(ctx, tx, a.TenantID, "admin.password.require_change", fmt.Sprintf("admin:%d", id), a, after)
	})
}

// SignIn checks an admin's email and password at time now, the first step
// of every sign-in. A wrong password and an unknown email both give
// ErrBadCredentials after one argon2id hash, so neither the answer nor its
// timing tells which emails are admins. Every attempt counts toward the
// email's throttle (see WithSignInThrottle), and while it is throttled
// every attempt, even with the right password, gets ErrThrottled. A
// context error (the hash queue is full and ctx ended) is returned as is.
//
// On success LastSignIn is set to now. The admin must then pass the second
// factor: CheckTOTP (or UseRecoveryCode) if TOTPEnabled, otherwise enrol
// with BeginTOTP and ConfirmTOTP.
func (d *Directory) SignIn(ctx context.Context, email, pw string, now time.Time) (Admin, error) {
	addr, _, err := normAddress(email)
	if err != nil {
		// No admin can have this email, and there is no sane key to
		// count it under.
		return Admin{}, fmt.Errorf("sign in %q: %w", email, ErrBadCredentials)
	}
	what := fmt.Sprintf("sign in %q", addr)
	attempt, err := d.reserveAttempt(ctx, addr, now)
	if err != nil {
		return Admin{}, fmt.Errorf("%s: %w", what, err)
	}
	var hash string
	a, err := scanAdmin(d.db.Read.QueryRowContext(ctx, `SELECT `+adminCols+`, password_hash FROM admins WHERE email = $1`, addr), &hash)
	known := err == nil
	if errors.Is(err, sql.ErrNoRows) {
		hash, err = d.dummyHash()
	}
	if err != nil {
		d.releaseAttempt(ctx, attempt)
		return Admin{}, fmt.Errorf("%s: %w", what, err)
	}
	ok := false
	if len(pw) <= maxAdminPassword { // longer ones were never accepted
		ok, err = d.signInHashes.VerifyContext(ctx, pw, hash)
		if err != nil {
			if !errors.Is(err, password.ErrMalformed) {
				d.releaseAttempt(ctx, attempt)
				return Admin{}, err // ctx ended while queued for a hash
			}
			// The admin cannot sign in until an operator sets a new
			// password. Tell the operator, not the client.
			slog.Error("directory: unusable admin password hash", "admin", a.ID, "err", err)
			ok = false
		}
	}
	if !ok || !known {
		return Admin{}, fmt.Errorf("%s: %w", what, ErrBadCredentials)
	}
	at := now.UnixNano()
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := clearAttempt(ctx, tx, attempt); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE admins SET last_sign_in = $1 WHERE id = $2`, at, a.ID)
		return err
	})
	if err != nil {
		return Admin{}, fmt.Errorf("%s: %w", what, err)
	}
	a.LastSignIn = fromNanos(at)
	return a, nil
}

// checkOwnDomain refuses a domain that is not one of the tenant's verified
// accepted domains, naming those (the tenant's own, so nothing leaks).
func checkOwnDomain(ctx context.Context, tx *sql.Tx, tenantID int64, domain, what string) error {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM domains WHERE tenant_id = $1 AND verified ORDER BY name`, tenantID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var own []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		if n == domain {
			return nil
		}
		own = append(own, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(own) == 0 {
		return invalid(what, errors.New("an admin's email must be at one of the tenant's verified accepted domains, and it has none yet: verify a domain first, or ask an operator"))
	}
	return invalid(what, fmt.Errorf("an admin's email must be at one of the tenant's verified accepted domains (%s); %s is not one: ask an operator for other addresses",
		strings.Join(own, ", "), domain))
}
