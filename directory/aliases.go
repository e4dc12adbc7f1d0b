package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// SenderBinding is which sender addresses a tenant's SMTP AUTH users may
// use. Connectors are not bound: a tenant's server relays for many
// addresses, and is held by the cross-tenant domain check and the
// unregistered-domain allowance instead.
type SenderBinding string

const (
	// BindingOff lets a user send as any address (the default; the
	// cross-tenant and unregistered-domain checks still apply).
	BindingOff SenderBinding = "off"
	// BindingLogin lets a user send only as its login address and the
	// aliases an admin gave it, in the envelope sender and in every
	// From and Sender field (550 5.7.60 otherwise).
	BindingLogin SenderBinding = "login"
)

// Valid reports whether b is one of the known modes.
func (b SenderBinding) Valid() bool { return b == BindingOff || b == BindingLogin }

// SetSenderBinding sets the tenant's sender binding and returns the tenant
// before and after. It takes effect on every node at the next snapshot
// refresh (at once on this one).
func (d *Directory) SetSenderBinding(ctx context.Context, by By, tenantID int64, b SenderBinding) (before, after Tenant, err error) {
	what := fmt.Sprintf("set sender binding of tenant %d", tenantID)
	if !b.Valid() {
		return Tenant{}, Tenant{}, invalid(what, fmt.Errorf("mode %q is not %q or %q", b, BindingOff, BindingLogin))
	}
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		if before, err = getTenant(ctx, tx, tenantID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET sender_binding = $1 WHERE id = $2`, string(b), tenantID); err != nil {
			return err
		}
		if after, err = getTenant(ctx, tx, tenantID); err != nil || before.SenderBinding == after.SenderBinding {
			return err
		}
		return by.record(ctx, tx, tenantID, "tenant.sender_binding", fmt.Sprintf("tenant:%d", tenantID),
			map[string]string{"sender_binding": string(before.SenderBinding)}, map[string]string{"sender_binding": string(after.SenderBinding)})
	})
	if err != nil {
		return Tenant{}, Tenant{}, err
	}
	d.changed(ctx)
	return before, after, nil
}

// Alias is an address a user may send as besides its login, when its
// tenant binds senders to logins.
type Alias struct {
	ID, UserID int64
	Address    string // lowercase, in one of the tenant's verified domains
	CreatedBy  string
	CreatedAt  time.Time
}

// MaxAliases is how many aliases one user may have: they are held in every
// node's snapshot.
const MaxAliases = 100

// AddAlias lets the tenant's user send as address. The address must be in
// one of the tenant's verified domains and not be the user's own login;
// an unknown user (or one of another tenant) is ErrNotFound, a duplicate or
// one past MaxAliases ErrConflict.
func (d *Directory) AddAlias(ctx context.Context, by By, tenantID, userID int64, address string) (Alias, error) {
	what := fmt.Sprintf("add alias %q to user %d", address, userID)
	addr, domain, err := normAddress(address)
	if err != nil {
		return Alias{}, invalid(what, err)
	}
	createdBy := by.Actor
	a := Alias{UserID: userID, Address: addr, CreatedBy: createdBy}
	var created int64
	a.CreatedAt, created = now()
	err = d.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		if err := d.db.Lock(ctx, tx, "directory/aliases:"+strconv.FormatInt(userID, 10)); err != nil {
			return err
		}
		var login string
		err = tx.QueryRowContext(ctx, `SELECT address FROM users WHERE id = $1 AND tenant_id = $2`, userID, tenantID).Scan(&login)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w: no such user in tenant %d", what, ErrNotFound, tenantID)
		}
		if err != nil {
			return err
		}
		if login == addr {
			return invalid(what, errors.New("it is the user's own login, which it may always send as"))
		}
		var verified, n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM domains WHERE tenant_id = $1 AND name = $2 AND verified`, tenantID, domain).Scan(&verified); err != nil {
			return err
		}
		if verified == 0 {
			return invalid(what, fmt.Errorf("%s is not a verified domain of tenant %d", domain, tenantID))
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_aliases WHERE user_id = $1`, userID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxAliases {
			return fmt.Errorf("%s: %w: the user has %d aliases, the most allowed; remove one first", what, ErrConflict, n)
		}
		a.ID, err = insertID(ctx, tx, what, "the user already has it",
			`INSERT INTO user_aliases (user_id, address, created_by, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id, address) DO NOTHING RETURNING id`, userID, addr, createdBy, created)
		if err != nil {
			return err
		}
		return by.record(ctx, tx, tenantID, "user.alias.add", fmt.Sprintf("user:%d/alias:%d", userID, a.ID), nil, a)
	})
	if err != nil {
		return Alias{}, err
	}
	d.changed(ctx)
	return a, nil
}

// Aliases lists the user's aliases by address; a user not in the tenant is
// ErrNotFound.
func (d *Directory) Aliases(ctx context.Context, tenantID, userID int64) ([]Alias, error) {
	var n int
	if err := d.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = $1 AND tenant_id = $2`, userID, tenantID).Scan(&n); err != nil {
		return nil, fmt.Errorf("list aliases of user %d: %w", userID, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("list aliases of user %d: %w: no such user in tenant %d", userID, ErrNotFound, tenantID)
	}
	rows, err := d.db.Read.QueryContext(ctx, `SELECT id, user_id, address, created_by, created_at FROM user_aliases WHERE user_id = $1 ORDER BY address`, userID)
	if err != nil {
		return nil, fmt.Errorf("list aliases of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []Alias
	for rows.Next() {
		var a Alias
		var created int64
		if err := rows.Scan(&a.ID, &a.UserID, &a.Address, &a.CreatedBy, &created); err != nil {
			return nil, err
		}
		a.CreatedAt = fromNanos(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

// RemoveAlias deletes one alias of the tenant's user and returns it; it
// stops working at once on this node and at the next refresh on others.
func (d *Directory) RemoveAlias(ctx context.Context, by By, tenantID, userID, aliasID int64) (Alias, error) {
	what := fmt.Sprintf("remove alias %d of user %d", aliasID, userID)
	var a Alias
	err := d.db.Tx(ctx, func(tx *sql.Tx) error {
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT a.id, a.user_id, a.address, a.created_by, a.created_at FROM user_aliases a
			JOIN users u ON u.id = a.user_id WHERE a.id = $1 AND a.user_id = $2 AND u.tenant_id = $3`, aliasID, userID, tenantID).
			Scan(&a.ID, &a.UserID, &a.Address, &a.CreatedBy, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		if err != nil {
			return err
		}
		a.CreatedAt = fromNanos(created)
		if _, err = tx.ExecContext(ctx, `DELETE FROM user_aliases WHERE id = $1`, aliasID); err != nil {
			return err
		}
		return by.record(ctx, tx, tenantID, "user.alias.remove", fmt.Sprintf("user:%d/alias:%d", userID, aliasID), a, nil)
	})
	if err != nil {
		return Alias{}, err
	}
	d.changed(ctx)
	return a, nil
}
