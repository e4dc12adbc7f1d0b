package audit

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/tollgate-mail/tollgate/store"
)

// migrate applies migrations/<dialect>/*.sql under the scope "audit",
// beside the other packages that share the database (AppendTx needs audit to
// live in the same database as the changes it records).
func migrate(ctx context.Context, db *store.DB) error {
	if db.Dialect != store.SQLite && db.Dialect != store.Postgres {
		return fmt.Errorf("audit: store dialect %q is neither %q nor %q", db.Dialect, store.SQLite, store.Postgres)
	}
	sub, err := fs.Sub(migrations, "migrations/"+db.Dialect)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := db.Migrate(ctx, "audit", sub); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
