package directory

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// traffic accumulates messages per connector in memory; the refresher
// writes it out every refresh interval, so the SMTP path never waits on the
// database for bookkeeping.
type traffic struct {
	mu   sync.Mutex
	byID map[int64]trafficCount
}

type trafficCount struct {
	n    int64
	last time.Time
}

// NoteConnectorTraffic records one accepted message through connector id.
func (d *Directory) NoteConnectorTraffic(id int64) {
	if id == 0 {
		return
	}
	d.traffic.mu.Lock()
	defer d.traffic.mu.Unlock()
	if d.traffic.byID == nil {
		d.traffic.byID = map[int64]trafficCount{}
	}
	c := d.traffic.byID[id]
	c.n++
	c.last = time.Now()
	d.traffic.byID[id] = c
}

// FlushTraffic writes the accumulated counts to the database (the refresher
// calls it; Close calls it once more). Counts that fail to write are kept
// for the next try.
func (d *Directory) FlushTraffic(ctx context.Context) error {
	d.traffic.mu.Lock()
	pending := d.traffic.byID
	d.traffic.byID = nil
	d.traffic.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	err := d.db.Tx(ctx, func(tx *sql.Tx) error {
		for id, c := range pending {
			today := dayOf(c.last).UnixNano()
			if _, err := tx.ExecContext(ctx, `UPDATE connectors SET messages = messages + $1,
				last_traffic = CASE WHEN last_traffic > $2 THEN last_traffic ELSE $2 END,
				day_messages = CASE WHEN day_start = $4 THEN day_messages + $1 ELSE $1 END,
				day_start = $4 WHERE id = $3`,
				c.n, c.last.UnixNano(), id, today); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		d.traffic.mu.Lock()
		if d.traffic.byID == nil {
			d.traffic.byID = map[int64]trafficCount{}
		}
		for id, c := range pending {
			cur := d.traffic.byID[id]
			cur.n += c.n
			if c.last.After(cur.last) {
				cur.last = c.last
			}
			d.traffic.byID[id] = cur
		}
		d.traffic.mu.Unlock()
		slog.Warn("directory: flush connector traffic", "err", err)
	}
	return err
}

// dayOf is the start of t's UTC day: probation quotas count per UTC day.
func dayOf(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour)
}

// MessagesToday is connector id's count for the current UTC day: what the
// database had at the last snapshot plus what this node has not flushed.
// Other nodes' unflushed messages (at most a refresh interval's worth) are
// not in it.
func (d *Directory) MessagesToday(id int64) int64 {
	var n int64
	today := dayOf(time.Now())
	if c := d.snap.Load().byID[id]; c != nil && c.dayStart == today.UnixNano() {
		n = c.dayMessages
	}
	d.traffic.mu.Lock()
	if c, ok := d.traffic.byID[id]; ok && !c.last.Before(today) {
		n += c.n
	}
	d.traffic.mu.Unlock()
	return n
}

// ConnectorOnProbation reports whether live connector id awaits an admin's
// confirmation (from the snapshot).
func (d *Directory) ConnectorOnProbation(id int64) bool {
	c := d.snap.Load().byID[id]
	return c != nil && c.ConfirmedAt.IsZero()
}
