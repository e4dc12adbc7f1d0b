package audit

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/tollgate-mail/tollgate/store"
)

// migrate applies migrations/sqlite/*.sql under the scope "audit", beside
// the other packages that share the database (AppendTx needs audit to live
// in the same database as the changes it records).
func migrate(ctx context.Context, db *store.DB) error {
	sub, err := fs.Sub(migrations, "migrations/sqlite")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := db.Migrate(ctx, "audit", sub); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
