package client

import "time"

// Correction is an admin's "not spam" / "spam" mark on a traced message
// (POST /api/v1/trace/{id}/correction), as the corrections routes answer.
type Correction struct {
	ID       int64  `json:"id"`
	TenantID int64  `json:"tenant_id"`
	Tenant   string `json:"tenant"`
	Message  string `json:"message"` // the marked message's trace id
	// Fingerprint is the marked content's fingerprint bands, dash-joined.
	Fingerprint string    `json:"fingerprint"`
	Label       string    `json:"label"` // not_spam or spam
	MarkedBy    string    `json:"marked_by"`
	MarkedAt    time.Time `json:"marked_at"`
	// Tokens are the marked message's strongest words, which the mark
	// adjusts for its tenant (bounded; docs/classifier.md#corrections).
	Tokens []string `json:"tokens"`
	// WithdrawnAt and WithdrawnBy are set once the mark is withdrawn.
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
	WithdrawnBy string     `json:"withdrawn_by,omitempty"`
}

// Corrections is a list of marks, newest first.
type Corrections struct {
	Corrections []Correction `json:"corrections"`
}
