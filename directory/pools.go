package directory

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tollgate-mail/tollgate/policy"
)

// checkPool refuses a name that cannot name a pool. Whether the pool is
// configured is the caller's check (the API knows the config; the
// directory is shared by nodes that may not all have it yet).
func checkPool(what, pool string) error {
	if pool != "" && !policy.ValidPoolName(pool) {
		return invalid(what, fmt.Errorf("pool %q is not 1 to 32 lowercase letters, digits or '-'", pool))
	}
	return nil
}

// SetTenantPool assigns the tenant a dedicated delivery pool ("" clears
// it) and returns the tenant before and after. The audit entry
// (tenant.pool) commits with the change. Delivery reads the assignment
// when it sends, so mail already queued moves too.
func (d *Directory) SetTenantPool(ctx context.Context, by By, tenantID int64, pool string) (before, after Tenant, err error) {
	what := fmt.Sprintf("set pool of tenant %d", tenantID)
	if err := checkPool(what, pool); err != nil {
		return Tenant{}, Tenant{}, err
	}
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		if before, err = getTenant(ctx, tx, tenantID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET pool = $1 WHERE id = $2`, pool, tenantID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if after, err = getTenant(ctx, tx, tenantID); err != nil || before.Pool == after.Pool {
			return err
		}
		return by.record(ctx, tx, tenantID, "tenant.pool", fmt.Sprintf("tenant:%d", tenantID),
			map[string]string{"pool": before.Pool}, map[string]string{"pool": after.Pool})
	})
	if err != nil {
		return Tenant{}, Tenant{}, err
	}
	d.changed(ctx)
	return before, after, nil
}

// SetConnectorPool assigns one of the tenant's live connectors a dedicated
// delivery pool ("" clears it: the connector takes its tenant's). Another
// tenant's connector, or a deleted one, is ErrNotFound. The audit entry
// (connector.pool) commits with the change.
func (d *Directory) SetConnectorPool(ctx context.Context, by By, tenantID, connectorID int64, pool string) (before, after Connector, err error) {
	what := fmt.Sprintf("set pool of connector %d", connectorID)
	if err := checkPool(what, pool); err != nil {
		return Connector{}, Connector{}, err
	}
	get := func(tx *sql.Tx) (Connector, error) {
		cs, err := loadConnectors(ctx, tx, "c.id = $1 AND c.tenant_id = $2 AND c.deleted_at IS NULL", connectorID, tenantID)
		if err != nil {
			return Connector{}, fmt.Errorf("%s: %w", what, err)
		}
		if len(cs) == 0 {
			return Connector{}, fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		return cs[0], nil
	}
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		if before, err = get(tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE connectors SET pool = $1 WHERE id = $2`, pool, connectorID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if after, err = get(tx); err != nil || before.Pool == after.Pool {
			return err
		}
		return by.record(ctx, tx, tenantID, "connector.pool", fmt.Sprintf("connector:%d", connectorID),
			map[string]string{"pool": before.Pool}, map[string]string{"pool": after.Pool})
	})
	if err != nil {
		return Connector{}, Connector{}, err
	}
	d.changed(ctx)
	return before, after, nil
}

// AssignedPool is the dedicated pool for a message of tenantID accepted
// through connectorID (0: none), from the snapshot: the connector's pool
// if set, else the tenant's, else "". Delivery asks at each attempt, so a
// reassignment applies to mail already queued.
func (d *Directory) AssignedPool(tenantID, connectorID int64) string {
	s := d.snap.Load()
	if c := s.byID[connectorID]; c != nil && c.TenantID == tenantID && c.Pool != "" {
		return c.Pool
	}
	t, _ := d.SnapshotTenant(tenantID)
	return t.Pool
}
