// Package events tells a tenant's own systems what became of each
// recipient: delivered, deferred, bounced (with the bounce classifier's
// reason), complained (an ARF report), suppressed (on the suppression
// list). Each event is POSTed as signed JSON to the tenant's webhook, with
// the alert webhook's signature scheme and retries (package alert).
//
// Events never slow delivery: Emit only writes the event to the outbox
// (when the dispatcher has one) and queues it. Each tenant has its own
// bounded queue and worker, so one tenant's dead receiver neither delays
// nor crowds out another's events; when a queue is full the oldest event is
// dropped (counted, in Stats and tollgate_delivery_events_total), since a
// receiver that comes back wants the recent news first. An event stays in
// the outbox until its webhook took it, so the events a stopped process
// had not sent are sent by the next (Dispatcher.Resume), each with its id:
// a receiver that deduplicates on Tollgate-Event-Id sees each once.
package events

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Kind is what became of a recipient.
type Kind string

// The kinds of delivery event.
const (
	Delivered  Kind = "delivered"  // the next hop accepted it (2xx)
	Deferred   Kind = "deferred"   // a temporary failure; the queue retries
	Bounced    Kind = "bounced"    // a permanent failure; a DSN goes to the sender
	Complained Kind = "complained" // the recipient reported it as spam (ARF)
	Suppressed Kind = "suppressed" // on the suppression list: refused at RCPT, or dropped
)

// Kinds lists every kind, for docs and validation.
var Kinds = []Kind{Delivered, Deferred, Bounced, Complained, Suppressed}

// Event is one delivery event; it is also the webhook's JSON payload.
type Event struct {
	// ID is unique per event (set by Emit); a retry carries the same one.
	ID       string `json:"id"`
	Kind     Kind   `json:"kind"`
	TenantID int64  `json:"tenant_id"`
	// QueueID is the message's queue id; empty for a recipient refused at
	// RCPT (nothing was queued).
	QueueID   string `json:"queue_id,omitempty"`
	Recipient string `json:"recipient"`
	// Code is the enhanced status code ("5.1.1", "4.2.2", "5.1.92").
	Code string `json:"code,omitempty"`
	// Reply is the next hop's basic reply code (250, 451, 550), 0 when
	// none answered.
	Reply int `json:"reply,omitempty"`
	// Class and Reason are the bounce classifier's verdict on a deferral or
	// bounce (feedback: "hard-bounce"/"mailbox-unknown", …); for suppressed,
	// Reason is why the address is on the list.
	//
	// A recipient the queue gave up on itself is bounced with Cause set
	// (queue.Cause*: "expired", "held", "returned", "dropped",
	// "spool-unreadable") and Class "held", "operator" or "local", or for
	// an expiry the class of the last reply.
	Class  string `json:"class,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Cause is set on a bounce the queue decided, not a next hop (above).
	Cause string `json:"cause,omitempty"`
	// Detail is the remote reply or the local reason, as the trace has it.
	Detail string `json:"detail,omitempty"`
	// Remote is the host that answered.
	Remote string    `json:"remote,omitempty"`
	Time   time.Time `json:"time"`
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
