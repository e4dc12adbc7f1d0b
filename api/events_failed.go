package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/tollgate-mail/tollgate/client"
)

// A tenant's failed delivery events (every send and retry failed): its
// admins list them and queue them again once the receiver is fixed.

func (s *Server) listFailedEvents(w http.ResponseWriter, r *http.Request) {
	t, ok := s.eventsTenant(w, r)
	if !ok {
		return
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.fail(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: fmt.Sprintf("limit %q: want a number from 1 to 1000", v)})
			return
		}
		limit = n
	}
	list, total, err := s.opts.Events.Failed(r.Context(), t.ID, limit)
	if err != nil {
		s.eventsFail(w, r, err)
		return
	}
	out := client.FailedEvents{Events: []client.FailedEvent{}, Total: total}
	for _, f := range list {
		out.Events = append(out.Events, client.FailedEvent{ID: f.ID, Kind: string(f.Kind), QueueID: f.QueueID, Recipient: f.Recipient,
			Time: f.Time, FailedAt: f.FailedAt, Error: f.Error, Sends: f.Sends})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) redeliverEvents(w http.ResponseWriter, r *http.Request) {
	t, ok := s.eventsTenant(w, r)
	if !ok {
		return
	}
	var req client.RedeliverRequest
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if len(req.IDs) > 1000 {
		s.fail(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: fmt.Sprintf("ids: %d given, at most 1000 at once", len(req.IDs))})
		return
	}
	n, err := s.opts.Events.Redeliver(r.Context(), t.ID, t.Name, req.IDs, principalOf(r.Context()).Name, remoteIP(r))
	if err != nil {
		s.eventsFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, client.Redelivery{Redelivered: n})
}
