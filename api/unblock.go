package api

import (
	"fmt"
	"net/http"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/directory"
)

// withReview is an unblock request with what the operator reviews beside
// it: the block and its evidence, and the checklist Tollgate computes.
func (s *Server) withReview(r *http.Request, u blocks.UnblockRequest) client.UnblockRequest {
	out := toUnblockRequest(u)
	if t, err := s.opts.Directory.Tenant(r.Context(), u.TenantID); err == nil {
		out.Tenant = t.Name
	}
	bs, err := s.opts.Blocks.Blocks(r.Context(), u.TenantID)
	if err != nil {
		return out
	}
	var block *blocks.Block
	for i := range bs {
		if bs[i].ID == u.BlockID {
			block = &bs[i]
		}
	}
	if block == nil {
		return out
	}
	bj := toBlock(*block)
	out.Block = &bj
	conns, err1 := s.opts.Directory.Connectors(r.Context(), u.TenantID)
	admins, err2 := s.opts.Directory.Admins(r.Context(), u.TenantID)
	tokens, err3 := s.opts.Directory.Tokens(r.Context(), directory.TokenScope{TenantID: u.TenantID})
	if err1 == nil && err2 == nil && err3 == nil {
		out.Checklist = toCheckItems(blocks.Checklist(*block, conns, admins, tokens))
	}
	return out
}

func (s *Server) createUnblockRequest(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok || !s.protection(w, r) {
		return
	}
	var req struct {
		Cause string `json:"cause"`
		Fix   string `json:"fix"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.opts.Blocks.RequestUnblock(r.Context(), t.ID, req.Cause, req.Fix, principalOf(r.Context()).Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.withReview(r, u))
}

func (s *Server) listTenantUnblockRequests(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok || !s.protection(w, r) {
		return
	}
	us, err := s.opts.Blocks.UnblockRequests(r.Context(), t.ID, r.URL.Query().Get("status"))
	pageList(s, w, r, "unblock_requests", us, err, func(u blocks.UnblockRequest) client.UnblockRequest { return s.withReview(r, u) }, unblockRequestList)
}

// listUnblockRequests is the operator's queue: every tenant's requests
// (pending by default) with evidence and checklist.
func (s *Server) listUnblockRequests(w http.ResponseWriter, r *http.Request) {
	if !s.protection(w, r) {
		return
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "":
		status = blocks.StatusPending
	case "all":
		status = ""
	case blocks.StatusPending, blocks.StatusApproved, blocks.StatusDenied:
	default:
		s.fail(w, r, badField("status", "%q is not pending, approved, denied or all", status))
		return
	}
	us, err := s.opts.Blocks.UnblockRequests(r.Context(), 0, status)
	pageList(s, w, r, "unblock_requests", us, err, func(u blocks.UnblockRequest) client.UnblockRequest { return s.withReview(r, u) }, unblockRequestList)
}

// unblockRequest finds a request the caller may see.
func (s *Server) unblockRequest(w http.ResponseWriter, r *http.Request) (blocks.UnblockRequest, bool) {
	if !s.protection(w, r) {
		return blocks.UnblockRequest{}, false
	}
	id, err := pathID(r, "request", "a request id")
	if err != nil {
		s.fail(w, r, err)
		return blocks.UnblockRequest{}, false
	}
	u, err := s.opts.Blocks.UnblockRequest(r.Context(), id)
	if err == nil && !principalOf(r.Context()).CanSee(u.TenantID) {
		err = fmt.Errorf("unblock request %d: %w", id, directory.ErrNotFound)
	}
	if err != nil {
		s.fail(w, r, err)
		return blocks.UnblockRequest{}, false
	}
	return u, true
}

func (s *Server) getUnblockRequest(w http.ResponseWriter, r *http.Request) {
	if u, ok := s.unblockRequest(w, r); ok {
		writeJSON(w, http.StatusOK, s.withReview(r, u))
	}
}

func (s *Server) approveUnblockRequest(w http.ResponseWriter, r *http.Request) { s.decide(w, r, true) }
func (s *Server) denyUnblockRequest(w http.ResponseWriter, r *http.Request)    { s.decide(w, r, false) }

// decide approves (releasing the tenant on probation) or denies a request.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, approve bool) {
	u, ok := s.unblockRequest(w, r)
	if !ok {
		return
	}
	var req struct {
		Note string `json:"note"`
	}
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	set := s.settingsFor(u.TenantID)
	out, err := s.opts.Blocks.Decide(r.Context(), u.ID, approve, req.Note, principalOf(r.Context()).Name, set.ProbationQuota, set.ProbationDays)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.withReview(r, out))
}
