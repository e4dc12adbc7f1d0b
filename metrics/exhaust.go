package metrics

import "github.com/prometheus/client_golang/prometheus"

// The defences against resource exhaustion (docs/operations.md, Security).
var (
	StressEntered = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tollgate_smtp_stress_total", Help: "Times the SMTP connections reached smtp.stress_percent of smtp.max_connections (stress mode: short timeouts, error limit smtp.stress_error_limit).",
	})
	ErrorLimitHits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tollgate_smtp_error_limit_total", Help: "SMTP sessions cut off with 421 4.7.0 for too many refused commands (smtp.hard_error_limit).",
	})
	TraceSuppressed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tollgate_trace_unattributed_suppressed_total", Help: "Trace events of unattributed connections over trace.unattributed_per_minute or trace.unattributed_per_second, counted in a summary event instead of stored one by one.",
	})
	SpoolLow = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "tollgate_queue_spool_low", Help: "1 while the spool's free space is below queue.min_free_bytes or queue.min_free_percent (MAIL gets 452 4.3.1).",
	})
	AuditSuppressed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tollgate_audit_signin_failures_suppressed_total", Help: "Failed admin sign-ins over the per-source audit budget, counted in a summary row instead of one row each.",
	})
)

func init() {
	Registry.MustRegister(StressEntered, ErrorLimitHits, TraceSuppressed, SpoolLow, AuditSuppressed)
}
