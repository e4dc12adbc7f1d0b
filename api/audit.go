package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/client"
)

// queryAudit searches the audit log. Tenant admins see their tenant's
// entries only. Parameters: tenant, actor, action, action_prefix, since,
// until (RFC 3339), days (since = now - days), q (a part of the actor,
// action, target or source address), limit, after_id.
// "Connectors created in the last 7 days" is ?action=connector.create&days=7.
func (s *Server) queryAudit(w http.ResponseWriter, r *http.Request) {
	if s.opts.Audit == nil {
		writeError(w, http.StatusNotFound, "not_found", "no audit log")
		return
	}
	q := r.URL.Query()
	f := audit.Filter{Actor: q.Get("actor"), Action: q.Get("action"), ActionPrefix: q.Get("action_prefix"), Text: q.Get("q")}
	if len(f.Text) > maxListQuery {
		s.fail(w, r, badField("q", "is %d bytes; at most %d", len(f.Text), maxListQuery))
		return
	}
	intParam := func(name string) (int64, bool) {
		v := q.Get(name)
		if v == "" {
			return 0, true
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			s.fail(w, r, badField(name, "%q is not a non-negative integer", v))
			return 0, false
		}
		return n, true
	}
	timeParam := func(name string) (time.Time, bool) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, true
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.fail(w, r, badField(name, "%q is not an RFC 3339 time such as 2026-11-23T00:00:00Z", v))
			return time.Time{}, false
		}
		return t, true
	}
	var ok bool
	if f.Since, ok = timeParam("since"); !ok {
		return
	}
	if f.Until, ok = timeParam("until"); !ok {
		return
	}
	days, ok := intParam("days")
	if !ok {
		return
	}
	if days > 0 {
		f.Since = time.Now().Add(-time.Duration(days) * 24 * time.Hour)
	}
	limit, ok := intParam("limit")
	if !ok {
		return
	}
	f.Limit = int(min(limit, audit.MaxLimit))
	if f.AfterID, ok = intParam("after_id"); !ok {
		return
	}
	p := principalOf(r.Context())
	if q.Has("tenant") {
		tid, ok := intParam("tenant")
		if !ok {
			return
		}
		if !p.CanSee(tid) {
			writeError(w, http.StatusNotFound, "not_found", "no such tenant")
			return
		}
		f.TenantID = &tid
	}
	if !p.Operator {
		f.TenantID = &p.TenantID
	}
	entries, err := s.opts.Audit.Query(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []client.AuditEntry{}
	for _, e := range entries {
		out = append(out, client.AuditEntry{ID: e.ID, Time: e.Time, Actor: e.Actor, TenantID: e.TenantID, SourceIP: e.SourceIP,
			Action: e.Action, Target: e.Target, Before: e.Before, After: e.After, Hash: e.Hash})
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": out})
}

// verifyAudit walks the whole chain and reports the first broken entry, and
// the head to record elsewhere (an anchor that later rewrites cannot fake).
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) {
	if s.opts.Audit == nil {
		writeError(w, http.StatusNotFound, "not_found", "no audit log")
		return
	}
	rep, err := s.opts.Audit.Verify(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, hash, err := s.opts.Audit.Head(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, client.AuditReport{Entries: rep.Entries, OK: rep.OK, FirstBad: rep.FirstBad,
		Problem: rep.Problem, HeadID: id, HeadHash: hash})
}
