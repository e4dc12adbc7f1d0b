package directory

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SetLicense changes a tenant's licence state, seats and (for licensed
// tenants; zero for none) the date the subscription ends, and returns the
// tenant before and after, for the audit log. An expired subscription is
// what the protection policy refuses with 5.7.705; a renewal takes effect at
// once.
func (d *Directory) SetLicense(ctx context.Context, by By, tenantID int64, lic License, seats int, expires time.Time) (before, after Tenant, err error) {
	what := fmt.Sprintf("set licence of tenant %d", tenantID)
	if !lic.Valid() {
		return before, after, invalid(what, fmt.Errorf("license %q is not trial, licensed or expired", lic))
	}
	if seats < 0 {
		return before, after, invalid(what, fmt.Errorf("seats %d is negative", seats))
	}
	if !expires.IsZero() && lic != Licensed {
		return before, after, invalid(what, fmt.Errorf("an expiry date goes with a licensed tenant, not %s", lic))
	}
	var exp int64
	if !expires.IsZero() {
		exp = expires.UnixNano()
	}
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if before, err = getTenant(ctx, tx, tenantID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET license = $1, seats = $2, license_expires = $3 WHERE id = $4`, string(lic), seats, exp, tenantID); err != nil {
			return err
		}
		if after, err = getTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		return by.record(ctx, tx, tenantID, "licence.change", fmt.Sprintf("tenant:%d", tenantID), before, after)
	})
	if err != nil {
		return Tenant{}, Tenant{}, err
	}
	d.changed(ctx)
	return before, after, nil
}
