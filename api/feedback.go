package api

import (
	"errors"
	"net/http"

	"github.com/tollgate-mail/tollgate/feedback"
)

// postARF takes one ARF report (the raw message: a multipart/report) from
// an operator — a feedback loop that delivers by HTTP, or a report
// forwarded by hand — and counts it as the feedback address would.
func (s *Server) postARF(w http.ResponseWriter, r *http.Request) {
	rv := s.opts.Feedback
	if rv == nil {
		writeError(w, http.StatusNotFound, "not_found", "delivery feedback is not set up on this node")
		return
	}
	limit := rv.Limit()
	if limit <= 0 {
		limit = 1 << 20
	}
	body := http.MaxBytesReader(w, r.Body, limit+1)
	out, err := rv.Receive(r.Context(), body, "api", "operator")
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, feedback.ErrTooLarge), errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "the report is larger than feedback.max_report_bytes")
		return
	case errors.Is(err, feedback.ErrNotARF):
		writeError(w, http.StatusBadRequest, "invalid", "body: "+err.Error()+"; send the report as the raw message (Content-Type: multipart/report; report-type=feedback-report)")
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
