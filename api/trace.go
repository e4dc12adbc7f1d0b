package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/trace"
)

// searchTrace answers "what happened to this message?": by sender,
// recipient, message id, queue id and time. A tenant admin searches only
// the tenant's own mail; an operator may pass tenant= or search everything.
func (s *Server) searchTrace(w http.ResponseWriter, r *http.Request) {
	if s.opts.Trace == nil {
		s.fail(w, r, &apiError{Status: http.StatusNotImplemented, Code: "not_available", Message: "the message trace is not stored on this server"})
		return
	}
	v := r.URL.Query()
	q := trace.Query{Sender: v.Get("sender"), Recipient: v.Get("recipient"), MessageID: v.Get("message_id"), QueueID: v.Get("queue_id")}
	for _, f := range []struct {
		key string
		dst *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if raw := v.Get(f.key); raw != "" {
			t, err := time.Parse(time.RFC3339, raw)
			if err != nil {
				s.fail(w, r, badField(f.key, "%q is not an RFC 3339 time such as 2026-11-23T08:00:00Z", raw))
				return
			}
			*f.dst = t
		}
	}
	if raw := v.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 500 {
			s.fail(w, r, badField("limit", "%q is not a number in 1..500", raw))
			return
		}
		q.Limit = n
	}
	p := principalOf(r.Context())
	if !p.Operator {
		q.TenantID = p.TenantID
	} else if raw := v.Get("tenant"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			s.fail(w, r, badField("tenant", "%q is not a tenant id", raw))
			return
		}
		q.TenantID = id
	}
	if err := s.opts.Trace.Flush(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	msgs, err := s.opts.Trace.Search(r.Context(), q)
	listOrFail(s, w, r, "messages", msgs, err, func(m trace.Summary) trace.Summary { return m })
}

// getTrace is one message's life, event by event, with each check's
// decision and figures, the verdict, the pool and every delivery attempt.
func (s *Server) getTrace(w http.ResponseWriter, r *http.Request) {
	if s.opts.Trace == nil {
		s.fail(w, r, &apiError{Status: http.StatusNotImplemented, Code: "not_available", Message: "the message trace is not stored on this server"})
		return
	}
	p := principalOf(r.Context())
	tenant := p.TenantID
	if p.Operator {
		tenant = 0
	}
	if err := s.opts.Trace.Flush(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	m, events, err := s.opts.Trace.Message(r.Context(), r.PathValue("id"), tenant)
	if errors.Is(err, trace.ErrNotFound) {
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "message " + r.PathValue("id") + " is not in the trace"})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": m, "events": events})
}
