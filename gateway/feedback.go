package gateway

import (
	"context"
	"fmt"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/events"
	"github.com/tollgate-mail/tollgate/feedback"
	"github.com/tollgate-mail/tollgate/suppress"
	"github.com/tollgate-mail/tollgate/trace"
)

// openFeedback builds the delivery feedback counts (fed by the queue's
// delivery results, read by the tenant decisions through
// policy.FeedbackSource; they need only the counters, so the protection
// engine may have built them first) and the ARF receiver behind the
// feedback address and POST /api/v1/feedback/arf (it needs the trace too).
func (g *Gateway) openFeedback(ctx context.Context, cfg *config.Config) error {
	key, err := g.DB.Secret(ctx, "feedback-id")
	if err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	g.feedbackIDs = feedback.NewSigner(key)
	if g.Feedback == nil {
		g.Feedback = feedback.NewSource(g.Counters, cfg.Feedback.Window.Duration, g.log)
	}
	g.FeedbackReceiver = &feedback.Receiver{
		Address: cfg.Feedback.Address, MaxBytes: cfg.Feedback.MaxReportBytes, ReportsPerHour: cfg.Feedback.ReportsPerHour,
		Source: g.Feedback, Limits: g.Counters, Trace: g.Trace, Logger: g.log.With("component", "feedback"),
		TenantExists: func(ctx context.Context, id int64) bool {
			_, err := g.Directory.Tenant(ctx, id)
			return err == nil
		},
		FindMessage: g.findMessage,
		Signer:      g.feedbackIDs,
		OnComplaint: func(ctx context.Context, tenantID int64, queueID, rcpt, detail string) {
			g.Events.Emit(ctx, events.Event{Kind: events.Complained, TenantID: tenantID, QueueID: queueID, Recipient: rcpt, Reason: detail})
			if _, _, err := g.Suppress.Add(ctx, tenantID, rcpt, suppress.Complaint, detail, "system"); err != nil {
				g.log.Warn("could not add a complainant to the suppression list", "tenant_id", tenantID, "err", err)
			}
		},
	}
	return nil
}

// findMessage finds the relayed messages with a Message-ID in the trace.
func (g *Gateway) findMessage(ctx context.Context, tenantID int64, messageID string) []feedback.Sent {
	found, err := g.Trace.Search(ctx, trace.Query{TenantID: tenantID, MessageID: messageID, Limit: 10})
	if err != nil {
		g.log.Warn("trace search for a feedback report failed", "message_id", messageID, "err", err)
		return nil
	}
	var out []feedback.Sent
	for _, s := range found {
		if s.QueueID != "" && s.TenantID != 0 {
			out = append(out, feedback.Sent{TenantID: s.TenantID, QueueID: s.QueueID, Recipients: s.Recipients})
		}
	}
	return out
}
