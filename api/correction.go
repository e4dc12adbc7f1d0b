package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/tollgate-mail/tollgate/classify"

	"github.com/tollgate-mail/tollgate/corrections"
	"github.com/tollgate-mail/tollgate/trace"
)

// correctTrace marks a traced message "not spam" or "spam": the classifier
// gives that verdict to the same content from the message's tenant from
// then on, with the correction as the first reason. A tenant admin corrects
// only the tenant's own messages (another tenant's is not found); an
// operator any tenant's. The mark is stored with its audit entry.
func (s *Server) correctTrace(w http.ResponseWriter, r *http.Request) {
	if s.opts.Trace == nil || s.opts.Corrections == nil {
		s.fail(w, r, &apiError{Status: http.StatusNotImplemented, Code: "not_available",
			Message: "corrections need the message trace and the built-in classifier on this server"})
		return
	}
	p := principalOf(r.Context())
	scope := p.TenantID
	if p.Operator {
		scope = 0
	}
	if err := s.opts.Trace.Flush(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	m, events, err := s.opts.Trace.Message(r.Context(), id, scope)
	if errors.Is(err, trace.ErrNotFound) {
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "message " + id + " is not in the trace"})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The body is read once the message is known to be the caller's, so
	// another tenant's id is a 404 whatever is sent.
	var req struct {
		Label string `json:"label"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Label != corrections.LabelSpam && req.Label != corrections.LabelNotSpam {
		s.fail(w, r, badField("label", "%q is not %q or %q", req.Label, corrections.LabelNotSpam, corrections.LabelSpam))
		return
	}
	if m.TenantID == 0 {
		s.fail(w, r, &apiError{Status: http.StatusUnprocessableEntity, Code: "unattributed",
			Message: "message " + id + " belongs to no tenant: corrections apply to a tenant's verdicts"})
		return
	}
	fp, tokens, why := fingerprintOf(events)
	if fp == "" {
		s.fail(w, r, &apiError{Status: http.StatusUnprocessableEntity, Code: "no_fingerprint",
			Message: "message " + id + " cannot be corrected: " + why + "; later mail is matched by the content fingerprint recorded when the message was classified, and the message itself is not kept (see docs/classifier.md#corrections)"})
		return
	}
	t, err := s.opts.Directory.Tenant(r.Context(), m.TenantID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mark, err := s.opts.Corrections.Mark(r.Context(), corrections.Mark{TenantID: t.ID, Tenant: t.Name, Message: id,
		Fingerprint: fp, Tokens: tokens, Label: req.Label, MarkedBy: corrections.By(p.Operator, p.Name), Actor: p.Name})
	switch {
	case errors.Is(err, corrections.ErrInvalid):
		s.fail(w, r, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: err.Error()})
		return
	case errors.Is(err, corrections.ErrTooMany):
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "too_many", Message: err.Error()})
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toCorrection(mark))
}

// fingerprintOf is the content fingerprint and the strongest words the
// classify event recorded, or why there is no fingerprint, in words for
// the admin.
func fingerprintOf(events []trace.Entry) (fp string, tokens []string, why string) {
	classified := false
	for _, e := range events {
		if e.Stage != "classify" {
			continue
		}
		if e.Outcome == "fail" {
			why = "the classifier failed on it and it was accepted unclassified"
			continue
		}
		classified = true
		if e.Attrs["fingerprint"] != "" {
			// Names that are not words (a trace written by another
			// version) are left out rather than refusing the mark.
			for _, t := range strings.Fields(e.Attrs["tokens"]) {
				if classify.ValidTokens([]string{t}) == nil && len(tokens) < 2*classify.MaxTokens {
					tokens = append(tokens, t)
				}
			}
			return e.Attrs["fingerprint"], tokens, ""
		}
	}
	switch {
	case classified:
		return "", nil, "it has too little text to fingerprint (fewer than about ten words), or it was classified before this version fingerprinted rspamd's verdicts"
	case why != "":
		return "", nil, why
	}
	return "", nil, "it was not classified (the classifier is off, or the message was refused before its content was read)"
}
