package api

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/metrics"
)

// Failed sign-ins come from anyone, and each was one permanent audit row:
// 600 bad sign-ins added 608. Per source address, the first
// signInAuditPerSource failures of a signInAuditWindow get their own row;
// the rest are counted, and one "auth.signin.fail.summary" row per source
// and window says how many there were (written when the source's next
// window starts, or by the next failed sign-in of anyone after the window
// ends).
const (
	signInAuditPerSource = 10
	signInAuditWindow    = 15 * time.Minute
	maxAuditSources      = 10000
)

type signInAudit struct {
	mu      sync.Mutex
	per     int
	window  time.Duration
	sources map[string]*sourceFails
	swept   time.Time
}

type sourceFails struct {
	start      time.Time
	used       int
	suppressed int
}

type auditSummary struct {
	source string
	since  time.Time
	count  int
}

// allow says whether this failure from source gets its own row, and
// returns the summaries of windows that ended.
func (b *signInAudit) allow(source string, now time.Time) (bool, []auditSummary) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sources == nil {
		b.sources = map[string]*sourceFails{}
	}
	var out []auditSummary
	if now.Sub(b.swept) >= b.window {
		b.swept = now
		for k, f := range b.sources {
			if now.Sub(f.start) >= b.window {
				if f.suppressed > 0 {
					out = append(out, auditSummary{k, f.start, f.suppressed})
				}
				delete(b.sources, k)
			}
		}
	}
	f := b.sources[source]
	if f == nil {
		if len(b.sources) >= maxAuditSources {
			source = "other"
			f = b.sources[source]
		}
		if f == nil {
			f = &sourceFails{start: now}
			b.sources[source] = f
		}
	}
	if now.Sub(f.start) >= b.window {
		if f.suppressed > 0 {
			out = append(out, auditSummary{source, f.start, f.suppressed})
		}
		*f = sourceFails{start: now}
	}
	if f.used < b.per {
		f.used++
		return true, out
	}
	f.suppressed++
	metrics.AuditSuppressed.Inc()
	return false, out
}

// recordSignInFailure writes a failed first sign-in step to the audit log
// within the source's budget.
func (s *Server) recordSignInFailure(r *http.Request, email string, why error) {
	src := "unknown"
	if a := sourceAddr(r); a.IsValid() {
		src = sourceLabel(a)
	}
	ok, done := s.signInAudit.allow(src, time.Now())
	for _, sum := range done {
		s.record(r, 0, "auth.signin.fail.summary", "source:"+sum.source, nil, map[string]string{
			"reason": fmt.Sprintf("%d more failed sign-ins from %s since %s, beyond %d a source per %s",
				sum.count, sum.source, sum.since.UTC().Format(time.RFC3339), s.signInAudit.per, s.signInAudit.window),
			"count": fmt.Sprint(sum.count), "since": sum.since.UTC().Format(time.RFC3339)})
	}
	if ok {
		s.recordAuth(r, 0, "auth.signin.fail", email, why)
	}
}

// sourceAddr is the client's address (the admin port is not behind a
// proxy Tollgate knows of), or the zero Addr.
func sourceAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// sourceLabel is an IPv4 address or an IPv6 /64: one client.
func sourceLabel(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
