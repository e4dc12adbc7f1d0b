package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/trace"
)

// standingJSON is one tenant's state at a glance: what the operator's
// tenants list and dashboard show for every tenant.
type standingJSON struct {
	TenantID     int64           `json:"tenant_id"`
	Name         string          `json:"name"`
	License      string          `json:"effective_license"`
	Seats        int             `json:"seats"`
	CreatedAt    time.Time       `json:"created_at"`
	State        string          `json:"state"` // sending, blocked, expired, probation
	BlockRule    string          `json:"block_rule,omitempty"`
	BlockRatio   float64         `json:"block_ratio,omitempty"`
	BlockSpam    int64           `json:"block_spam_bulk,omitempty"`
	BlockTotal   int64           `json:"block_messages,omitempty"`
	Restrictions int             `json:"restrictions"`
	Today        blocks.DayStats `json:"today"`
	SpamRatio    float64         `json:"spam_ratio_today"`
	Pending      int64           `json:"pending_unblock_request,omitempty"` // its id
}

// listStandings is every tenant's standing in a few queries (operators):
// the state from the blocks' memory, restriction counts and today's
// verdict counts grouped by tenant, the pending unblock requests. The
// per-tenant status route holds the details (evidence, trace figures).
func (s *Server) listStandings(w http.ResponseWriter, r *http.Request) {
	if !s.protection(w, r) {
		return
	}
	ctx := r.Context()
	ts, err := s.opts.Directory.Tenants(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	restricted, err := s.opts.Blocks.LiveRestrictionCounts(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	today, err := s.opts.Blocks.TodayStats(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pending := map[int64]int64{}
	reqs, err := s.opts.Blocks.UnblockRequests(ctx, 0, blocks.StatusPending)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, u := range reqs {
		if _, seen := pending[u.TenantID]; !seen {
			pending[u.TenantID] = u.ID
		}
	}
	blocked := s.opts.Blocks.BlockedTenants()
	now := time.Now()
	writeList(w, "standings", ts, func(t directory.Tenant) standingJSON {
		st := standingJSON{TenantID: t.ID, Name: t.Name, License: string(t.LicenseAt(now)), Seats: t.Seats, CreatedAt: t.CreatedAt,
			State: "sending", Restrictions: restricted[t.ID], Pending: pending[t.ID]}
		if d, ok := today[t.ID]; ok {
			st.Today = d
			if d.Messages > 0 {
				st.SpamRatio = float64(d.SpamBulk()) / float64(d.Messages)
			}
		}
		switch b, ok := blocked[t.ID]; {
		case t.LicenseAt(now) == directory.Expired:
			st.State = "expired"
		case ok:
			st.State, st.BlockRule = "blocked", b.Rule
			st.BlockRatio, st.BlockSpam, st.BlockTotal = b.Evidence.Ratio, b.Evidence.SpamBulk, b.Evidence.Messages
		default:
			if _, on := s.opts.Blocks.Probation(t.ID, now); on {
				st.State = "probation"
			}
		}
		return st
	})
}

// nodeJSON is one node's last report on the dashboard.
type nodeJSON struct {
	ID   string `json:"node_id"`
	Node string `json:"node"` // the hostname, not unique

	QueueDepth int       `json:"queue_depth"`
	ReportedAt time.Time `json:"reported_at"`
	Stale      bool      `json:"stale"`
}

// dashboard is the operator's service-wide figures beside the standings:
// the queue depth (summed over the nodes reporting, each listed with its
// last report; a stale one is listed but not counted) and the refusals by
// reply code, hour by hour, over the last ?hours= (24 by default, at most
// 168).
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	hours := 24
	if v := r.URL.Query().Get("hours"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 168 {
			s.fail(w, r, badField("hours", "%q is not a number of hours in 1..168", v))
			return
		}
		hours = n
	}
	out := struct {
		QueueDepth *int              `json:"queue_depth,omitempty"`
		Nodes      []nodeJSON        `json:"nodes,omitempty"`
		Since      time.Time         `json:"since"`
		Refusals   []trace.CodeCount `json:"refusals"`
	}{Since: time.Now().UTC().Truncate(time.Hour).Add(-time.Duration(hours-1) * time.Hour), Refusals: []trace.CodeCount{}}
	if s.opts.Nodes != nil {
		rs, err := s.opts.Nodes.List(r.Context(), time.Now())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		total := 0
		out.Nodes = []nodeJSON{}
		for _, n := range rs {
			out.Nodes = append(out.Nodes, nodeJSON{ID: n.ID, Node: n.Hostname, QueueDepth: n.QueueDepth, ReportedAt: n.ReportedAt, Stale: n.Stale})
			if !n.Stale {
				total += n.QueueDepth
			}
		}
		out.QueueDepth = &total
	} else if s.opts.Queue != nil {
		n, err := s.opts.Queue.Depth(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out.QueueDepth = &n
	}
	if s.opts.Trace != nil {
		rs, err := s.opts.Trace.RefusalsByCode(r.Context(), out.Since)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out.Refusals = rs
	}
	writeJSON(w, http.StatusOK, out)
}
