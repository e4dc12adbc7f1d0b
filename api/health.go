package api

import (
	"fmt"
	"net/http"
)

// healthz answers "ok", or 503 with the reason while the node cannot take
// mail (the spool's disk is below its floor), so a load balancer sends
// clients to another node before they get 452 4.3.1.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.opts.SpoolLow != nil {
		if reason, low := s.opts.SpoolLow(); low {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "unavailable: "+reason)
			return
		}
	}
	fmt.Fprintln(w, "ok")
}
