package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// UserByLogin finds a live user by the login another MTA authenticated
// (Postfix's sasl_username in a policy request, the milter's
// {auth_authen}): that MTA checked the password, so no hash is spent
// here. Unknown and disabled users give ErrNotFound: mail under a login
// Tollgate does not know, or has disabled, is not attributed to a tenant.
func (d *Directory) UserByLogin(ctx context.Context, login string) (User, Tenant, error) {
	addr, _, err := normAddress(login)
	if err != nil {
		return User{}, Tenant{}, fmt.Errorf("login %q: %w", login, ErrNotFound)
	}
	var u User
	var t Tenant
	var uCreated, tCreated int64
	err = d.db.Read.QueryRowContext(ctx, `SELECT u.id, u.tenant_id, u.address, u.disabled, u.created_at,
			t.id, t.name, t.license, t.seats, t.created_at, t.sender_binding
		FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.address = $1`, addr).
		Scan(&u.ID, &u.TenantID, &u.Address, &u.Disabled, &uCreated, &t.ID, &t.Name, &t.License, &t.Seats, &tCreated, &t.SenderBinding)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && u.Disabled) {
		return User{}, Tenant{}, fmt.Errorf("login %q: %w", addr, ErrNotFound)
	}
	if err != nil {
		return User{}, Tenant{}, fmt.Errorf("login %q: %w", addr, err)
	}
	u.CreatedAt, t.CreatedAt = fromNanos(uCreated), fromNanos(tCreated)
	return u, t, nil
}
