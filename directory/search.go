package directory

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// MaxSearchLimit bounds one page of SearchTenants: a picker shows a few
// matches, never the whole tenant table.
const MaxSearchLimit = 100

// TenantMatch is one tenant a search found, with its accepted domains
// that begin with the query (the reason it matched, when not its name).
type TenantMatch struct {
	Tenant
	Domains []string
}

// SearchTenants finds tenants for an operator's picker: those whose name,
// or one of whose accepted domains, begins with prefix (case-insensitive),
// and the tenant whose id is prefix when it is a number. Matches come by
// name, then id; limit (1..MaxSearchLimit) and offset page through them.
// It asks for one row more than limit, so more says whether a next page
// exists without counting every match.
func (d *Directory) SearchTenants(ctx context.Context, prefix string, limit, offset int) (_ []TenantMatch, more bool, err error) {
	if limit < 1 || limit > MaxSearchLimit {
		return nil, false, invalid("search tenants", fmt.Errorf("limit %d is not in 1..%d", limit, MaxSearchLimit))
	}
	if offset < 0 {
		return nil, false, invalid("search tenants", fmt.Errorf("offset %d is negative", offset))
	}
	prefix = strings.ToLower(strings.TrimSpace(prefix))
	pattern := likeEscape(prefix) + "%"
	id, _ := strconv.ParseInt(prefix, 10, 64) // 0 matches no tenant
	rows, err := d.db.Read.QueryContext(ctx, `SELECT `+tenantCols+` FROM tenants
		WHERE lower(name) LIKE $1 ESCAPE '\' OR id = $2
		   OR id IN (SELECT tenant_id FROM domains WHERE lower(name) LIKE $1 ESCAPE '\')
		ORDER BY lower(name), id LIMIT $3 OFFSET $4`, pattern, id, limit+1, offset)
	if err != nil {
		return nil, false, fmt.Errorf("search tenants: %w", err)
	}
	defer rows.Close()
	var out []TenantMatch
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, false, fmt.Errorf("search tenants: %w", err)
		}
		out = append(out, TenantMatch{Tenant: t})
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("search tenants: %w", err)
	}
	if len(out) > limit {
		out, more = out[:limit], true
	}
	if prefix == "" {
		return out, more, nil // every domain would match: name the tenant only
	}
	for i := range out {
		if out[i].Domains, err = d.matchingDomains(ctx, out[i].ID, pattern); err != nil {
			return nil, false, err
		}
	}
	return out, more, nil
}

// matchingDomains is a tenant's accepted domains that match pattern, at
// most a few: the picker shows why a tenant matched, not its whole list.
func (d *Directory) matchingDomains(ctx context.Context, tenantID int64, pattern string) ([]string, error) {
	rows, err := d.db.Read.QueryContext(ctx, `SELECT name FROM domains WHERE tenant_id = $1 AND lower(name) LIKE $2 ESCAPE '\' ORDER BY name LIMIT 5`,
		tenantID, pattern)
	if err != nil {
		return nil, fmt.Errorf("search tenants: domains of tenant %d: %w", tenantID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("search tenants: domains of tenant %d: %w", tenantID, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// likeEscape makes s match itself in a LIKE pattern with ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
