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

// Undelivered implements queue.Options.Undelivered: a bounced event for a
// recipient the queue gave up on itself (expired, held, returned or
// dropped by an operator), so the tenant hears of every message that will
// not be delivered, not only those a next hop refused. Cause says which;
// Class and Reason classify it.
func (t *Transport) Undelivered(ctx context.Context, m *queue.Message, rc queue.Recipient, last queue.Result, cause string) {
	if m.TenantID == 0 || m.Kind == "dsn" {
		return
	}
	e := Event{Kind: Bounced, Cause: cause, TenantID: m.TenantID, QueueID: m.ID, Recipient: rc.Addr, Code: rc.Code,
		Reply: last.Reply, Detail: rc.Detail, Remote: rc.Remote}
	switch cause {
	case queue.CauseExpired:
		// What kept it from being delivered is the last reply: the
		// classifier's verdict on it is the useful news.
		e.Class, e.Reason = "no-reply", "the next hop gave no reply"
		if last.Rcpt != "" && t.Classify != nil {
			e.Class, e.Reason = t.Classify(last)
		}
		e.Reason = "expired in the queue (queue.max_age) after temporary failures; last: " + e.Reason
	case queue.CauseHeld:
		e.Class, e.Reason = "held", "stopped after acceptance: "+rc.Detail
	case queue.CauseReturned:
		e.Class, e.Reason = "operator", "returned to the sender by the gateway's operator: "+rc.Detail
	case queue.CauseDropped:
		e.Class, e.Reason = "operator", "removed by the gateway's operator without a DSN"
	default:
		e.Class, e.Reason = "local", rc.Detail
	}
	t.Events.Emit(ctx, e)
}
