package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
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

// Probe is one condition the node needs to take mail (the store answers,
// the spool is writable, a listener is up): Check returns nil when it holds.
type Probe struct {
	Name  string
	Check func(ctx context.Context) error
}

// probeTimeout bounds all of a readiness check: a probe that hangs (a
// PostgreSQL behind a dead route) makes the node unready, not the
// orchestrator's request time out.
const probeTimeout = 3 * time.Second

// healthzLive answers 200 while the process serves HTTP at all: the
// liveness probe restarts a node only when it is wedged, never because a
// dependency is down (that is readiness).
func (s *Server) healthzLive(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintln(w, "live")
}

// healthzReady answers 200 when every probe holds and 503 otherwise, one
// line per probe ("store ok", "spool: …"), so a load balancer stops sending
// clients to a node that would defer them and an operator sees why.
func (s *Server) healthzReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), probeTimeout)
	defer cancel()
	probes := s.opts.Ready
	if s.opts.SpoolLow != nil {
		probes = append([]Probe{{Name: "spool_space", Check: func(context.Context) error {
			if reason, low := s.opts.SpoolLow(); low {
				return errors.New(reason)
			}
			return nil
		}}}, probes...)
	}
	errs := make([]error, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := make(chan error, 1)
			go func() { done <- p.Check(ctx) }()
			select {
			case errs[i] = <-done:
			case <-ctx.Done():
				errs[i] = fmt.Errorf("no answer within %s", probeTimeout)
			}
		}()
	}
	wg.Wait()
	var b strings.Builder
	ready := true
	for i, p := range probes {
		if errs[i] != nil {
			ready = false
			fmt.Fprintf(&b, "%s: %s\n", p.Name, oneLine(errs[i].Error()))
		} else {
			fmt.Fprintf(&b, "%s ok\n", p.Name)
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "not ready\n"+b.String())
		return
	}
	io.WriteString(w, "ready\n"+b.String())
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
