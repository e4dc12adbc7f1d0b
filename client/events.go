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
