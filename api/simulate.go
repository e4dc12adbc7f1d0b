package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/dryrun"
)

// simulateRequest is POST /api/v1/simulate/policy: the settings to try and
// the span of the trace to try them on (since/until, or the last D).
type simulateRequest struct {
	Settings json.RawMessage `json:"settings"`
	Since    string          `json:"since"`
	Until    string          `json:"until"`
	Last     string          `json:"last"`
	Tenant   string          `json:"tenant"` // a name or an id; "" for every tenant
}

// Dry run bounds: the span reaches at most the trace's longest retention,
// and one run works for at most dryRunTimeout.
const (
	maxDryRunSpan = 31 * 24 * time.Hour
	dryRunTimeout = 5 * time.Minute
)

// span reads the request's time range; the default is the last day.
func (q simulateRequest) span(now time.Time) (since, until time.Time, err error) {
	until = now
	if q.Until != "" {
		if until, err = time.Parse(time.RFC3339, q.Until); err != nil {
			return since, until, badField("until", "%q is not an RFC 3339 time (2026-12-01T00:00:00Z)", q.Until)
		}
	}
	switch {
	case q.Since != "" && q.Last != "":
		return since, until, badField("last", "give since or last, not both")
	case q.Since != "":
		if since, err = time.Parse(time.RFC3339, q.Since); err != nil {
			return since, until, badField("since", "%q is not an RFC 3339 time (2026-12-01T00:00:00Z)", q.Since)
		}
	default:
		last := 24 * time.Hour
		if q.Last != "" {
			if last, err = time.ParseDuration(q.Last); err != nil || last <= 0 {
				return since, until, badField("last", "%q is not a positive duration (168h)", q.Last)
			}
		}
		since = until.Add(-last)
	}
	if !since.Before(until) {
		return since, until, badField("since", "must be before until")
	}
	if until.Sub(since) > maxDryRunSpan {
		return since, until, badField("since", "the span is %s; at most %s", until.Sub(since), maxDryRunSpan)
	}
	return since, until, nil
}

// simulatePolicy replays the trace's span through the protection checks
// with the settings changed, and answers what would have been blocked or
// restricted, when and on which evidence, beside what happened (see
// package dryrun). Operators only; one run at a time per node.
func (s *Server) simulatePolicy(w http.ResponseWriter, r *http.Request) {
	if !s.protection(w, r) {
		return
	}
	if s.opts.Trace == nil {
		writeError(w, http.StatusNotImplemented, "not_available", "the message trace is not kept on this node: nothing to replay")
		return
	}
	var q simulateRequest
	if err := decode(w, r, &q); err != nil {
		s.fail(w, r, err)
		return
	}
	since, until, err := q.span(time.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var tenantID int64
	if q.Tenant != "" {
		t, err := s.opts.Directory.TenantByName(r.Context(), q.Tenant)
		if id, perr := strconv.ParseInt(q.Tenant, 10, 64); err != nil && perr == nil {
			t, err = s.opts.Directory.Tenant(r.Context(), id)
		}
		if err != nil {
			s.fail(w, r, fmt.Errorf("tenant %q: %w", q.Tenant, err))
			return
		}
		tenantID = t.ID
	}
	if !s.dryRun.TryLock() {
		writeError(w, http.StatusTooManyRequests, "busy", "another dry run is working on this node; try again when it is done")
		return
	}
	defer s.dryRun.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), dryRunTimeout)
	defer cancel()
	rep, err := dryrun.Run(ctx, dryrun.Options{Defaults: s.opts.Policy, Overrides: s.opts.Blocks.Overrides, Tenants: s.opts.Directory,
		Trace: s.opts.Trace, Logger: s.opts.Logger},
		dryrun.Request{Since: since, Until: until, TenantID: tenantID, Change: q.Settings})
	switch {
	case errors.Is(err, dryrun.ErrBadRequest):
		s.fail(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid", Field: "settings", Message: err.Error()})
		return
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "timeout", fmt.Sprintf("the dry run took longer than %s; try a shorter span or one tenant", dryRunTimeout))
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
