package api

import (
	"errors"
	"net"
	"net/http"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/events"
)

// A tenant's delivery-event webhook: its admins (and operators) read, set,
// clear it and rotate its signing secret. Scoped like every tenant route:
// another tenant's id answers 404.

func (s *Server) getEventWebhook(w http.ResponseWriter, r *http.Request) {
	t, ok := s.eventsTenant(w, r)
	if !ok {
		return
	}
	wh, err := s.opts.Events.Webhook(r.Context(), t.ID, t.Name)
	if err != nil {
		s.eventsFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventWebhookWire(wh))
}

func (s *Server) setEventWebhook(w http.ResponseWriter, r *http.Request) {
	t, ok := s.eventsTenant(w, r)
	if !ok {
		return
	}
	var req client.EventWebhookRequest
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	wh, err := s.opts.Events.SetWebhook(r.Context(), t.ID, t.Name, req.URL, principalOf(r.Context()).Name, remoteIP(r))
	if err != nil {
		s.eventsFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventWebhookWire(wh))
}

func (s *Server) clearEventWebhook(w http.ResponseWriter, r *http.Request) {
	t, ok := s.eventsTenant(w, r)
	if !ok {
		return
	}
	if err := s.opts.Events.ClearWebhook(r.Context(), t.ID, t.Name, principalOf(r.Context()).Name, remoteIP(r)); err != nil {
		s.eventsFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) rotateEventSecret(w http.ResponseWriter, r *http.Request) {
	t, ok := s.eventsTenant(w, r)
	if !ok {
		return
	}
	wh, err := s.opts.Events.RotateSecret(r.Context(), t.ID, t.Name, principalOf(r.Context()).Name, remoteIP(r))
	if err != nil {
		s.eventsFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventWebhookWire(wh))
}

func (s *Server) eventsTenant(w http.ResponseWriter, r *http.Request) (directory.Tenant, bool) {
	if s.opts.Events == nil {
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no delivery events on this server"})
		return directory.Tenant{}, false
	}
	return s.tenant(w, r)
}

func (s *Server) eventsFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, events.ErrInvalid):
		s.fail(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: err.Error()})
	case errors.Is(err, events.ErrNotFound):
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()})
	case errors.Is(err, events.ErrNoEvent):
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()})
	case errors.Is(err, events.ErrNoKey), errors.Is(err, events.ErrNotAttached):
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "conflict", Message: err.Error()})
	case errors.Is(err, events.ErrPinned):
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "conflict", Message: err.Error()})
	default:
		s.fail(w, r, err)
	}
}

func eventWebhookWire(wh events.Webhook) client.EventWebhook {
	out := client.EventWebhook{URL: wh.URL, Secret: wh.Secret, Source: "api", UpdatedBy: wh.UpdatedBy}
	if wh.Pinned {
		out.Source, out.Secret, out.UpdatedBy = "config", "", ""
	}
	if !wh.UpdatedAt.IsZero() {
		at := wh.UpdatedAt
		out.UpdatedAt = &at
	}
	return out
}

// remoteIP is the request's source address for the audit log, "" if none.
func remoteIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return ""
}
