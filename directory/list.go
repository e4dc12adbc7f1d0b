package directory

import (
	"context"
	"fmt"
)

// Tenants lists every tenant by name (for operators).
func (d *Directory) Tenants(ctx context.Context) ([]Tenant, error) {
	rows, err := d.db.Read.QueryContext(ctx, `SELECT `+tenantCols+` FROM tenants ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var out []Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Users lists a tenant's users by address.
func (d *Directory) Users(ctx context.Context, tenantID int64) ([]User, error) {
	if _, err := d.Tenant(ctx, tenantID); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	rows, err := d.db.Read.QueryContext(ctx, `SELECT id, tenant_id, address, disabled, created_at FROM users WHERE tenant_id = $1 ORDER BY address`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.ID, &u.TenantID, &u.Address, &u.Disabled, &created); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		u.CreatedAt = fromNanos(created)
		out = append(out, u)
	}
	return out, rows.Err()
}
