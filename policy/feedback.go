package policy

import (
	"context"
	"time"
)

// Feedback is what the next hops said about a tenant's mail over Window.
type Feedback struct {
	Window       time.Duration
	Delivered    int64 // accepted by the next hop
	HardBounces  int64 // 5xx unknown user / bad mailbox
	SpamRefusals int64 // 5xx/4xx citing spam, policy, reputation, blocklists
	Deferrals    int64 // other 4xx
	Complaints   int64 // ARF abuse reports matched to the tenant
}

// FeedbackSource gives a tenant's delivery feedback; implemented by package feedback.
type FeedbackSource interface {
	TenantFeedback(ctx context.Context, tenantID int64) (Feedback, error)
}
