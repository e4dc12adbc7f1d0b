package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/classify/rspamdlocal"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
)

// With rspamd as the engine (a real, private rspamd on loopback), mail
// relayed over SMTP is still fingerprinted by the built-in parser, so a
// tenant admin can mark it: the mark answers 201, and the same content
// sent again is clean with CORRECTED_NOT_SPAM for that tenant, whatever
// rspamd says of it.
func TestCorrectionWithRealRspamd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rs, err := rspamdlocal.Start(ctx, t.TempDir(), rspamdlocal.Options{})
	if errors.Is(err, rspamdlocal.ErrNotInstalled) {
		t.Skip("rspamd binary not found: skipping the correction test against a real rspamd (apt-get install rspamd; .ci/run installs it)")
	}
	if err != nil {
		t.Fatalf("starting rspamd: %v", err)
	}
	t.Cleanup(func() { rs.Close() })

	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	cfg.Classify.Engine = "rspamd"
	cfg.Classify.RspamdURL = rs.URL
	cfg.Classify.RspamdTimeout = config.D(20 * time.Second)
	g := start(t, cfg, false)
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	acmeTok := tenantToken(t, g, acme.ID)
	n := 0
	sendSpam := func() string {
		t.Helper()
		n++
		id := fmt.Sprintf("r%d.ann@acme.test", n)
		c := dialStartTLSFrom(t, "127.0.0.2", addr(g, "relay"))
		defer c.Close()
		if err := send(c, "ann@acme.test", []string{stranger()}, correctionMessage("ann@acme.test", id, "offer", "text/html; charset=us-ascii", spamBody)); err != nil {
			t.Fatalf("send: %v", err)
		}
		return "<" + id + ">"
	}

	first := traced(t, g, acmeTok, sendSpam())
	if first.fingerprint == "" || first.verdict == "" {
		t.Fatalf("an rspamd verdict without a fingerprint (it cannot be marked): %+v", first)
	}
	if !strings.Contains(first.reasons, "MIME_HTML_ONLY") {
		t.Fatalf("the verdict is not rspamd's (no rspamd symbol in %q)", first.reasons)
	}
	var mark struct{ Label string }
	if code := apiCall(t, g, acmeTok, "POST", "/api/v1/trace/"+url.PathEscape(first.id)+"/correction", map[string]string{"label": "not_spam"}, &mark); code != 201 || mark.Label != "not_spam" {
		t.Fatalf("marking an rspamd-classified message: %d %+v", code, mark)
	}
	again := traced(t, g, acmeTok, sendSpam())
	if again.verdict != "clean" || !strings.HasPrefix(again.reasons, "CORRECTED_NOT_SPAM") {
		t.Fatalf("the same content after the mark, on the rspamd path: %+v", again)
	}
}
