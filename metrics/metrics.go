// Package metrics defines Tollgate's Prometheus metrics in one place, so that
// /metrics documents itself and every package counts the same way.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Registry is the registry served at /metrics.
var Registry = prometheus.NewRegistry()

var (
	Connections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_smtp_connections_total", Help: "SMTP connections accepted, by listener.",
	}, []string{"listener"})
	ConnectionsRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_smtp_connections_refused_total", Help: "SMTP connections refused at connect, by reason (total, per_ip).",
	}, []string{"reason"})
	ActiveConnections = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "tollgate_smtp_active_connections", Help: "SMTP connections open now.",
	})
	Accepted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_smtp_messages_accepted_total", Help: "Messages accepted (250 after DATA), by listener.",
	}, []string{"listener"})
	Rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_smtp_rejected_total", Help: "Refusals sent, by stage and enhanced status code.",
	}, []string{"stage", "code"})
	AuthFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tollgate_smtp_auth_failures_total", Help: "Failed SMTP AUTH attempts.",
	})
	AcceptLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "tollgate_smtp_data_seconds",
		Help:    "Time from the end of the client's DATA to the 250 reply (spool write, fsync, commit).",
		Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1},
	})
	Queued = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tollgate_queue_messages_queued_total", Help: "Messages committed to the spool.",
	})
	SpoolMessages = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "tollgate_queue_messages", Help: "Messages in the spool now.",
	})
	Delivered = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_delivery_recipients_delivered_total", Help: "Recipients delivered, by pool.",
	}, []string{"pool"})
	Deferred = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_delivery_recipients_deferred_total", Help: "Recipients deferred (temporary failure), by pool.",
	}, []string{"pool"})
	Bounced = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_delivery_recipients_bounced_total", Help: "Recipients failed permanently or expired, by pool.",
	}, []string{"pool"})
	DSNs = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tollgate_dsn_sent_total", Help: "Delivery status notifications queued.",
	})
	DeliveryLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "tollgate_delivery_seconds",
		Help:    "Time from acceptance to final delivery of a message.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 12),
	})
	AttemptLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "tollgate_delivery_attempt_seconds",
		Help:    "Duration of one delivery attempt to one destination.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
	})
)

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		Connections, ConnectionsRefused, ActiveConnections, Accepted, Rejected, AuthFailures,
		AcceptLatency, Queued, SpoolMessages, Delivered, Deferred, Bounced, DSNs,
		DeliveryLatency, AttemptLatency,
	)
}
