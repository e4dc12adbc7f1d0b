package classify

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/classify/rspamdlocal"
)

// startRspamd starts a private rspamd (rspamdlocal: config in t.TempDir,
// its own port, DNS refused on loopback) for the test, and stops it at
// the end.
func startRspamd(t *testing.T) *Rspamd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := rspamdlocal.Start(ctx, t.TempDir(), rspamdlocal.Options{})
	if errors.Is(err, rspamdlocal.ErrNotInstalled) {
		t.Skip("rspamd binary not found: skipping the tests against a real rspamd (apt-get install rspamd; .ci/run installs it)")
	}
	if err != nil {
		t.Fatalf("starting rspamd: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return &Rspamd{URL: s.URL, Timeout: 20 * time.Second}
}

// TestClassifyRspamdReal runs the adapter and the combinators against a
// real rspamd (one start, several checks: its start is the slow part).
func TestClassifyRspamdReal(t *testing.T) {
	r := startRspamd(t)
	builtin := defaultEngine(t)
	t.Run("verdicts", func(t *testing.T) {
		res := classifyOK(t, r, Input{Raw: spamMsg, Recipients: 1})
		if res.Engine != "rspamd" || res.Verdict == "" || len(res.Reasons) == 0 {
			t.Fatalf("rspamd result %+v", res)
		}
		ham := classifyOK(t, r, Input{Raw: hamMsg, Recipients: 1})
		// Sent as an authenticated sender's mail (User), so rspamd's
		// inbound hostname filter does not add its points to everything.
		for _, r := range []Result{res, ham} {
			if hasReason(r, "HFILTER_HOSTNAME_UNKNOWN") {
				t.Errorf("rspamd judged relayed mail as inbound from an unknown host: %v", r.Reasons)
			}
		}
		if ham.Score >= res.Score {
			t.Errorf("rspamd scores the ham sample %v, not below the spam sample's %v", ham.Score, res.Score)
		}
		// Symbols only a real MIME and URL parse finds.
		if !hasReason(res, "MIME_HTML_ONLY") || !hasReason(res, "HTTP_TO_IP") {
			t.Errorf("rspamd symbols lack MIME_HTML_ONLY or HTTP_TO_IP: %v", res.Reasons)
		}
		nl := classifyOK(t, r, Input{Raw: newsletter, Recipients: 600})
		if nl.Bulk < 7 {
			t.Errorf("bulk level on the rspamd path %d: %v", nl.Bulk, nl.Reasons)
		}
	})
	t.Run("fallback and both", func(t *testing.T) {
		f := Fallback{Primary: r, Secondary: builtin}
		if res := classifyOK(t, f, Input{Raw: hamMsg}); res.Engine != "rspamd" {
			t.Errorf("rspamd up, yet engine %q", res.Engine)
		}
		both := classifyOK(t, Both{A: builtin, B: r}, Input{Raw: spamMsg})
		if both.Engine != "builtin+rspamd" || both.Verdict != Spam {
			t.Errorf("both: %+v", both)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				_, err := r.Classify(context.Background(), Input{Raw: spamMsg})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})
}

// TestClassifyRspamdFailures: every way rspamd can fail gives an error, and
// the fallback answers with the built-in engine and says so.
func TestClassifyRspamdFailures(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	handlers := map[string]http.HandlerFunc{
		"status 500": func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) },
		"not JSON":   func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "<html>") },
		"skipped":    func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"is_skipped":true}`) },
		"timeout": func(w http.ResponseWriter, r *http.Request) {
			// Read the request first: only then does the server watch the
			// connection and cancel r.Context() when the client gives up.
			io.Copy(io.Discard, r.Body)
			select {
			case <-block:
			case <-r.Context().Done():
			}
		},
	}
	builtin := defaultEngine(t)
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			r := &Rspamd{URL: srv.URL, Timeout: 200 * time.Millisecond}
			if _, err := r.Classify(context.Background(), Input{Raw: hamMsg}); err == nil || !strings.Contains(err.Error(), srv.URL) {
				t.Errorf("error %v does not name the server", err)
			}
			var logs strings.Builder
			res := classifyOK(t, Fallback{Primary: r, Secondary: builtin, Logger: newTestLogger(&logs)}, Input{Raw: spamMsg})
			if res.Engine != "builtin" || res.Verdict != Spam || !strings.Contains(logs.String(), "fallback") {
				t.Errorf("fallback: %+v, log %q", res, logs.String())
			}
			found := false
			for _, x := range res.Reasons {
				found = found || strings.HasPrefix(x.Name, "ENGINE_FALLBACK: rspamd")
			}
			if !found {
				t.Errorf("no ENGINE_FALLBACK reason: %v", res.Reasons)
			}
		})
	}
	// Nothing listening at all.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	if _, err := (&Rspamd{URL: url}).Classify(context.Background(), Input{Raw: hamMsg}); err == nil {
		t.Error("a closed port gave no error")
	}
}

// TestClassifyRspamdProtocol checks what is sent and how the answer maps.
func TestClassifyRspamdProtocol(t *testing.T) {
	var gotPath, gotBody string
	var gotRcpt int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotPath, gotBody, gotRcpt = r.Method+" "+r.URL.Path, string(b), len(r.Header.Values("Rcpt"))
		io.WriteString(w, `{"is_skipped":false,"score":7.5,"required_score":15,"action":"add header",
			"symbols":{"A":{"name":"A","score":5},"B":{"name":"B","score":-0.5},"Z":{"name":"Z","score":0}}}`)
	}))
	defer srv.Close()
	res := classifyOK(t, &Rspamd{URL: srv.URL + "/"}, Input{Raw: hamMsg, Recipients: 3})
	if gotPath != "POST /checkv2" || gotBody != string(hamMsg) || gotRcpt != 0 {
		t.Errorf("sent %s, %d bytes, %d Rcpt headers (stand-ins trip FORGED_RECIPIENTS)", gotPath, len(gotBody), gotRcpt)
	}
	if res.Verdict != Spam || res.Score != 7.5 || len(res.Reasons) < 2 || res.Reasons[0].Name != "A" || res.Reasons[1].Name != "B" || hasReason(res, "Z") {
		t.Errorf("mapped %+v", res)
	}
}
