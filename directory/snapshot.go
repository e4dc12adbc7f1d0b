package directory

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// snapshot is an immutable copy of what attribution reads on every
// connection, swapped whole so readers never lock.
type snapshot struct {
	tenants  map[int64]Tenant
	verified map[int64]map[string]bool // tenant → verified domain names
	// owners maps each verified domain to its tenant (a name is verified
	// for one tenant at most), for the cross-tenant sender check.
	owners map[string]int64
	// aliases maps a user to the other addresses it may send as.
	aliases map[int64]map[string]bool
	// ranges maps each masked live range to its connector (lowest ID wins
	// an exact tie). bits4/bits6 list the prefix lengths in use, longest
	// first, so a lookup is one map probe per length in use: the first hit
	// is the most specific match.
	ranges       map[netip.Prefix]*Connector
	bits4, bits6 []int
	certs        map[string]*Connector // certificate connectors by domain ("*.x" for wildcards)
	byID         map[int64]*Connector  // live connectors

	// The snapshot_versions this was loaded at: a refresh that finds the
	// same versions keeps the snapshot, and one that finds only the
	// connectors' version moved reloads the connectors alone.
	tenantsVersion, connectorsVersion int64
}

// reload brings the snapshot up to date in one read transaction (a
// consistent view on both stores: see store.ReadTx) and swaps it in. It
// reads the snapshot versions first: nothing changed, nothing is loaded;
// only connectors changed (their traffic counts move every flush), only
// connectors are loaded. A full load of 100,000 tenants costs about 0.3 s
// of CPU, so skipping it matters on every node of a fleet.
func (d *Directory) reload(ctx context.Context) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	var s *snapshot
	err := d.db.ReadTx(ctx, func(tx *sql.Tx) (err error) {
		var tv, cv int64
		if err := tx.QueryRowContext(ctx, `SELECT
			(SELECT version FROM snapshot_versions WHERE name = 'tenants'),
			(SELECT version FROM snapshot_versions WHERE name = 'connectors')`).Scan(&tv, &cv); err != nil {
			return fmt.Errorf("read snapshot versions: %w", err)
		}
		cur := d.snap.Load()
		switch {
		case cur != nil && cur.tenantsVersion == tv && cur.connectorsVersion == cv:
			s = cur
			return nil
		case cur != nil && cur.tenantsVersion == tv:
			s = &snapshot{tenants: cur.tenants, verified: cur.verified, owners: cur.owners, aliases: cur.aliases}
			err = s.loadConnectors(ctx, tx)
		default:
			s, err = load(ctx, tx)
		}
		if err != nil {
			return err
		}
		s.tenantsVersion, s.connectorsVersion = tv, cv
		return nil
	})
	if err != nil {
		return err
	}
	d.snap.Store(s)
	return nil
}

// load builds a snapshot from the database as tx sees it.
func load(ctx context.Context, tx *sql.Tx) (*snapshot, error) {
	s := &snapshot{tenants: map[int64]Tenant{}, verified: map[int64]map[string]bool{}, owners: map[string]int64{},
		aliases: map[int64]map[string]bool{}, ranges: map[netip.Prefix]*Connector{},
		certs: map[string]*Connector{}, byID: map[int64]*Connector{}}
	rows, err := tx.QueryContext(ctx, `SELECT `+tenantCols+` FROM tenants`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		s.tenants[t.ID] = t
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = tx.QueryContext(ctx, `SELECT tenant_id, name FROM domains WHERE verified`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return nil, err
		}
		if s.verified[id] == nil {
			s.verified[id] = map[string]bool{}
		}
		s.verified[id][name] = true
		s.owners[name] = id
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = tx.QueryContext(ctx, `SELECT user_id, address FROM user_aliases`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var addr string
		if err := rows.Scan(&id, &addr); err != nil {
			rows.Close()
			return nil, err
		}
		if s.aliases[id] == nil {
			s.aliases[id] = map[string]bool{}
		}
		s.aliases[id][addr] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	if err := s.loadConnectors(ctx, tx); err != nil {
		return nil, err
	}
	return s, nil
}

// loadConnectors fills the connector maps of s with the live connectors.
func (s *snapshot) loadConnectors(ctx context.Context, tx *sql.Tx) error {
	s.ranges, s.certs, s.byID, s.bits4, s.bits6 = map[netip.Prefix]*Connector{}, map[string]*Connector{}, map[int64]*Connector{}, nil, nil
	conns, err := loadConnectors(ctx, tx, "c.deleted_at IS NULL")
	if err != nil {
		return err
	}
	for i := range conns { // ordered by ID, so the first to claim a range keeps it
		c := &conns[i]
		s.byID[c.ID] = c
		if c.CertDomain != "" {
			if _, dup := s.certs[c.CertDomain]; !dup {
				s.certs[c.CertDomain] = c
			}
		}
		for _, p := range c.IPRanges {
			if _, dup := s.ranges[p]; dup {
				continue
			}
			s.ranges[p] = c
			if p.Addr().Is4() {
				s.bits4 = append(s.bits4, p.Bits())
			} else {
				s.bits6 = append(s.bits6, p.Bits())
			}
		}
	}
	for _, b := range []*[]int{&s.bits4, &s.bits6} {
		slices.Sort(*b)
		slices.Reverse(*b)
		*b = slices.Compact(*b)
	}
	return nil
}

// ConnectorForIP returns the live connector whose range contains ip, the
// most specific range winning, and its tenant. It reads only the in-memory
// snapshot: it is called for every relay connection.
func (d *Directory) ConnectorForIP(ip netip.Addr) (Connector, Tenant, bool) {
	ip = ip.Unmap().WithZone("")
	s := d.snap.Load()
	bits := s.bits6
	if ip.Is4() {
		bits = s.bits4
	}
	for _, b := range bits {
		p, err := ip.Prefix(b)
		if err != nil {
			continue
		}
		if c, ok := s.ranges[p]; ok {
			t, ok := s.tenants[c.TenantID]
			if !ok {
				continue // connector added after its tenant's snapshot row: cannot happen with FKs
			}
			cc := *c
			cc.IPRanges = slices.Clone(c.IPRanges)
			return cc, t, true
		}
	}
	return Connector{}, Tenant{}, false
}

// IsVerifiedDomain reports whether domain (any case, trailing dot allowed)
// is a verified accepted domain of tenantID, from the snapshot.
func (d *Directory) IsVerifiedDomain(tenantID int64, domain string) bool {
	return d.snap.Load().verified[tenantID][strings.ToLower(strings.TrimSuffix(domain, "."))]
}

// SnapshotTenant returns a tenant from the snapshot, for the checks on the
// SMTP path: no database round trip per message.
func (d *Directory) SnapshotTenant(id int64) (Tenant, bool) {
	t, ok := d.snap.Load().tenants[id]
	return t, ok
}

// DomainOwner finds the verified accepted domain that domain is, or is a
// subdomain of, and the tenant that verified it, from the snapshot. The
// most specific verified name wins, so a tenant that verified
// mail.b.example owns its subdomains even when another verified b.example.
// domain must be an ASCII name (A-labels for IDNs); case and a trailing
// dot do not matter. It costs one map probe per label, with no allocation
// for a lowercase name.
func (d *Directory) DomainOwner(domain string) (tenantID int64, verified string, ok bool) {
	domain = strings.TrimSuffix(domain, ".")
	if hasUpper(domain) {
		domain = strings.ToLower(domain)
	}
	owners := d.snap.Load().owners
	for name := domain; name != ""; {
		if id, ok := owners[name]; ok {
			return id, name, true
		}
		i := strings.IndexByte(name, '.')
		if i < 0 {
			break
		}
		name = name[i+1:]
	}
	return 0, "", false
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// IsUserAlias reports whether address (lowercase) is one of the user's
// aliases, from the snapshot.
func (d *Directory) IsUserAlias(userID int64, address string) bool {
	return d.snap.Load().aliases[userID][address]
}
