package directory

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// CreateCertConnector adds a connector that recognises the tenant's server by
// its TLS client certificate rather than its address: the certificate (which
// the SMTP front end has verified against the configured CA pool) must name
// certDomain in its CN or a DNS SAN. certDomain may start with "*." to match
// one label below it. It must lie within one of the tenant's verified
// accepted domains — a tenant can only claim servers in domains it proved it
// owns — and no other tenant's live certificate connector may claim it.
func (d *Directory) CreateCertConnector(ctx context.Context, by By, tenantID int64, name, certDomain string) (Connector, error) {
	what := fmt.Sprintf("create certificate connector %q", name)
	c, err := newConnector(what, by, tenantID, name)
	if err != nil {
		return Connector{}, err
	}
	wild := strings.HasPrefix(certDomain, "*.")
	base, err := normDomain(strings.TrimPrefix(certDomain, "*."))
	if err != nil {
		return Connector{}, invalid(what, fmt.Errorf("certificate domain %q: %v", certDomain, err))
	}
	certDomain = base
	if wild {
		certDomain = "*." + base
	}
	c.CertDomain = certDomain
	return d.insertConnector(ctx, by, what, c, func(tx *sql.Tx) error {
		if !withinVerified(ctx, tx, tenantID, base) {
			return invalid(what, fmt.Errorf("certificate domain %q is not within a verified accepted domain of the tenant", certDomain))
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM connectors WHERE cert_domain = $1 AND deleted_at IS NULL AND tenant_id <> $2`,
			certDomain, tenantID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%s: %w: another tenant's connector claims %s", what, ErrConflict, certDomain)
		}
		return nil
	}, func(tx *sql.Tx, created int64) (int64, error) {
		return insertID(ctx, tx, what, "the tenant has a live connector with that name",
			`INSERT INTO connectors (tenant_id, name, created_by, created_at, cert_domain) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant_id, name) WHERE deleted_at IS NULL DO NOTHING RETURNING id`,
			tenantID, c.Name, c.CreatedBy, created, certDomain)
	})
}

// withinVerified reports whether name is a verified domain of the tenant or
// below one.
func withinVerified(ctx context.Context, tx *sql.Tx, tenantID int64, name string) bool {
	for d := name; strings.Contains(d, "."); d = d[strings.IndexByte(d, '.')+1:] {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM domains WHERE tenant_id = $1 AND name = $2 AND verified`, tenantID, d).Scan(&n); err == nil && n > 0 {
			return true
		}
	}
	return false
}

// ConnectorForCert finds the live certificate connector that one of names
// (the CN and DNS SANs of a client certificate the caller has verified)
// matches, exactly or by a wildcard one label deep. The connector's domain
// must still lie within a verified domain of its tenant: a tenant that loses
// the domain loses the connector too.
func (d *Directory) ConnectorForCert(names []string) (Connector, Tenant, bool) {
	s := d.snap.Load()
	for _, raw := range names {
		n := strings.ToLower(strings.TrimSuffix(raw, "."))
		if n == "" || strings.Contains(n, "*") {
			continue // a certificate's own wildcard names match nothing
		}
		keys := []string{n}
		if i := strings.IndexByte(n, '.'); i > 0 {
			keys = append(keys, "*"+n[i:])
		}
		for _, k := range keys {
			c, ok := s.certs[k]
			if !ok {
				continue
			}
			t, ok := s.tenants[c.TenantID]
			if ok && s.withinVerified(c.TenantID, strings.TrimPrefix(k, "*.")) {
				return *c, t, true
			}
		}
	}
	return Connector{}, Tenant{}, false
}

func (s *snapshot) withinVerified(tenantID int64, name string) bool {
	for d := name; strings.Contains(d, "."); d = d[strings.IndexByte(d, '.')+1:] {
		if s.verified[tenantID][d] {
			return true
		}
	}
	return false
}
