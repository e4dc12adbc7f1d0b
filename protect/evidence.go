package protect

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/directory"
)

// ringSize is how many recent spam and bulk messages are kept per tenant
// for a block's evidence.
const ringSize = 100

// evidenceRing keeps each tenant's recent spam and bulk messages on this
// node. Only tenants that send spam get a ring.
type evidenceRing struct {
	mu      sync.Mutex
	tenants map[int64]*ring
}

type ring struct {
	next  int
	items [ringSize]seen
}

type seen struct {
	id        string // unique in the fleet: the engine's random prefix and a sequence
	at        time.Time
	sender    string
	connector string
	sample    blocks.Sample
}

func (r *evidenceRing) add(tenant int64, s seen) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tenants == nil {
		r.tenants = map[int64]*ring{}
	}
	g := r.tenants[tenant]
	if g == nil {
		g = &ring{}
		r.tenants[tenant] = g
	}
	g.items[g.next%ringSize] = s
	g.next++
}

// since returns the tenant's remembered messages newer than t, newest first.
func (r *evidenceRing) since(tenant int64, t time.Time) []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.tenants[tenant]
	if g == nil {
		return nil
	}
	var out []seen
	for i := 1; i <= min(g.next, ringSize); i++ {
		s := g.items[(g.next-i)%ringSize]
		if s.at.After(t) {
			out = append(out, s)
		}
	}
	return out
}

// ConnectorLister lists a tenant's connectors, deleted ones included.
type ConnectorLister interface {
	Connectors(ctx context.Context, tenantID int64) ([]directory.Connector, error)
}

// evidence gathers what a block records: the window's figures, the top
// senders and connectors and samples of the spam the fleet saw (this
// node's only when the shared list cannot be read, see recentEvidence), the
// last week's connector and credential changes from the audit log (or,
// without one, the connectors created or deleted in the last week).
func (e *Engine) evidence(ctx context.Context, tenantID int64, window time.Duration, total, spamBulk int64, conns ConnectorLister) blocks.Evidence {
	now := e.now()
	ev := blocks.Evidence{Window: window.String(), Messages: total, SpamBulk: spamBulk}
	if total > 0 {
		ev.Ratio = float64(spamBulk) / float64(total)
	}
	recent, note := e.recentEvidence(ctx, tenantID, now.Add(-window))
	if note != "" {
		ev.Extra = map[string]string{LocalEvidenceNote: note}
	}
	senders, connectors := map[string]int64{}, map[string]int64{}
	for i, s := range recent {
		senders[s.sender]++
		if s.connector != "" {
			connectors[s.connector]++
		}
		if i < 10 {
			ev.Samples = append(ev.Samples, s.sample)
		}
	}
	ev.TopSenders, ev.TopConnectors = top(senders, 5), top(connectors, 5)
	week := now.Add(-7 * 24 * time.Hour)
	audited := map[int64]bool{} // connectors whose creation the audit log has
	if e.Audit != nil {
		var err error
		if ev.RecentConnectors, err = connectorEvents(ctx, e.Audit, tenantID, week); err != nil {
			e.log().Warn("protect: read the audit log for a block's evidence", "tenant", tenantID, "err", err)
		}
		if ev.RecentAccess, err = accessEvents(ctx, e.Audit, tenantID, week); err != nil {
			e.log().Warn("protect: read the audit log for a block's evidence", "tenant", tenantID, "err", err)
		}
		for _, c := range ev.RecentConnectors {
			if c.Event == "created" {
				audited[c.ID] = true
			}
		}
	}
	if conns != nil {
		// Connectors made outside the API (the dev seed, a script on the
		// directory) have no audit entry: their own record names the
		// creator. Deletions are shown from the audit log only: a
		// connector's record does not say who deleted it.
		cs, err := conns.Connectors(ctx, tenantID)
		if err != nil {
			e.log().Warn("protect: list connectors for a block's evidence", "tenant", tenantID, "err", err)
		}
		for _, c := range cs {
			if c.CreatedAt.After(week) && !audited[c.ID] {
				ev.RecentConnectors = append(ev.RecentConnectors, blocks.ConnectorEvent{ID: c.ID, Name: c.Name, Event: "created", At: c.CreatedAt, CreatedBy: c.CreatedBy})
			}
			if e.Audit == nil && !c.Live() && c.DeletedAt.After(week) {
				ev.RecentConnectors = append(ev.RecentConnectors, blocks.ConnectorEvent{ID: c.ID, Name: c.Name, Event: "deleted", At: c.DeletedAt})
			}
		}
		slices.SortStableFunc(ev.RecentConnectors, func(a, b blocks.ConnectorEvent) int { return a.At.Compare(b.At) })
	}
	return ev
}

func top(m map[string]int64, n int) []blocks.Count {
	out := make([]blocks.Count, 0, len(m))
	for k, v := range m {
		out = append(out, blocks.Count{Name: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
