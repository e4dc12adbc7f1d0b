package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/queue"
)

// Queue controls. Operators list and act on the whole spool under
// /api/v1/queue. A tenant admin has the same list and the actions that
// concern only its own mail — hold, release, bounce, drop — under
// /api/v1/tenants/{tenant}/queue; a message of another tenant is 404 there,
// as every tenant object is. Retry now and the move between pools stay
// with operators: both spend the shared sending addresses' reputation.

// queueActions are the actions of POST .../queue/{id}/{action}.
var queueActions = map[string]bool{"hold": true, "release": true, "retry": true, "bounce": true, "drop": true, "move": true}

// tenantActions are the actions a tenant admin may take on its messages.
var tenantActions = map[string]bool{"hold": true, "release": true, "bounce": true, "drop": true}

// queueScope is the tenant a queue request is limited to: the one in the
// path (checked as every tenant route), or 0 (all) on the operator routes.
func (s *Server) queueScope(w http.ResponseWriter, r *http.Request) (int64, bool) {
	if s.opts.Queue == nil {
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no queue on this server"})
		return 0, false
	}
	if r.PathValue("tenant") == "" {
		return 0, true
	}
	t, ok := s.tenant(w, r)
	return t.ID, ok
}

func (s *Server) listQueue(w http.ResponseWriter, r *http.Request) {
	scope, ok := s.queueScope(w, r)
	if !ok {
		return
	}
	f, err := queueFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if scope != 0 {
		f.TenantID = scope
	}
	msgs, err := s.opts.Queue.Select(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []client.QueuedMessage{}
	for _, m := range msgs {
		out = append(out, wireQueued(m))
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out})
}

// queueFilter reads ?tenant=&sender=&domain=&min_age=&pool=&held=&limit=.
func queueFilter(r *http.Request) (queue.Filter, error) {
	q := r.URL.Query()
	f := queue.Filter{Sender: q.Get("sender"), RcptDomain: q.Get("domain"), Pool: policy.Pool(q.Get("pool"))}
	if v := q.Get("tenant"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, badField("tenant", "%q is not a tenant id", v)
		}
		f.TenantID = id
	}
	if v := q.Get("min_age"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return f, badField("min_age", "%q is not a duration such as 30m or 2h", v)
		}
		f.MinAge = d
	}
	if f.Pool != "" && f.Pool != policy.PoolNormal && f.Pool != policy.PoolHighRisk {
		return f, badField("pool", "%q is not a pool (normal or high-risk)", f.Pool)
	}
	if v := q.Get("held"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, badField("held", "%q is not true or false", v)
		}
		f.Held = &b
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 10000 {
			return f, badField("limit", "%q is not a number from 1 to 10000", v)
		}
		f.Limit = n
	}
	return f, nil
}

func (s *Server) queueAction(w http.ResponseWriter, r *http.Request) {
	scope, ok := s.queueScope(w, r)
	if !ok {
		return
	}
	action, id := r.PathValue("action"), r.PathValue("id")
	if !queueActions[action] {
		s.fail(w, r, badField("action", "%q is not a queue action (hold, release, retry, bounce, drop, move)", action))
		return
	}
	if scope != 0 && !tenantActions[action] {
		s.fail(w, r, &apiError{Status: http.StatusForbidden, Code: "forbidden",
			Message: "only operators may " + action + " a queued message"})
		return
	}
	var req client.QueueAction
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if action == "move" {
		if req.Pool == "" {
			req.Pool = string(policy.PoolHighRisk)
		}
		if p := policy.Pool(req.Pool); p != policy.PoolNormal && p != policy.PoolHighRisk {
			s.fail(w, r, badField("pool", "%q is not a pool (normal or high-risk)", req.Pool))
			return
		}
	}
	before, err := s.opts.Queue.Get(r.Context(), id, scope)
	if err != nil {
		s.queueFail(w, r, err)
		return
	}
	ctx, q := r.Context(), s.opts.Queue
	var m *queue.Message
	switch action {
	case "hold":
		m, err = q.Hold(ctx, id, scope, req.Reason)
	case "release":
		m, err = q.Release(ctx, id, scope)
	case "retry":
		m, err = q.RetryNow(ctx, id, scope)
	case "bounce":
		m, err = q.Bounce(ctx, id, scope, req.Reason)
	case "drop":
		m, err = q.Drop(ctx, id, scope)
	case "move":
		m, err = q.Move(ctx, id, scope, policy.Pool(req.Pool))
	default:
		s.fail(w, r, badField("action", "%q is not a queue action (hold, release, retry, bounce, drop, move)", action))
		return
	}
	if err != nil {
		s.queueFail(w, r, err)
		return
	}
	var after any = wireQueued(m)
	if action == "drop" || action == "bounce" {
		after = map[string]any{"removed": true, "reason": req.Reason}
	}
	s.record(r, m.TenantID, "queue."+action, "queue:"+id, wireQueued(before), after)
	writeJSON(w, http.StatusOK, wireQueued(m))
}

func (s *Server) queueFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, queue.ErrNotFound):
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "message " + r.PathValue("id") + " is not in the queue"})
	case errors.Is(err, queue.ErrBusy), errors.Is(err, queue.ErrHeld):
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "conflict", Message: err.Error()})
	default:
		s.fail(w, r, err)
	}
}

func wireQueued(m *queue.Message) client.QueuedMessage {
	it := client.QueuedMessage{ID: m.ID, From: m.From, Tenant: m.Tenant, TenantID: m.TenantID, Size: m.Size,
		ReceivedAt: m.ReceivedAt, Attempts: m.Attempts, NextAttempt: m.NextAttempt, LastError: m.LastError,
		Pool: string(m.Pool), Held: m.Held, HeldReason: m.HeldReason}
	for _, rc := range m.Rcpts {
		it.Recipients = append(it.Recipients, client.QueuedRecipient{Addr: rc.Addr, Status: string(rc.Status), Code: rc.Code, Detail: rc.Detail})
	}
	return it
}
