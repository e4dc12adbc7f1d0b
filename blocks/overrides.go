package blocks

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tollgate-mail/tollgate/policy"
)

// Overrides are the tenant's policy overrides, from the snapshot.
func (s *Store) Overrides(tenantID int64) policy.Overrides {
	return s.snap.Load().overrides[tenantID]
}

// SetOverrides replaces the tenant's overrides (validated by the caller
// with policy.ParseOverrides) and audits the change.
func (s *Store) SetOverrides(ctx context.Context, tenantID int64, o policy.Overrides, actor string) error {
	raw, err := json.Marshal(o)
	if err != nil {
		return err
	}
	before := s.Overrides(tenantID)
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_policy (tenant_id, overrides, updated_at, updated_by) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id) DO UPDATE SET overrides = excluded.overrides, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			tenantID, string(raw), nanos(s.opts.Now()), actor); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, actor, tenantID, "policy.update", "tenant:"+strconv.FormatInt(tenantID, 10), before, o)
	})
	if err != nil {
		return fmt.Errorf("set policy overrides of tenant %d: %w", tenantID, err)
	}
	s.changed(ctx)
	return nil
}
