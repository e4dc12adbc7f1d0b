package events

import "github.com/prometheus/client_golang/prometheus"

var metricEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "tollgate_delivery_events_total",
	Help: "Delivery events by outcome (queued; sent; failed: every send and retry failed, the event is kept for a redelivery; redelivered: a tenant admin queued failed events again; dropped: the tenant's queue was full and the oldest went).",
}, []string{"outcome"})

// Collectors are this package's metrics, for the registry served at /metrics.
func Collectors() []prometheus.Collector { return []prometheus.Collector{metricEvents} }
