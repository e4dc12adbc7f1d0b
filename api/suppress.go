package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/tollgate-mail/tollgate/suppress"
)

// The suppression lists: a tenant's (admins) and the global one
// (operators), listed, searched, added to by hand and removed from.

func (s *Server) listSuppressions(w http.ResponseWriter, r *http.Request) {
	id, ok := s.suppressionList(w, r)
	if !ok {
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	// q, as on the other lists; search is its older name, still taken.
	text := r.URL.Query().Get("q")
	if text == "" {
		text = r.URL.Query().Get("search")
	}
	if len(text) > maxListQuery {
		s.fail(w, r, badField("q", "is %d bytes; at most %d", len(text), maxListQuery))
		return
	}
	l, err := s.opts.Suppress.List(r.Context(), id, text, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"suppressions": l})
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
	writeJSON(w, status, e)
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
