package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/tollgate-mail/tollgate/classify"
	"github.com/tollgate-mail/tollgate/gateway"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/config"
)

// onBothStores runs a scenario on the embedded counters and on Redis (a
// fleet's store, skipped when Redis is unreachable), each with its own
// key prefix.
func onBothStores(t *testing.T, run func(t *testing.T, store func(*config.Config))) {
	t.Run("embedded", func(t *testing.T) { run(t, func(*config.Config) {}) })
	t.Run("redis", func(t *testing.T) {
		needRedis(t)
		prefix := fmt.Sprintf("tollgate-test:%s:%d:", t.Name(), time.Now().UnixNano())
		run(t, func(c *config.Config) { c.Counters.RedisURL, c.Counters.Prefix = "redis://"+redisAddr+"/0", prefix })
	})
}

// webhookAlerts is a webhook receiver collecting the alerts the gateway's
// notifier sends (after its de-duplication).
type webhookAlerts struct {
	mu     sync.Mutex
	alerts []alert.Alert
	url    string
}

func startWebhook(t *testing.T) *webhookAlerts {
	w := &webhookAlerts{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var a alert.Alert
		if err := json.Unmarshal(body, &a); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		w.mu.Lock()
		w.alerts = append(w.alerts, a)
		w.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

func (w *webhookAlerts) count(kind alert.Kind, tenant int64) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, a := range w.alerts {
		if a.Kind == kind && a.TenantID == tenant {
			n++
		}
	}
	return n
}

// transactional are the SaaS kinds of realistic legitimate message in
// testdata/mail.
var transactional = []string{"invoice", "password-reset", "signin-code", "receipt", "shipping"}

// realMail renders testdata/mail/KIND.eml for one recipient, with CRLF
// line ends as SMTP wants them.
func realMail(t *testing.T, kind, from, to, domain string, n int, at time.Time) string {
	t.Helper()
	tpl, err := template.ParseFiles(filepath.Join("testdata", "mail", kind+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tpl.Execute(&b, map[string]any{"From": from, "To": to, "N": 1000 + n, "Domain": domain,
		"Date": at.Format(time.RFC1123Z), "ID": fmt.Sprintf("%d.%d", at.UnixNano(), n)}); err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(b.String(), "\n", "\r\n")
}

// corpusSpam is spam from the shared corpus (classify's loader), as it
// would arrive over SMTP: without the mbox "From " separator line the
// corpus keeps (no client sends one; left in, the whole header reads as
// body), with CRLF line ends. Skipped when the corpus is not there.
func corpusSpam(t *testing.T, n int) [][]byte {
	t.Helper()
	path := "../../shared/corpus/spamassassin-train.jsonl.gz" // shared/ beside the clone
	if p := os.Getenv("TOLLGATE_CORPUS"); p != "" {
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("the shared corpus is not at %s: %v", path, err)
	}
	ex, err := classify.ReadCorpus([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, e := range ex {
		if e.Spam && len(e.Raw) < 64<<10 && !bytes.Contains(e.Raw, []byte("\r")) {
			raw := e.Raw
			if bytes.HasPrefix(raw, []byte("From ")) {
				if i := bytes.IndexByte(raw, '\n'); i >= 0 {
					raw = raw[i+1:]
				}
			}
			out = append(out, bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n")))
			if len(out) == n {
				break
			}
		}
	}
	return out
}

// testClock is the protection decisions' clock in these tests, moved by
// hand so a day's traffic passes in a second.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// relayRaw sends one raw message from src through the relay port.
func relayRaw(t *testing.T, g *gateway.Gateway, src, from string, to []string, raw string) error {
	t.Helper()
	c := dialStartTLSFrom(t, src, addr(g, "relay"))
	defer c.Close()
	return send(c, from, to, raw)
}

// realConfig is a gateway with the built-in classifier (today's model),
// the default [policy] and the test's counter store.
func realConfig(t *testing.T, sink string, store func(*config.Config)) *config.Config {
	c := testConfig(t, sink)
	c.Classify.Engine = "builtin"
	store(c)
	return c
}
