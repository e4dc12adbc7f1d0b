package suppress

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// The RCPT check runs for every recipient, and nearly every recipient is on
// no list: a database query for each (about 0.2 ms of CPU on SQLite, a
// round trip on PostgreSQL) was a tenth of the relay's whole CPU per
// message. The filter answers "certainly not suppressed" from memory and
// sends only the rest to the database, which stays the one truth.
//
// It holds a 64-bit hash of every (tenant, address) entry the node has
// seen. It may hold more than the table (an entry removed since, a hash
// collision): such a recipient costs a query that finds nothing, never a
// wrong refusal. It may hold less only for the refresh interval: an entry
// another node of a fleet added is seen here at the next refresh.

// DefaultFresh is how old the filter may be before a lookup first brings it
// up to date (one indexed query for the rows added since).
const DefaultFresh = time.Second

// rebuildEvery is how often the filter is loaded again from scratch, which
// drops removed entries and catches rows that an earlier refresh could not
// see yet (a PostgreSQL id taken before, but committed after, a larger one).
const rebuildEvery = 10 * time.Minute

// idSlack is how far below the largest id seen each refresh reads again, for
// rows whose transaction committed after a later id's did.
const idSlack = 1024

type filter struct {
	seed maphash.Seed

	mu       sync.RWMutex
	keys     map[uint64]struct{}
	maxID    int64
	loaded   time.Time // last refresh
	rebuilt  time.Time // last full load
	refreshM sync.Mutex
}

func newFilter() *filter {
	return &filter{seed: maphash.MakeSeed(), keys: map[uint64]struct{}{}}
}

func (f *filter) key(tenantID int64, addr string) uint64 {
	var h maphash.Hash
	h.SetSeed(f.seed)
	var b [8]byte
	for i := range b {
		b[i] = byte(tenantID >> (8 * i))
	}
	h.Write(b[:])
	h.WriteString(addr)
	return h.Sum64()
}

// mayHold reports whether (tenantID, addr) or (Global, addr) may be on a
// list. addr is normalized.
func (f *filter) mayHold(tenantID int64, addr string) bool {
	kt, kg := f.key(tenantID, addr), f.key(Global, addr)
	f.mu.RLock()
	defer f.mu.RUnlock()
	_, t := f.keys[kt]
	_, g := f.keys[kg]
	return t || g
}

func (f *filter) add(tenantID int64, addr string) {
	k := f.key(tenantID, addr)
	f.mu.Lock()
	f.keys[k] = struct{}{}
	f.mu.Unlock()
}

// stale reports whether the filter is older than fresh.
func (f *filter) stale(now time.Time, fresh time.Duration) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.loaded.IsZero() || now.Sub(f.loaded) >= fresh
}

// refresh reads the rows added since the last refresh (or all of them, at
// first and every rebuildEvery). One caller refreshes at a time; the others
// wait for it and then find the filter fresh.
func (s *Store) refresh(ctx context.Context, fresh time.Duration) error {
	f := s.filter
	if !f.stale(time.Now(), fresh) {
		return nil // the usual case: no lock shared by every RCPT
	}
	f.refreshM.Lock()
	defer f.refreshM.Unlock()
	now := time.Now()
	if !f.stale(now, fresh) {
		return nil // another lookup refreshed it while this one waited
	}
	full := f.rebuilt.IsZero() || now.Sub(f.rebuilt) >= rebuildEvery
	from := int64(0)
	keys := map[uint64]struct{}{}
	if !full {
		f.mu.RLock()
		from = max(f.maxID-idSlack, 0)
		f.mu.RUnlock()
	}
	rows, err := s.db.Read.QueryContext(ctx, `SELECT id, tenant_id, address FROM suppressions WHERE id > $1`, from)
	if err != nil {
		return fmt.Errorf("suppress: refresh filter: %w", err)
	}
	defer rows.Close()
	maxID := from
	for rows.Next() {
		var id, tenant int64
		var addr string
		if err := rows.Scan(&id, &tenant, &addr); err != nil {
			return fmt.Errorf("suppress: refresh filter: %w", err)
		}
		keys[f.key(tenant, addr)] = struct{}{}
		maxID = max(maxID, id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("suppress: refresh filter: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if full {
		// A key added locally after the load's snapshot is missing from
		// the new set until the next refresh, which reads its id (above
		// the load's largest) again.
		f.keys, f.rebuilt = keys, now
	} else {
		for k := range keys {
			f.keys[k] = struct{}{}
		}
	}
	f.maxID = max(f.maxID, maxID)
	f.loaded = now
	return nil
}
