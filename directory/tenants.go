package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tollgate-mail/tollgate/password"
)

// CreateTenant adds a tenant. Names are unique.
func (d *Directory) CreateTenant(ctx context.Context, by By, name string, lic License, seats int) (Tenant, error) {
	what := fmt.Sprintf("create tenant %q", name)
	name, err := checkName(name)
	if err != nil {
		return Tenant{}, invalid(what, err)
	}
	if !lic.Valid() {
		return Tenant{}, invalid(what, fmt.Errorf("license %q is not trial, licensed or expired", lic))
	}
	if seats < 0 {
		return Tenant{}, invalid(what, fmt.Errorf("seats %d is negative", seats))
	}
	t := Tenant{Name: name, License: lic, Seats: seats, SenderBinding: BindingOff}
	var created int64
	t.CreatedAt, created = now()
	err = d.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		t.ID, err = insertID(ctx, tx, what, "a tenant with that name exists",
			`INSERT INTO tenants (name, license, seats, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING id`,
			name, string(lic), seats, created)
		if err != nil {
			return err
		}
		return by.record(ctx, tx, t.ID, "tenant.create", fmt.Sprintf("tenant:%d", t.ID), nil, t)
	})
	if err != nil {
		return Tenant{}, err
	}
	d.changed(ctx)
	return t, nil
}

const tenantCols = `id, name, license, seats, created_at, license_expires, sender_binding, pool`

func scanTenant(row interface{ Scan(...any) error }) (Tenant, error) {
	var t Tenant
	var created, expires int64
	err := row.Scan(&t.ID, &t.Name, &t.License, &t.Seats, &created, &expires, &t.SenderBinding, &t.Pool)
	t.CreatedAt = fromNanos(created)
	if expires > 0 {
		t.LicenseExpires = fromNanos(expires)
	}
	return t, err
}

// Tenant returns the tenant with id, or ErrNotFound.
func (d *Directory) Tenant(ctx context.Context, id int64) (Tenant, error) {
	return getTenant(ctx, d.db.Read, id)
}

func getTenant(ctx context.Context, q queryer, id int64) (Tenant, error) {
	t, err := scanTenant(q.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Tenant{}, fmt.Errorf("tenant %d: %w", id, ErrNotFound)
	}
	return t, err
}

// TenantByName returns the tenant with exactly this name, or ErrNotFound.
func (d *Directory) TenantByName(ctx context.Context, name string) (Tenant, error) {
	t, err := scanTenant(d.db.Read.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Tenant{}, fmt.Errorf("tenant %q: %w", name, ErrNotFound)
	}
	return t, err
}

// AddDomain adds a pending accepted domain with a fresh verification token.
// Another tenant may have the same name pending; only verification is
// exclusive (MarkDomainVerified).
func (d *Directory) AddDomain(ctx context.Context, by By, tenantID int64, name string) (Domain, error) {
	what := fmt.Sprintf("add domain %q", name)
	name, err := normDomain(name)
	if err != nil {
		return Domain{}, invalid(what, err)
	}
	dom := Domain{TenantID: tenantID, Name: name, Token: password.Random(32)}
	var created int64
	dom.CreatedAt, created = now()
	err = d.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		if _, err := getTenant(ctx, tx, tenantID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		dom.ID, err = insertID(ctx, tx, what, "the tenant already has it",
			`INSERT INTO domains (tenant_id, name, verified, token, created_at) VALUES ($1, $2, FALSE, $3, $4)
			ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id`,
			tenantID, name, dom.Token, created)
		if err != nil {
			return err
		}
		return by.record(ctx, tx, tenantID, "domain.add", "domain:"+name, nil, dom)
	})
	if err != nil {
		return Domain{}, err
	}
	return dom, nil
}

// MarkDomainVerified records that the tenant proved ownership of its pending
// domain. A domain is verified for one tenant at most: if another tenant has
// it verified, the answer is ErrConflict. Marking a verified domain again is
// a no-op.
//
// Two tenants verifying one name at once: the domain's lock (store.Lock,
// taken first) lets one transaction check and update at a time, so the
// second sees the first's commit and answers ErrConflict. The partial
// unique index domains_verified_name is the last line behind it.
func (d *Directory) MarkDomainVerified(ctx context.Context, by By, tenantID int64, name string) error {
	what := fmt.Sprintf("verify domain %q", name)
	name, err := normDomain(name)
	if err != nil {
		return invalid(what, err)
	}
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := d.db.Lock(ctx, tx, "directory/domain:"+name); err != nil {
			return err
		}
		dom := Domain{TenantID: tenantID, Name: name}
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT id, verified, token, created_at FROM domains WHERE tenant_id = $1 AND name = $2`, tenantID, name).
			Scan(&dom.ID, &dom.Verified, &dom.Token, &created)
		dom.CreatedAt = fromNanos(created)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s for tenant %d: %w", what, tenantID, ErrNotFound)
		}
		if err != nil || dom.Verified {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM domains WHERE name = $1 AND verified AND tenant_id <> $2`, name, tenantID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%s: %w: another tenant has verified it", what, ErrConflict)
		}
		if _, err = tx.ExecContext(ctx, `UPDATE domains SET verified = TRUE WHERE id = $1`, dom.ID); err != nil {
			return err
		}
		dom.Verified = true
		return by.record(ctx, tx, tenantID, "domain.verify", "domain:"+name, nil, dom)
	})
	if err != nil {
		return err
	}
	d.changed(ctx)
	return nil
}

// Domains lists the tenant's accepted domains by name.
func (d *Directory) Domains(ctx context.Context, tenantID int64) ([]Domain, error) {
	if _, err := d.Tenant(ctx, tenantID); err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	rows, err := d.db.Read.QueryContext(ctx, `SELECT id, tenant_id, name, verified, token, created_at FROM domains WHERE tenant_id = $1 ORDER BY name`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Domain
	for rows.Next() {
		var dom Domain
		var created int64
		if err := rows.Scan(&dom.ID, &dom.TenantID, &dom.Name, &dom.Verified, &dom.Token, &created); err != nil {
			return nil, err
		}
		dom.CreatedAt = fromNanos(created)
		out = append(out, dom)
	}
	return out, rows.Err()
}
