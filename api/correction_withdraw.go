package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/corrections"
)

// toCorrection is a stored mark on the wire.
func toCorrection(m corrections.Mark) client.Correction {
	return client.Correction{ID: m.ID, TenantID: m.TenantID, Tenant: m.Tenant, Message: m.Message, Fingerprint: m.Fingerprint,
		Label: m.Label, MarkedBy: m.MarkedBy, MarkedAt: m.MarkedAt, Tokens: m.Tokens, WithdrawnAt: m.WithdrawnAt, WithdrawnBy: m.WithdrawnBy}
}

// correctionsOn answers 501 when this server keeps no corrections.
func (s *Server) correctionsOn(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.Corrections == nil {
		s.fail(w, r, &apiError{Status: http.StatusNotImplemented, Code: "not_available",
			Message: "corrections need the built-in classifier's corrections store on this server"})
		return false
	}
	return true
}

// listCorrections lists the caller's tenant's marks (an operator's: every
// tenant's, or ?tenant=ID), newest first; ?message=ID those of one traced
// message, ?active=true those in force.
func (s *Server) listCorrections(w http.ResponseWriter, r *http.Request) {
	if !s.correctionsOn(w, r) {
		return
	}
	p := principalOf(r.Context())
	q := r.URL.Query()
	f := corrections.Filter{TenantID: p.TenantID, Message: q.Get("message")}
	if p.Operator {
		f.TenantID = 0
		if v := q.Get("tenant"); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				s.fail(w, r, badField("tenant", "%q is not a tenant id", v))
				return
			}
			f.TenantID = id
		}
	}
	switch q.Get("active") {
	case "", "false":
	case "true":
		f.Active = true
	default:
		s.fail(w, r, badField("active", "%q is not true or false", q.Get("active")))
		return
	}
	ms, err := s.opts.Corrections.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := client.Corrections{Corrections: []client.Correction{}}
	for _, m := range ms {
		out.Corrections = append(out.Corrections, toCorrection(m))
	}
	writeJSON(w, http.StatusOK, out)
}

// withdrawCorrection takes a mark out of force: the content and words it
// matched get the model's verdict again, on every node after its next
// reload. A tenant admin withdraws only the tenant's own marks (another
// tenant's is not found); an operator any. Audited.
func (s *Server) withdrawCorrection(w http.ResponseWriter, r *http.Request) {
	if !s.correctionsOn(w, r) {
		return
	}
	id, err := pathID(r, "correction", "a correction id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := principalOf(r.Context())
	scope := p.TenantID
	if p.Operator {
		scope = 0
	}
	m, err := s.opts.Corrections.Withdraw(r.Context(), scope, id, corrections.By(p.Operator, p.Name), p.Name)
	switch {
	case errors.Is(err, corrections.ErrNotFound):
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "correction " + r.PathValue("correction") + " does not exist"})
		return
	case errors.Is(err, corrections.ErrWithdrawn):
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "withdrawn", Message: err.Error()})
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toCorrection(m))
}
