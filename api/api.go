// Package api serves the admin HTTP port: the JSON API under /api/v1, the
// help pages for every refusal code under /ndr/, Prometheus metrics at
// /metrics and a health check at /healthz.
//
// Requests carry a bearer token: the bootstrap operator token kept in the
// data directory (readable by the operator only), or an API token from the
// directory. Admin sign-in with MFA comes with the web console.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/reputation"
	"github.com/tollgate-mail/tollgate/trace"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/corrections"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/dkim"
	"github.com/tollgate-mail/tollgate/events"
	"github.com/tollgate-mail/tollgate/feedback"
	"github.com/tollgate-mail/tollgate/nodes"
	"github.com/tollgate-mail/tollgate/queue"
	"github.com/tollgate-mail/tollgate/suppress"
)

// Options configures the admin HTTP server.
type Options struct {
	Token     string                  // the bootstrap operator token from the data directory
	Tokens    Authenticator           // other bearer tokens (the directory's API tokens), or nil
	Directory *directory.Directory    // tenants, domains, connectors, users
	Verifier  directory.DomainChecker // DNS lookups for domain verification
	Audit     *audit.Log              // every change is appended here
	Queue     *queue.Queue            // for /api/v1/queue
	Sink      *devsink.Sink           // dev mode's capture sink, or nil
	Blocks    *blocks.Store           // tenant blocks, restrictions, unblock requests; nil without protection
	Policy    policy.Settings         // the [policy] defaults
	Trace     *trace.Store            // the searchable message trace, or nil
	// Corrections keeps admins' "not spam" / "spam" marks on traced
	// messages; nil when the built-in classifier is off.
	Corrections *corrections.Store
	// Notify raises an alert (connector created); nil for none.
	Notify func(kind string, tenantID int64, tenant, subject, text string)
	// Reputation is the source-IP reputation (5.7.708), or nil.
	Reputation *reputation.Tracker
	// Feedback takes ARF reports at POST /api/v1/feedback/arf, or nil.
	Feedback *feedback.Receiver
	// DKIM keeps the verified domains' DKIM keys, or nil when signing is
	// off; DKIMResolver looks their records up (the verification resolver).
	DKIM         *dkim.Store
	DKIMResolver dkim.TXTLooker
	// Suppress keeps the suppression lists, or nil.
	Suppress *suppress.Store
	// Events keeps the tenants' delivery-event webhooks, or nil.
	Events *events.Store
	// Nodes holds every node's queue-depth reports, for the dashboard's
	// fleet-wide figure; nil shows this node's spool only.
	Nodes *nodes.Store
	// SpoolLow reports that the spool is short of disk space, and why:
	// /healthz then answers 503 with the reason. Nil is always healthy.
	SpoolLow func() (reason string, low bool)
	// Ready are the conditions /healthz/ready checks besides SpoolLow
	// (the store, the counters, the spool, the listeners); none is ready.
	Ready  []Probe
	Logger *slog.Logger
}

// Server is the admin HTTP server.
type Server struct {
	opts Options
	mux  *http.ServeMux
	http *http.Server
	// signInAudit bounds the audit rows of failed sign-ins per source.
	signInAudit *signInAudit
	// dryRun lets one policy dry run work at a time on this node.
	dryRun sync.Mutex
}

// New builds the handler tree.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, mux: http.NewServeMux(),
		signInAudit: &signInAudit{per: signInAuditPerSource, window: signInAuditWindow}}
	for _, rt := range routes {
		h := rt.handler(s)
		switch rt.access {
		case operator:
			h = s.auth(s.operatorOnly(h))
		case admin:
			h = s.auth(h)
		}
		s.mux.HandleFunc(rt.method+" "+rt.path, h)
	}
	s.mux.HandleFunc("/api/", s.auth(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	}))
	return s
}

// Handler returns the root handler (for tests with httptest).
func (s *Server) Handler() http.Handler { return s.mux }

// Serve serves on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) {
	s.http = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.opts.Logger.Error("admin HTTP server stopped", "err", err)
		}
	}()
}

// Shutdown stops the server.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.http == nil {
		return nil
	}
	return s.http.Shutdown(ctx)
}

func (s *Server) listCaptured(w http.ResponseWriter, r *http.Request) {
	if s.opts.Sink == nil {
		writeError(w, http.StatusNotFound, "not_dev_mode", "the capture sink runs only with serve --dev and no smarthost")
		return
	}
	out := []client.CapturedMessage{}
	for _, m := range s.opts.Sink.Messages() {
		out = append(out, client.CapturedMessage{ID: m.ID, From: m.From, To: m.To, Subject: m.Subject, MessageID: m.MessageID,
			Size: m.Size, ReceivedAt: m.ReceivedAt, TLS: m.TLS, Client: m.Client, Path: m.Path})
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out})
}

func (s *Server) getCaptured(w http.ResponseWriter, r *http.Request) {
	if s.opts.Sink == nil {
		writeError(w, http.StatusNotFound, "not_dev_mode", "the capture sink runs only with serve --dev and no smarthost")
		return
	}
	id := r.PathValue("id")
	for _, m := range s.opts.Sink.Messages() {
		if m.ID == id && m.Path != "" {
			b, err := os.ReadFile(m.Path)
			if err != nil {
				writeError(w, http.StatusNotFound, "not_found", "message file is gone: "+id)
				return
			}
			w.Header().Set("Content-Type", "message/rfc822")
			w.Write(b)
			return
		}
	}
	writeError(w, http.StatusNotFound, "not_found", "no captured message "+id)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
