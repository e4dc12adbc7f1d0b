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

// Volume is the mail the rates rest on: delivered, hard-bounced or
// refused as spam.
func (f Feedback) Volume() int64 { return f.Delivered + f.HardBounces + f.SpamRefusals }

// BounceRate is the share of the volume that hard-bounced or was refused
// as spam: both say the mail went where it should not.
func (f Feedback) BounceRate() float64 {
	if v := f.Volume(); v > 0 {
		return float64(f.HardBounces+f.SpamRefusals) / float64(v)
	}
	return 0
}

// ComplaintRate is complaints per delivered message.
func (f Feedback) ComplaintRate() float64 {
	if f.Delivered > 0 {
		return float64(f.Complaints) / float64(f.Delivered)
	}
	return 0
}

// Feedback levels, SES-like: review alerts the admins (and makes bulk
// count), pause blocks the tenant.
const (
	FeedbackOK     = "ok"
	FeedbackLow    = "too-little-volume"
	FeedbackReview = "review"
	FeedbackPause  = "pause"
)

// FeedbackLevel judges f against s: below FeedbackMinVolume no rate counts.
func (s Settings) FeedbackLevel(f Feedback) string {
	if f.Volume() < s.FeedbackMinVolume {
		return FeedbackLow
	}
	b, c := f.BounceRate(), f.ComplaintRate()
	switch {
	case b >= s.BouncePauseRate || c >= s.ComplaintPauseRate:
		return FeedbackPause
	case b >= s.BounceReviewRate || c >= s.ComplaintReviewRate:
		return FeedbackReview
	}
	return FeedbackOK
}
