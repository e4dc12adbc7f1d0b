package alert

import "github.com/prometheus/client_golang/prometheus"

var (
	metricAlerts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_alerts_total", Help: "Alerts by sink and outcome (sent, failed, dropped: queue full).",
	}, []string{"sink", "outcome"})
	metricDeduplicated = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tollgate_alerts_deduplicated_total", Help: "Alerts suppressed as repeats within the dedupe window.",
	})
)

// Collectors are this package's metrics, for the registry served at
// /metrics (metrics.Registry.MustRegister(alert.Collectors()...)).
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{metricAlerts, metricDeduplicated}
}
