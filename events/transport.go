package events

import (
	"context"

	"github.com/tollgate-mail/tollgate/queue"
)

// Transport wraps the delivery transport: every recipient's result of an
// attempt becomes a delivered, deferred or bounced event for the
// message's tenant. DSNs and Tollgate's own mail (no tenant) make none.
type Transport struct {
	Next   queue.Transport
	Events *Dispatcher
	// Classify is the bounce classifier (feedback.Source.Classify).
	Classify func(queue.Result) (class, reason string)
}

// Deliver implements queue.Transport.
func (t *Transport) Deliver(ctx context.Context, d *queue.Delivery) []queue.Result {
	res := t.Next.Deliver(ctx, d)
	if d.TenantID == 0 || d.Kind == "dsn" {
		return res
	}
	for _, r := range res {
		e := Event{TenantID: d.TenantID, QueueID: d.ID, Recipient: r.Rcpt, Code: r.Code, Reply: r.Reply, Detail: r.Detail, Remote: r.Remote}
		switch {
		case r.OK:
			e.Kind = Delivered
		case r.Permanent:
			e.Kind = Bounced
		default:
			e.Kind = Deferred
		}
		if !r.OK && t.Classify != nil {
			e.Class, e.Reason = t.Classify(r)
		}
		t.Events.Emit(ctx, e)
	}
	return res
}
