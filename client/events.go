package client

import "time"

// EventWebhook is a tenant's delivery-event webhook
// (docs/deliverability.md#delivery-events): where its events are POSTed
// and the secret that signs them.
type EventWebhook struct {
	URL string `json:"url"`
	// Secret signs each request (Tollgate-Signature); omitted for a
	// webhook the operator set in the config file, whose secret the
	// operator shares.
	Secret string `json:"secret,omitempty"`
	// Source is "api" (the tenant set it) or "config" (the operator did,
	// in [[events.webhook]]; the API cannot change it).
	Source    string     `json:"source"`
	UpdatedBy string     `json:"updated_by,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// EventWebhookRequest sets a tenant's delivery-event webhook.
type EventWebhookRequest struct {
	URL string `json:"url"`
}

// FailedEvent is a delivery event whose sends all failed, kept for a
// redelivery (docs/deliverability.md#failed-events).
type FailedEvent struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	QueueID   string    `json:"queue_id,omitempty"`
	Recipient string    `json:"recipient"`
	Time      time.Time `json:"time"`
	FailedAt  time.Time `json:"failed_at"`
	// Error is the last send's error.
	Error string `json:"error"`
	// Sends is how many times it was sent and failed (each with retries).
	Sends int `json:"sends"`
}

// FailedEvents is a page of a tenant's failed events, newest first.
type FailedEvents struct {
	Events []FailedEvent `json:"events"`
	// Total is how many the tenant has kept in all.
	Total int `json:"total"`
}

// RedeliverRequest names the failed events to send again; empty: all.
type RedeliverRequest struct {
	IDs []string `json:"ids,omitempty"`
}

// Redelivery says how many failed events were queued again.
type Redelivery struct {
	Redelivered int `json:"redelivered"`
}
