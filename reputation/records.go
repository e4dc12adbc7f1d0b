package reputation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Record is what Tollgate has seen from one source IP, fleet-wide as of the
// last flush plus this node's counts since.
type Record struct {
	IP        netip.Addr
	FirstSeen time.Time // zero if never seen
	LastSeen  time.Time
	Messages  int64
	Spam      int64 // messages the classifier called spam
}

// Known reports whether the IP was ever seen.
func (r Record) Known() bool { return r.Messages > 0 }

// SpamRatio is Spam/Messages, 0 for an unknown IP.
func (r Record) SpamRatio() float64 {
	if r.Messages == 0 {
		return 0
	}
	return float64(r.Spam) / float64(r.Messages)
}

// counts are messages observed on this node.
type counts struct {
	n, spam     int64
	first, last time.Time
}

func (c *counts) add(o counts) {
	if o.n == 0 {
		return
	}
	if c.n == 0 || o.first.Before(c.first) {
		c.first = o.first
	}
	if o.last.After(c.last) {
		c.last = o.last
	}
	c.n += o.n
	c.spam += o.spam
}

// entry is one IP in memory: the stored record and the counts on their way
// to it. While a flush writes them, counts sit in flushing, so Assess never
// sees an IP lose messages for the length of a write.
type entry struct {
	db       Record
	loaded   bool // db is what the store had (a zero db then means "no row")
	pend     counts
	flushing counts
	used     time.Time // last Assess or Observe, for idle eviction
}

func (e *entry) view(ip netip.Addr) Record {
	r := e.db
	r.IP = ip
	all := counts{n: r.Messages, spam: r.Spam, first: r.FirstSeen, last: r.LastSeen}
	all.add(e.flushing)
	all.add(e.pend)
	r.Messages, r.Spam, r.FirstSeen, r.LastSeen = all.n, all.spam, all.first, all.last
	return r
}

// Observe records one message from ip with the classifier's verdict. It
// only touches memory; the next flush writes it.
func (t *Tracker) Observe(ip netip.Addr, spam bool) {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return
	}
	now := t.cfg.Clock()
	c := counts{n: 1, first: now, last: now}
	if spam {
		c.spam = 1
	}
	t.mu.Lock()
	e := t.ips[ip]
	if e == nil {
		e = &entry{}
		t.ips[ip] = e
	}
	e.pend.add(c)
	e.used = now
	t.mu.Unlock()
}

// Record returns ip's record: from memory when cached, else from the store
// (once; the entry is then cached and kept fresh by Refresh).
func (t *Tracker) Record(ctx context.Context, ip netip.Addr, now time.Time) (Record, error) {
	ip = ip.Unmap()
	t.mu.Lock()
	if e := t.ips[ip]; e != nil && e.loaded {
		e.used = now
		r := e.view(ip)
		t.mu.Unlock()
		return r, nil
	}
	t.mu.Unlock()

	stored, err := t.readRecord(ctx, ip)
	if err != nil {
		return Record{IP: ip}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.ips[ip]
	if e == nil {
		e = &entry{}
		t.ips[ip] = e
	}
	if !e.loaded { // a flush or refresh meanwhile has newer data
		e.db, e.loaded = stored, true
	}
	e.used = now
	return e.view(ip), nil
}

func (t *Tracker) readRecord(ctx context.Context, ip netip.Addr) (Record, error) {
	var first, last int64
	r := Record{IP: ip}
	err := t.db.Read.QueryRowContext(ctx, `SELECT first_seen, last_seen, messages, spam FROM reputation_ips WHERE ip = $1`,
		ip.String()).Scan(&first, &last, &r.Messages, &r.Spam)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("read reputation of %s: %w", ip, err)
	}
	r.FirstSeen, r.LastSeen = time.Unix(0, first), time.Unix(0, last)
	return r, nil
}

// flushChunk bounds one transaction, so a large backlog does not hold the
// write lock for long.
const flushChunk = 500

type flushItem struct {
	ip netip.Addr
	c  counts
}

// Flush adds the counts observed since the last flush to the store, one
// upsert per IP, and caches the merged rows the store returns (which carry
// other nodes' counts too). Counts that fail to write are kept for the next
// flush.
func (t *Tracker) Flush(ctx context.Context) error {
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	t.mu.Lock()
	var batch []flushItem
	for ip, e := range t.ips {
		if e.pend.n > 0 {
			e.flushing, e.pend = e.pend, counts{}
			batch = append(batch, flushItem{ip, e.flushing})
		}
	}
	t.mu.Unlock()
	// One order on every node: two nodes upserting the same rows in
	// different orders could deadlock each other on PostgreSQL.
	slices.SortFunc(batch, func(a, b flushItem) int { return a.ip.Compare(b.ip) })

	var errs []error
	for len(batch) > 0 {
		n := min(len(batch), flushChunk)
		errs = append(errs, t.flushChunk(ctx, batch[:n]))
		batch = batch[n:]
	}
	return errors.Join(errs...)
}

func (t *Tracker) flushChunk(ctx context.Context, batch []flushItem) error {
	updated := t.cfg.Clock().UnixNano()
	rows := make([]Record, len(batch))
	err := t.db.Tx(ctx, func(tx *sql.Tx) error {
		for i, b := range batch {
			var first, last int64
			r := Record{IP: b.ip}
			if err := tx.QueryRowContext(ctx, `INSERT INTO reputation_ips (ip, first_seen, last_seen, messages, spam, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (ip) DO UPDATE SET
					first_seen = CASE WHEN excluded.first_seen < reputation_ips.first_seen THEN excluded.first_seen ELSE reputation_ips.first_seen END,
					last_seen = CASE WHEN excluded.last_seen > reputation_ips.last_seen THEN excluded.last_seen ELSE reputation_ips.last_seen END,
					messages = reputation_ips.messages + excluded.messages,
					spam = reputation_ips.spam + excluded.spam,
					updated_at = excluded.updated_at
				RETURNING first_seen, last_seen, messages, spam`,
				b.ip.String(), b.c.first.UnixNano(), b.c.last.UnixNano(), b.c.n, b.c.spam, updated).
				Scan(&first, &last, &r.Messages, &r.Spam); err != nil {
				return fmt.Errorf("upsert %s: %w", b.ip, err)
			}
			r.FirstSeen, r.LastSeen = time.Unix(0, first), time.Unix(0, last)
			rows[i] = r
		}
		return nil
	})
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, b := range batch {
		e := t.ips[b.ip] // never evicted while flushing holds counts
		if err != nil {
			e.pend.add(e.flushing)
		} else {
			e.db, e.loaded = rows[i], true
		}
		e.flushing = counts{}
	}
	if err != nil {
		return fmt.Errorf("flush reputation of %d IPs: %w", len(batch), err)
	}
	return nil
}

// refreshOverlap widens each refresh's "updated since" to cover clock skew
// between nodes and transactions that committed after their updated_at.
const refreshOverlap = time.Minute

// Refresh re-reads the cached IPs whose rows changed since the last refresh
// (other nodes' flushes) and drops entries idle for IdleTTL.
func (t *Tracker) Refresh(ctx context.Context) error {
	start := t.cfg.Clock()
	t.mu.Lock()
	since := t.seen.Add(-refreshOverlap)
	for ip, e := range t.ips {
		if e.pend.n == 0 && e.flushing.n == 0 && start.Sub(e.used) > t.cfg.IdleTTL {
			delete(t.ips, ip)
		}
	}
	empty := len(t.ips) == 0
	t.mu.Unlock()
	if empty {
		t.setSeen(start)
		return nil
	}
	rows, err := t.db.Read.QueryContext(ctx, `SELECT ip, first_seen, last_seen, messages, spam FROM reputation_ips WHERE updated_at > $1`, since.UnixNano())
	if err != nil {
		return fmt.Errorf("refresh reputation records: %w", err)
	}
	defer rows.Close()
	var fresh []Record
	for rows.Next() {
		var ip string
		var first, last int64
		var r Record
		if err := rows.Scan(&ip, &first, &last, &r.Messages, &r.Spam); err != nil {
			return fmt.Errorf("refresh reputation records: %w", err)
		}
		if r.IP, err = netip.ParseAddr(ip); err != nil {
			return fmt.Errorf("refresh reputation records: bad ip %q in store: %w", ip, err)
		}
		r.FirstSeen, r.LastSeen = time.Unix(0, first), time.Unix(0, last)
		fresh = append(fresh, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("refresh reputation records: %w", err)
	}
	t.mu.Lock()
	for _, r := range fresh {
		// Counts only grow: a row read before this node's own flush
		// committed must not replace what that flush returned.
		if e := t.ips[r.IP]; e != nil && (!e.loaded || r.Messages >= e.db.Messages) {
			e.db, e.loaded = r, true
		}
	}
	t.seen = start
	t.mu.Unlock()
	return nil
}

func (t *Tracker) setSeen(at time.Time) {
	t.mu.Lock()
	t.seen = at
	t.mu.Unlock()
}
