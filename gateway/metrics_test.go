package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/gateway"
)

// /metrics, after traffic that sets every labelled series the front ends
// and delivery write, passes `promtool check metrics` (Debian's
// prometheus package): the Prometheus naming conventions (_total on
// counters, base units, help on every metric).
func TestMetricsPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed: this test needs Debian's prometheus package (.ci/run installs it)")
	}
	sink := startSink(t, devsink.Hooks{})
	g := startWith(t, postfixConfig(t, sink.Addr()), false, gateway.Options{Classifier: subjectClassifier})
	seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	if err := relayFrom(t, g, "127.0.0.2", "a@acme.test", "hello"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, relayFrom(t, g, "127.0.0.5", "x@nowhere.test", "hi"), 550, "5.7.64")
	if !sink.Wait(waitFor, func(ms []*devsink.Message) bool { return len(ms) == 1 }) {
		t.Fatal("the message was not delivered")
	}
	// The sink has the message before delivery counts it: wait until the
	// series are there (or the check would not see them).
	want := []string{"tollgate_smtp_rejected_total{", "tollgate_delivery_recipients_delivered_total{", "tollgate_smtp_messages_accepted_total{"}
	var body []byte
	waitUntil(t, "/metrics has the labelled series", func() bool {
		body = scrape(t, g)
		for _, name := range want {
			if !bytes.Contains(body, []byte(name)) {
				return false
			}
		}
		return true
	})
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func scrape(t *testing.T, g *gateway.Gateway) []byte {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr(g, "admin") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body
}
