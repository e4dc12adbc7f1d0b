package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// CreateConnector adds a connector for the given sender IP ranges. Ranges
// are normalised (masked, IPv4-mapped IPv6 unmapped, deduplicated). A range
// that overlaps a live connector of another tenant is refused with an
// *OverlapError (ErrConflict), so one tenant cannot capture another's
// traffic; overlaps within a tenant are fine (the most specific wins).
// No address space cap applies: this is the operator's (and the seed's)
// way; tenant admins go through CreateConnectorWithin.
func (d *Directory) CreateConnector(ctx context.Context, by By, tenantID int64, name string, ranges []netip.Prefix) (Connector, error) {
	return d.createConnector(ctx, by, tenantID, name, ranges, nil)
}

// CreateConnectorWithin is CreateConnector for a tenant admin: the
// tenant's live connectors together, with the new one, must stay within
// limit, or the answer is a *SpaceError (ErrOverCap) with the figures.
// Without a cap, one tenant could claim nearly all of IPv4 in /8s: every
// host on the internet would relay as that tenant, and no other tenant
// could add a connector.
func (d *Directory) CreateConnectorWithin(ctx context.Context, by By, tenantID int64, name string, ranges []netip.Prefix, limit SpaceCap) (Connector, error) {
	return d.createConnector(ctx, by, tenantID, name, ranges, &limit)
}

// ConnectorSpace is the address space the tenant's live connectors cover.
func (d *Directory) ConnectorSpace(ctx context.Context, tenantID int64) (Space, error) {
	if _, err := d.Tenant(ctx, tenantID); err != nil {
		return Space{}, fmt.Errorf("connector space: %w", err)
	}
	ranges, err := liveRanges(ctx, d.db.Read, tenantID)
	return SpaceOf(ranges), err
}

func (d *Directory) createConnector(ctx context.Context, by By, tenantID int64, name string, ranges []netip.Prefix, limit *SpaceCap) (Connector, error) {
	what := fmt.Sprintf("create connector %q", name)
	c, err := newConnector(what, by, tenantID, name)
	if err != nil {
		return Connector{}, err
	}
	if ranges, err = normPrefixes(ranges); err != nil {
		return Connector{}, invalid(what, err)
	}
	c.IPRanges = ranges
	return d.insertConnector(ctx, by, what, c, func(tx *sql.Tx) error {
		if err := checkOverlap(ctx, tx, tenantID, ranges, what); err != nil {
			return err
		}
		if limit != nil {
			// Under rangesLock too: two creations at once cannot both
			// fit in the room only one of them has.
			existing, err := liveRanges(ctx, tx, tenantID)
			if err != nil {
				return err
			}
			if err := checkSpace(existing, ranges, *limit); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		return nil
	}, func(tx *sql.Tx, created int64) (int64, error) {
		id, err := insertID(ctx, tx, what, "the tenant has a live connector with that name",
			`INSERT INTO connectors (tenant_id, name, created_by, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, name) WHERE deleted_at IS NULL DO NOTHING RETURNING id`,
			tenantID, c.Name, c.CreatedBy, created)
		if err != nil {
			return 0, err
		}
		for _, p := range ranges {
			if _, err := tx.ExecContext(ctx, `INSERT INTO connector_ranges (connector_id, prefix) VALUES ($1, $2)`, id, p.String()); err != nil {
				return 0, err
			}
		}
		return id, nil
	})
}

// newConnector checks what every connector creation checks first, its
// name and its creator's, and starts the connector.
func newConnector(what string, by By, tenantID int64, name string) (Connector, error) {
	name, err := checkName(name)
	if err != nil {
		return Connector{}, invalid(what, err)
	}
	createdBy, err := checkName(by.Actor)
	if err != nil {
		return Connector{}, invalid(what, fmt.Errorf("created by: %v", err))
	}
	return Connector{TenantID: tenantID, Name: name, CreatedBy: createdBy}, nil
}

// insertConnector stores c in one transaction under rangesLock: the tenant
// must exist, check (the kind's own rules) must pass, insert writes the rows
// and returns the id, and the audit entry commits with them.
func (d *Directory) insertConnector(ctx context.Context, by By, what string, c Connector,
	check func(tx *sql.Tx) error, insert func(tx *sql.Tx, created int64) (int64, error)) (Connector, error) {
	var created int64
	c.CreatedAt, created = now()
	err := d.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		// First statement: see checkOverlap for why this lock.
		if err := d.db.Lock(ctx, tx, rangesLock); err != nil {
			return err
		}
		if _, err := getTenant(ctx, tx, c.TenantID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := check(tx); err != nil {
			return err
		}
		if c.ID, err = insert(tx, created); err != nil {
			return err
		}
		return by.record(ctx, tx, c.TenantID, "connector.create", fmt.Sprintf("connector:%d", c.ID), nil, c)
	})
	if err != nil {
		return Connector{}, err
	}
	d.changed(ctx)
	return c, nil
}

// rangesLock is the store.Lock key every connector creation holds.
const rangesLock = "directory/connector_ranges"

// checkOverlap compares ranges with every live range of other tenants. The
// table is small (a few per tenant) and this runs only on changes.
//
// The check reads rows a concurrent creation may be inserting, so on
// PostgreSQL two nodes could both pass it under READ COMMITTED (or both
// abort under SERIALIZABLE). The caller therefore holds rangesLock: one
// creation at a time checks and inserts, and each sees the ranges the
// previous one committed; connectors are created rarely, so the queue is
// short. No constraint can do it for both stores: PostgreSQL could with an
// exclusion constraint on cidr (&&, GiST, btree_gist for "other tenant")
// only by copying tenant_id and deleted_at into connector_ranges, and SQLite
// has none. Deleting needs no lock: it only frees ranges, and a creation
// that raced it refuses, which is the safe side. On SQLite the lock is free:
// the one write transaction at a time already gives the same order.
func checkOverlap(ctx context.Context, tx *sql.Tx, tenantID int64, ranges []netip.Prefix, what string) error {
	rows, err := tx.QueryContext(ctx, `SELECT r.prefix, c.tenant_id FROM connector_ranges r JOIN connectors c ON c.id = r.connector_id
		WHERE c.deleted_at IS NULL AND c.tenant_id <> $1`, tenantID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var owner int64
		if err := rows.Scan(&s, &owner); err != nil {
			return err
		}
		other, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("stored range %q: %w", s, err)
		}
		for _, p := range ranges {
			if p.Overlaps(other) {
				return fmt.Errorf("%s: %w", what, &OverlapError{Range: p, Other: other, OtherTenant: owner})
			}
		}
	}
	return rows.Err()
}

// liveRanges lists the ranges of the tenant's live connectors.
func liveRanges(ctx context.Context, q queryer, tenantID int64) ([]netip.Prefix, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.prefix FROM connector_ranges r JOIN connectors c ON c.id = r.connector_id
		WHERE c.deleted_at IS NULL AND c.tenant_id = $1`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []netip.Prefix
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("stored range %q: %w", s, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeleteConnector soft-deletes a live connector: it stops matching at once
// on this node (and within RefreshInterval on others) but stays listed.
func (d *Directory) DeleteConnector(ctx context.Context, by By, tenantID, id int64) error {
	_, deleted := now()
	err := d.db.Tx(ctx, func(tx *sql.Tx) error {
		before, err := loadConnectors(ctx, tx, "c.id = $1 AND c.tenant_id = $2 AND c.deleted_at IS NULL", id, tenantID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE connectors SET deleted_at = $1 WHERE id = $2 AND tenant_id = $3 AND deleted_at IS NULL`, deleted, id, tenantID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("delete connector %d of tenant %d: %w: no such live connector", id, tenantID, ErrNotFound))
		}
		if len(before) != 1 {
			return fmt.Errorf("delete connector %d: it changed while being deleted", id)
		}
		return by.record(ctx, tx, tenantID, "connector.delete", fmt.Sprintf("connector:%d", id), before[0], nil)
	})
	if err != nil {
		return err
	}
	d.changed(ctx)
	return nil
}

// Connectors lists the tenant's connectors by ID, deleted ones included
// (Live reports false for them).
func (d *Directory) Connectors(ctx context.Context, tenantID int64) ([]Connector, error) {
	if _, err := d.Tenant(ctx, tenantID); err != nil {
		return nil, fmt.Errorf("list connectors: %w", err)
	}
	return loadConnectors(ctx, d.db.Read, "c.tenant_id = $1", tenantID)
}

// loadConnectors reads connectors matching where, with their ranges.
func loadConnectors(ctx context.Context, q queryer, where string, args ...any) ([]Connector, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.id, c.tenant_id, c.name, c.created_by, c.created_at, c.deleted_at, c.messages, c.last_traffic, c.cert_domain, c.confirmed_at, c.confirmed_by, c.day_start, c.day_messages, c.pool, r.prefix
		FROM connectors c LEFT JOIN connector_ranges r ON r.connector_id = c.id
		WHERE `+where+` ORDER BY c.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Connector
	for rows.Next() {
		var c Connector
		var created, last, dayStart, dayMessages int64
		var deleted, confirmed sql.NullInt64
		var confirmedBy string
		var prefix sql.NullString
		if err := rows.Scan(&c.ID, &c.TenantID, &c.Name, &c.CreatedBy, &created, &deleted, &c.Messages, &last, &c.CertDomain, &confirmed, &confirmedBy, &dayStart, &dayMessages, &c.Pool, &prefix); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].ID != c.ID {
			c.CreatedAt = fromNanos(created)
			if last > 0 {
				c.LastTraffic = fromNanos(last)
			}
			if confirmed.Valid {
				c.ConfirmedAt, c.ConfirmedBy = fromNanos(confirmed.Int64), confirmedBy
			}
			c.dayStart, c.dayMessages = dayStart, dayMessages
			if dayStart == dayOf(time.Now()).UnixNano() {
				c.MessagesToday = dayMessages
			}
			if deleted.Valid {
				c.DeletedAt = fromNanos(deleted.Int64)
			}
			out = append(out, c)
		}
		if prefix.Valid {
			p, err := netip.ParsePrefix(prefix.String)
			if err != nil {
				return nil, fmt.Errorf("connector %d: stored range %q: %w", c.ID, prefix.String, err)
			}
			last := &out[len(out)-1]
			last.IPRanges = append(last.IPRanges, p)
		}
	}
	for i := range out {
		slices.SortFunc(out[i].IPRanges, comparePrefix)
	}
	return out, rows.Err()
}

// ConfirmConnector ends a connector's probation. The caller has checked the
// admin's fresh second factor (the API's step-up); by names the admin for the
// record. Confirming a confirmed connector is a no-op; a deleted or unknown
// one is ErrNotFound.
func (d *Directory) ConfirmConnector(ctx context.Context, by By, tenantID, id int64) (Connector, error) {
	what := fmt.Sprintf("confirm connector %d", id)
	_, at := now()
	var c Connector
	err := d.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM connectors WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL`,
			id, tenantID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%s of tenant %d: %w", what, tenantID, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE connectors SET confirmed_at = $1, confirmed_by = $2 WHERE id = $3 AND confirmed_at IS NULL`, at, by.Actor, id); err != nil {
			return err
		}
		cs, err := loadConnectors(ctx, tx, "c.id = $1", id)
		if err != nil || len(cs) != 1 {
			return fmt.Errorf("%s: reload: %v", what, err)
		}
		c = cs[0]
		return by.record(ctx, tx, tenantID, "connector.confirm", fmt.Sprintf("connector:%d", id), nil, c)
	})
	if err != nil {
		return Connector{}, err
	}
	d.changed(ctx)
	return c, nil
}
