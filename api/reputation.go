package api

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/client"

	"github.com/tollgate-mail/tollgate/reputation"
)

// assessmentJSON is what an operator sees of one source IP.
func (s *Server) reputationOn(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.Reputation == nil {
		s.fail(w, r, &apiError{Status: http.StatusNotImplemented, Code: "not_available", Message: "IP reputation is not available on this server"})
		return false
	}
	return true
}

// getIPReputation rates one IP, for a tenant if tenant= is given (its
// exceptions then apply).
func (s *Server) getIPReputation(w http.ResponseWriter, r *http.Request) {
	if !s.reputationOn(w, r) {
		return
	}
	ip, err := netip.ParseAddr(r.PathValue("ip"))
	if err != nil {
		s.fail(w, r, badField("ip", "%q is not an IP address", r.PathValue("ip")))
		return
	}
	var tenant int64
	if v := r.URL.Query().Get("tenant"); v != "" {
		if tenant, err = strconv.ParseInt(v, 10, 64); err != nil {
			s.fail(w, r, badField("tenant", "%q is not a tenant id", v))
			return
		}
	}
	a := s.opts.Reputation.Assess(r.Context(), tenant, ip, time.Now())
	out := client.Assessment{IP: ip.String(), TenantID: tenant, Level: string(a.Level), Low: a.Level.Low(),
		FirstSeen: a.Record.FirstSeen, LastSeen: a.Record.LastSeen, Messages: a.Record.Messages, Spam: a.Record.Spam,
		Figures: toFigures(a.Figures())}
	if a.Exception != nil {
		e := toException(*a.Exception)
		out.Exception = &e
	}
	if a.Entry != nil {
		e := toListEntry(*a.Entry)
		out.Entry = &e
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listReputationLists(w http.ResponseWriter, r *http.Request) {
	if !s.reputationOn(w, r) {
		return
	}
	es, err := s.opts.Reputation.Lists(r.Context())
	listOrFail(s, w, r, "entries", es, err, toListEntry)
}

// addReputationList puts a range on the allow or deny list.
func (s *Server) addReputationList(w http.ResponseWriter, r *http.Request) {
	if !s.reputationOn(w, r) {
		return
	}
	var req struct {
		Kind   string `json:"kind"`
		Prefix string `json:"prefix"`
		Reason string `json:"reason"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := reputation.ParsePrefix(req.Prefix)
	if err != nil {
		s.fail(w, r, badField("prefix", "%v", err))
		return
	}
	actor := principalOf(r.Context()).Name
	var e reputation.ListEntry
	switch req.Kind {
	case "allow":
		e, err = s.opts.Reputation.Allow(r.Context(), p, req.Reason, actor)
	case "deny":
		e, err = s.opts.Reputation.Deny(r.Context(), p, req.Reason, actor)
	default:
		s.fail(w, r, badField("kind", "%q is not allow or deny", req.Kind))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, 0, "reputation.list."+req.Kind, "prefix:"+p.String(), nil, e)
	writeJSON(w, http.StatusCreated, toListEntry(e))
}

// removeReputationList takes ?prefix= off its list.
func (s *Server) removeReputationList(w http.ResponseWriter, r *http.Request) {
	if !s.reputationOn(w, r) {
		return
	}
	p, err := reputation.ParsePrefix(r.URL.Query().Get("prefix"))
	if err != nil {
		s.fail(w, r, badField("prefix", "%v", err))
		return
	}
	e, err := s.opts.Reputation.Unlist(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, 0, "reputation.list.remove", "prefix:"+p.String(), e, nil)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listExceptions(w http.ResponseWriter, r *http.Request) {
	if !s.reputationOn(w, r) {
		return
	}
	var tenant int64
	if v := r.URL.Query().Get("tenant"); v != "" {
		var err error
		if tenant, err = strconv.ParseInt(v, 10, 64); err != nil {
			s.fail(w, r, badField("tenant", "%q is not a tenant id", v))
			return
		}
	}
	es, err := s.opts.Reputation.Exceptions(r.Context(), tenant, time.Now(), r.URL.Query().Get("all") == "true")
	listOrFail(s, w, r, "exceptions", es, err, toException)
}

// grantException lets a tenant send from an IP or range despite its
// reputation until the expiry (expires_at, or ttl such as "72h").
func (s *Server) grantException(w http.ResponseWriter, r *http.Request) {
	if !s.reputationOn(w, r) {
		return
	}
	var req struct {
		TenantID  int64      `json:"tenant_id"`
		Prefix    string     `json:"prefix"`
		ExpiresAt *time.Time `json:"expires_at"`
		TTL       string     `json:"ttl"`
		Reason    string     `json:"reason"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.opts.Directory.Tenant(r.Context(), req.TenantID); err != nil {
		s.fail(w, r, badField("tenant_id", "%d is not a tenant", req.TenantID))
		return
	}
	p, err := reputation.ParsePrefix(req.Prefix)
	if err != nil {
		s.fail(w, r, badField("prefix", "%v", err))
		return
	}
	var expires time.Time
	switch {
	case req.ExpiresAt != nil && req.TTL != "":
		s.fail(w, r, badField("ttl", "give expires_at or ttl, not both"))
		return
	case req.ExpiresAt != nil:
		expires = *req.ExpiresAt
	case req.TTL != "":
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d <= 0 {
			s.fail(w, r, badField("ttl", "%q is not a positive duration such as 72h", req.TTL))
			return
		}
		expires = time.Now().Add(d)
	default:
		s.fail(w, r, badField("expires_at", "an exception needs an expiry: expires_at or ttl"))
		return
	}
	e, err := s.opts.Reputation.GrantException(r.Context(), reputation.Exception{TenantID: req.TenantID, Prefix: p,
		ExpiresAt: expires, Reason: req.Reason, CreatedBy: principalOf(r.Context()).Name})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, req.TenantID, "reputation.exception.grant", fmt.Sprintf("exception:%d", e.ID), nil, e)
	writeJSON(w, http.StatusCreated, toException(e))
}

func (s *Server) revokeException(w http.ResponseWriter, r *http.Request) {
	if !s.reputationOn(w, r) {
		return
	}
	id, err := pathID(r, "exception", "an exception id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.opts.Reputation.RevokeException(r.Context(), id, principalOf(r.Context()).Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, e.TenantID, "reputation.exception.revoke", fmt.Sprintf("exception:%d", id), nil, e)
	writeJSON(w, http.StatusOK, toException(e))
}
