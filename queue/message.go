package queue

import (
	"context"

	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"io"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// Status is a recipient's delivery state.
type Status string

const (
	Pending   Status = "pending"
	Delivered Status = "delivered"
	Failed    Status = "failed"
)

// Recipient is one envelope recipient and where its delivery stands.
type Recipient struct {
	Addr   string
	ORCPT  string // RFC 3461 original recipient, "rfc822;addr" form without the type
	Notify string // RFC 3461 NOTIFY list ("NEVER", "FAILURE,DELAY"); "" is the default (failures)
	Status Status
	Code   string // enhanced status of the last answer, e.g. "4.4.1"
	Detail string // the last remote reply or local reason
	Remote string // the host that gave it
}

// NotifyFailure reports whether this recipient wants a DSN when it fails.
func (r Recipient) NotifyFailure() bool {
	n := strings.ToUpper(r.Notify)
	return n == "" || strings.Contains(n, "FAILURE")
}

// Envelope is what the front end hands the queue with a message body.
type Envelope struct {
	From    string // "" is the null sender
	EnvID   string
	RetFull bool
	UTF8    bool
	Kind    string // "message" or "dsn"
	Pool    policy.Pool
	// Attribution is whom the message belongs to, as the front end found
	// it: kept with the message so the hold before each attempt judges
	// the identity it was accepted under (the tenant, connector, user and
	// app password by id). Messages spooled before the ids were kept have
	// the names and the address only.
	policy.Attribution
	MessageID string
	Subject   string
	Rcpts     []Recipient
}

// Message is a spooled message's metadata.
type Message struct {
	ID string
	// hold, set during an attempt, explains in the DSN why the message
	// was stopped after it was accepted; not stored.
	hold *Hold
	Envelope
	Size        int64
	ReceivedAt  time.Time
	Attempts    int
	NextAttempt time.Time
	LastError   string
	// Held is an operator's hold: no attempt is made until it is released.
	Held       bool
	HeldReason string
}

// Pending returns the recipients still to deliver.
func (m *Message) Pending() []string {
	var out []string
	for _, r := range m.Rcpts {
		if r.Status == Pending {
			out = append(out, r.Addr)
		}
	}
	return out
}

// Delivery is one attempt to hand a message to the next hop.
type Delivery struct {
	ID         string
	From       string
	Rcpts      []string
	Pool       policy.Pool
	Size       int64
	UTF8       bool
	EnvID      string
	RetFull    bool
	Body       *io.SectionReader // the spooled message, exactly Size bytes
	ReceivedAt time.Time
	// TenantID and Kind say whose message this is ("message" or "dsn"),
	// for what delivery adds per tenant (a DKIM signature).
	TenantID int64
	Kind     string
	// ConnectorID is the connector the message was accepted through (0:
	// none), so delivery can pick that connector's dedicated pool.
	ConnectorID int64
}

// Result is what happened to one recipient in an attempt.
type Result struct {
	Rcpt      string
	OK        bool
	Permanent bool   // a 5xx: do not retry
	Code      string // enhanced status, e.g. "5.1.1"
	Detail    string // the remote reply ("550 5.1.1 no such user") or the local reason
	Remote    string // the host that answered
	// Reply is the next hop's basic reply code (250, 421, 550); 0 when it
	// gave none (no connection, a broken one, a local failure), so the
	// delivery feedback counts only what a next hop really said.
	Reply int
}

// FeedbackRecorder hears what the next hops answered (package feedback):
// it classifies each recipient's result, and the queue writes the class
// into the trace event and hands one attempt's classes to Count at once.
type FeedbackRecorder interface {
	Classify(r Result) (class, reason string)
	Count(ctx context.Context, tenantID int64, classes []string)
}

// Transport delivers messages. The deliver package implements it; tests and
// the dev capture sink may too. It returns one Result per recipient.
type Transport interface {
	Deliver(ctx context.Context, d *Delivery) []Result
}

var idEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// NewID returns a queue id that sorts by time: 8 bytes of nanoseconds and
// 4 random bytes, in Crockford's base32 (20 characters).
func NewID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	_, _ = rand.Read(b[8:])
	return idEncoding.EncodeToString(b[:])
}

// BounceDecision is Options.Bounce's answer about one DSN.
type BounceDecision struct {
	Drop        bool   // send no DSN
	HeadersOnly bool   // return the original's header only, whatever RET= said
	Rule        string // why, for the trace and the log
	Reason      string
	Figures     string // "name=value; …"
}

// Hold stops a queued message: Code is the enhanced status code, Reason
// the one-line cause, Rule and Figures the machine-readable decision
// (written as X-Tollgate-Rule and X-Tollgate-Figures in the DSN), Sender
// and Admin the DSN's two explanations.
type Hold struct {
	Code, Reason, Rule, Figures string
	Sender, Admin               string
}
