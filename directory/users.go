package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/tollgate-mail/tollgate/password"
)

// CreateUser adds a user whose address is in one of the tenant's verified
// domains. The password is hashed before the write transaction starts, so
// the single writer is not held for the length of a hash.
func (d *Directory) CreateUser(ctx context.Context, by By, tenantID int64, address, pw string) (User, error) {
	what := fmt.Sprintf("create user %q", address)
	addr, domain, err := normAddress(address)
	if err != nil {
		return User{}, invalid(what, err)
	}
	if err := checkPassword(pw); err != nil {
		return User{}, invalid(what, err)
	}
	hash, err := password.HashContext(ctx, pw)
	if err != nil {
		return User{}, fmt.Errorf("%s: %w", what, err)
	}
	u := User{TenantID: tenantID, Address: addr}
	var created int64
	u.CreatedAt, created = now()
	err = d.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		if _, err := getTenant(ctx, tx, tenantID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM domains WHERE tenant_id = $1 AND name = $2 AND verified`, tenantID, domain).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return invalid(what, fmt.Errorf("%s is not a verified domain of tenant %d", domain, tenantID))
		}
		u.ID, err = insertID(ctx, tx, what, "the address is taken",
			`INSERT INTO users (tenant_id, address, password_hash, disabled, created_at) VALUES ($1, $2, $3, FALSE, $4)
			ON CONFLICT (address) DO NOTHING RETURNING id`,
			tenantID, addr, hash, created)
		if err != nil {
			return err
		}
		return by.record(ctx, tx, tenantID, "user.create", fmt.Sprintf("user:%d", u.ID), nil, u)
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// SetPassword replaces a user's password.
func (d *Directory) SetPassword(ctx context.Context, by By, userID int64, pw string) error {
	what := fmt.Sprintf("set password of user %d", userID)
	if err := checkPassword(pw); err != nil {
		return invalid(what, err)
	}
	hash, err := password.HashContext(ctx, pw)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return d.updateUser(ctx, by, "user.password", what, userID, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash)
}

// SetUserDisabled disables or re-enables a user's logins.
func (d *Directory) SetUserDisabled(ctx context.Context, by By, userID int64, disabled bool) error {
	what := fmt.Sprintf("set disabled=%v on user %d", disabled, userID)
	return d.updateUser(ctx, by, "user.disable", what, userID, `UPDATE users SET disabled = $1 WHERE id = $2`, disabled)
}

// updateUser runs query with args and then the user id ($last) and
// appends action's entry: the user before and after, except for a password
// change, whose entry carries no state.
func (d *Directory) updateUser(ctx context.Context, by By, action, what string, userID int64, query string, args ...any) error {
	return d.db.Tx(ctx, func(tx *sql.Tx) error {
		before, err := getUser(ctx, tx, userID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, query, append(args, userID)...); err != nil {
			return err
		}
		target := fmt.Sprintf("user:%d", userID)
		if action == "user.password" {
			return by.record(ctx, tx, before.TenantID, action, target, nil, nil)
		}
		after, err := getUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		return by.record(ctx, tx, before.TenantID, action, target, before, after)
	})
}

func getUser(ctx context.Context, q queryer, id int64) (User, error) {
	var u User
	var created int64
	err := q.QueryRowContext(ctx, `SELECT id, tenant_id, address, disabled, created_at FROM users WHERE id = $1`, id).
		Scan(&u.ID, &u.TenantID, &u.Address, &u.Disabled, &created)
	u.CreatedAt = fromNanos(created)
	return u, err
}

// Authenticate checks an SMTP AUTH login with the user's password or any of
// the user's live app passwords. Unknown addresses, wrong passwords
// and disabled users all give ErrBadCredentials after spending one hash, so
// neither the answer nor its timing tells which addresses exist. A context
// error (the hash queue is full and ctx ended) is returned as is: it is a
// temporary failure, not a bad login. A wrong password for a known user
// costs at most one hash more per live app password (MaxAppPasswords caps
// them), and only if it has an app password's length.
func (d *Directory) Authenticate(ctx context.Context, address, pw string) (User, Tenant, error) {
	addr, _, err := normAddress(address)
	if err != nil {
		return User{}, Tenant{}, fmt.Errorf("login %q: %w", address, ErrBadCredentials)
	}
	var u User
	var t Tenant
	var hash string
	var uCreated, tCreated int64
	err = d.db.Read.QueryRowContext(ctx, `SELECT u.id, u.tenant_id, u.address, u.password_hash, u.disabled, u.created_at,
			t.id, t.name, t.license, t.seats, t.created_at, t.sender_binding
		FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.address = $1`, addr).
		Scan(&u.ID, &u.TenantID, &u.Address, &hash, &u.Disabled, &uCreated, &t.ID, &t.Name, &t.License, &t.Seats, &tCreated, &t.SenderBinding)
	known := err == nil
	if errors.Is(err, sql.ErrNoRows) {
		if hash, err = d.dummyHash(); err != nil {
			return User{}, Tenant{}, err
		}
	} else if err != nil {
		return User{}, Tenant{}, fmt.Errorf("login %q: %w", addr, err)
	}
	ok, err := password.VerifyContext(ctx, pw, hash)
	if err != nil {
		if !errors.Is(err, password.ErrMalformed) {
			return User{}, Tenant{}, err // ctx ended while queued for a hash
		}
		// A stored hash we cannot parse: the user cannot log in until an
		// admin sets a new password. Tell the operator, not the client.
		slog.Error("directory: unusable password hash", "user", u.ID, "err", err)
		ok = false
	}
	if !ok && known && !u.Disabled {
		// Not the main password: maybe one of the user's app passwords.
		if u.AppPasswordID, err = d.matchAppPassword(ctx, u.ID, pw); err != nil {
			return User{}, Tenant{}, fmt.Errorf("login %q: %w", addr, err)
		}
		ok = u.AppPasswordID != 0
	}
	if !ok || !known || u.Disabled {
		return User{}, Tenant{}, fmt.Errorf("login %q: %w", addr, ErrBadCredentials)
	}
	u.CreatedAt, t.CreatedAt = fromNanos(uCreated), fromNanos(tCreated)
	return u, t, nil
}
