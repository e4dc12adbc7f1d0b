package blocks

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// snapshot is what the SMTP path reads, swapped whole so readers never lock.
type snapshot struct {
	blocks       map[int64]Block // live blocks by tenant
	probation    map[int64]probation
	restrictions map[restrictionKey]Restriction // live rows (Until may have passed: see ActiveAt)
	overrides    map[int64]policy.Overrides
	// released is each tenant's latest block release; restrictionEnds the
	// ends (release, or Until) of each subject's recent restrictions. The
	// checks count only what happened after them (see Epoch).
	released        map[int64]time.Time
	restrictionEnds map[restrictionKey][]time.Time
}

type probation struct {
	block Block
	days  map[int64]DayStats // by the day's Unix seconds
}

func (s *Store) reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	var snap *snapshot
	err := s.db.ReadTx(ctx, func(tx *sql.Tx) (err error) {
		snap, err = s.load(ctx, tx)
		return err
	})
	if err != nil {
		return err
	}
	s.snap.Store(snap)
	return nil
}

func (s *Store) load(ctx context.Context, tx *sql.Tx) (*snapshot, error) {
	snap := &snapshot{blocks: map[int64]Block{}, probation: map[int64]probation{},
		restrictions: map[restrictionKey]Restriction{}, overrides: map[int64]policy.Overrides{},
		released: map[int64]time.Time{}, restrictionEnds: map[restrictionKey][]time.Time{}}
	now := s.opts.Now()
	// Live blocks, and released ones whose probation may still run (the
	// longest probation a release can set is bounded by the settings; 60
	// days covers any sane value).
	rows, err := tx.QueryContext(ctx, `SELECT `+blockCols+` FROM tenant_blocks WHERE released_at IS NULL OR released_at > $1 ORDER BY id`,
		nanos(now.Add(-60*24*time.Hour)))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		b, err := scanBlock(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if !b.Live() && b.ReleasedAt.After(snap.released[b.TenantID]) {
			snap.released[b.TenantID] = b.ReleasedAt
		}
		if b.Live() {
			snap.blocks[b.TenantID] = b
		} else if b.ProbationDays > 0 && now.Before(b.ReleasedAt.Add(time.Duration(b.ProbationDays)*24*time.Hour)) {
			snap.probation[b.TenantID] = probation{block: b, days: map[int64]DayStats{}}
		} else {
			// The latest release decides (rows come in id order): a block
			// lifted without probation ends an earlier one's probation.
			delete(snap.probation, b.TenantID)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for id, p := range snap.probation {
		if _, blocked := snap.blocks[id]; blocked {
			delete(snap.probation, id)
			continue
		}
		days, err := statsSince(ctx, tx, id, dayOf(p.block.ReleasedAt))
		if err != nil {
			return nil, err
		}
		for _, d := range days {
			p.days[d.Day.Unix()] = d
		}
	}

	// Live restrictions, and those that ended in the last two days (their
	// ends reset the windows that tripped them; the longest is 24 h).
	rows, err = tx.QueryContext(ctx, `SELECT `+restrictionCols+` FROM restrictions WHERE released_at IS NULL OR released_at > $1`,
		nanos(now.Add(-48*time.Hour)))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		r, err := scanRestriction(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		k := restrictionKey{r.TenantID, r.Kind, r.Subject}
		switch {
		case r.ReleasedAt.IsZero():
			snap.restrictions[k] = r
			if !r.Until.IsZero() {
				snap.restrictionEnds[k] = append(snap.restrictionEnds[k], r.Until)
			}
		case r.ReleasedBy != "expired":
			snap.restrictionEnds[k] = append(snap.restrictionEnds[k], r.ReleasedAt)
		default: // closed when it was restricted again: it ended at Until
			snap.restrictionEnds[k] = append(snap.restrictionEnds[k], r.Until)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = tx.QueryContext(ctx, `SELECT tenant_id, overrides FROM tenant_policy`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var raw string
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, err
		}
		var o policy.Overrides
		if err := json.Unmarshal([]byte(raw), &o); err != nil {
			s.opts.Logger.Error("blocks: unreadable policy overrides; using the defaults", "tenant", id, "err", err)
			continue
		}
		snap.overrides[id] = o
	}
	return snap, rows.Err()
}
