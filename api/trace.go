package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/client"
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
	listOrFail(s, w, r, "messages", msgs, err, toTraceSummary)
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
	out := client.TraceMessage{Message: toTraceSummary(m), Events: make([]client.TraceEvent, len(events))}
	for i, e := range events {
		out.Events[i] = toTraceEvent(e)
	}
	writeJSON(w, http.StatusOK, out)
}

// toTraceSummary is a message's search row in its wire form.
func toTraceSummary(m trace.Summary) client.TraceSummary {
	return client.TraceSummary{ID: m.ID, QueueID: m.QueueID, Session: m.Session, TenantID: m.TenantID, Sender: m.Sender,
		Recipients: m.Recipients, MessageID: m.MessageID, Subject: m.Subject, Verdict: m.Verdict, Pool: m.Pool,
		Status: m.Status, Tenant: m.Tenant, Connector: m.Connector, ClientIP: m.ClientIP, Code: m.Code, Rule: m.Rule,
		First: m.First, Last: m.Last}
}

// toTraceEvent is one trace event in its wire form.
func toTraceEvent(e trace.Entry) client.TraceEvent {
	return client.TraceEvent{At: e.At, Session: e.Session, QueueID: e.QueueID, TenantID: e.TenantID, Stage: e.Stage,
		Outcome: e.Outcome, Rule: e.Rule, Detail: e.Detail, Sender: e.Sender, Rcpt: e.Rcpt, MessageID: e.MessageID, Attrs: e.Attrs}
}
