package api

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/tollgate-mail/tollgate/client"

	"github.com/tollgate-mail/tollgate/suppress"
)

// The suppression lists: a tenant's (admins) and the global one
// (operators), listed, searched, added to by hand and removed from.

func (s *Server) listSuppressions(w http.ResponseWriter, r *http.Request) {
	id, ok := s.suppressionList(w, r)
	if !ok {
		return
	}
	keys := slices.Sorted(maps.Keys(suppress.SortKeys))
	p, err := listParamsOf(r, keys)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// q, as on the other lists; search is its older name, still taken.
	if p.q == "" {
		p.q = strings.ToLower(strings.TrimSpace(r.URL.Query().Get("search")))
		if len(p.q) > maxListQuery {
			s.fail(w, r, badField("search", "is %d bytes; at most %d", len(p.q), maxListQuery))
			return
		}
	}
	if p.limit == 0 {
		p.limit = defaultSuppressionPage // the list can hold every address that ever bounced
	}
	l, total, err := s.opts.Suppress.Page(r.Context(), id, suppress.Query{Q: p.q, Sort: p.sort, Desc: p.desc, Limit: p.limit, Offset: p.offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := client.SuppressionList{Suppressions: make([]client.Suppression, 0, len(l)), Total: total}
	for _, e := range l {
		out.Suppressions = append(out.Suppressions, toSuppression(e))
	}
	writeJSON(w, http.StatusOK, out)
}

// defaultSuppressionPage is a suppression list's page without ?limit=.
const defaultSuppressionPage = 100

func toSuppression(e suppress.Entry) client.Suppression {
	return client.Suppression{ID: e.ID, TenantID: e.TenantID, Address: e.Address, Reason: e.Reason, Detail: e.Detail,
		CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt}
}

func (s *Server) addSuppression(w http.ResponseWriter, r *http.Request) {
	id, ok := s.suppressionList(w, r)
	if !ok {
		return
	}
	var req struct {
		Address string `json:"address"`
		Detail  string `json:"detail"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	e, added, err := s.opts.Suppress.Add(r.Context(), id, req.Address, suppress.Manual, req.Detail, principalOf(r.Context()).Name)
	if err != nil {
		s.suppressFail(w, r, err)
		return
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	writeJSON(w, status, toSuppression(e))
}

func (s *Server) removeSuppression(w http.ResponseWriter, r *http.Request) {
	id, ok := s.suppressionList(w, r)
	if !ok {
		return
	}
	if err := s.opts.Suppress.Remove(r.Context(), id, r.PathValue("address"), principalOf(r.Context()).Name); err != nil {
		s.suppressFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// suppressionList is the list a request is about: the tenant's in the
// path (scoped as every tenant route), or the global one on
// /api/v1/suppressions (operators only, by the route table).
func (s *Server) suppressionList(w http.ResponseWriter, r *http.Request) (int64, bool) {
	if s.opts.Suppress == nil {
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no suppression list on this server"})
		return 0, false
	}
	if r.PathValue("tenant") == "" {
		return suppress.Global, true
	}
	t, ok := s.tenant(w, r)
	return t.ID, ok
}

func (s *Server) suppressFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, suppress.ErrInvalid):
		s.fail(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: err.Error()})
	case errors.Is(err, suppress.ErrNotFound):
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()})
	default:
		s.fail(w, r, err)
	}
}
