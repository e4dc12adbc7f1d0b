package gateway_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

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
