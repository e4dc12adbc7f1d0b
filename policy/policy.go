// Package policy holds the ordered checks that decide, at MAIL FROM, RCPT TO
// and the end of DATA, whether Tollgate takes a message.
//
// Each check returns a Decision that carries everything a person needs to
// understand it: the SMTP reply, the rule that fired and the figures it saw.
// The front end turns a refusal into an SMTP reply and writes every decision to
// the message trace. This package has the chain, the attribution and
// connector-probation checks and the protection settings; the protection
// checks themselves are in package protect, and IP reputation in reputation.
package policy

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
)

// Action is what a Decision tells the front end to do.
type Action int

const (
	// Accept lets the command through; the next check runs.
	Accept Action = iota
	// Reject refuses with a permanent (5xx) reply.
	Reject
	// Defer refuses with a temporary (4xx) reply; the client retries.
	Defer
	// Drop (at RCPT) answers 250 but leaves the recipient out of the
	// message: nobody is told it was not delivered but the trace. Front
	// ends that cannot leave one recipient out (Postfix's policy service)
	// refuse it instead.
	Drop
)

func (a Action) String() string {
	switch a {
	case Accept:
		return "accept"
	case Reject:
		return "reject"
	case Defer:
		return "defer"
	case Drop:
		return "drop"
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// Figure is one number a check looked at, e.g. "recipients" 501 of limit 500.
type Figure struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Decision is the outcome of one check.
type Decision struct {
	Action   Action   `json:"action"`
	Code     int      `json:"code,omitempty"`     // 550, 451, ...
	Enhanced [3]int   `json:"enhanced,omitempty"` // RFC 3463, e.g. {5,7,64}
	Text     string   `json:"text,omitempty"`     // the short text of the reply
	Rule     string   `json:"rule,omitempty"`     // the check that decided, e.g. "attribution"
	Figures  []Figure `json:"figures,omitempty"`
}

// Accepted is the zero-cost decision of a check that has nothing to say.
var Accepted = Decision{Action: Accept}

// EnhancedString returns the enhanced code as "5.7.64".
func (d Decision) EnhancedString() string {
	return fmt.Sprintf("%d.%d.%d", d.Enhanced[0], d.Enhanced[1], d.Enhanced[2])
}

// String is the decision as one log-friendly line.
func (d Decision) String() string {
	if d.Action == Accept {
		return "accept"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %s %s [rule=%s", d.Action, d.Code, d.EnhancedString(), d.Text, d.Rule)
	for _, f := range d.Figures {
		fmt.Fprintf(&b, " %s=%s", f.Name, f.Value)
	}
	b.WriteString("]")
	return b.String()
}

// Attribution says whom a connection or message belongs to: the one value
// made at SMTP time that travels with an accepted message through the spool
// to delivery (as maddy's MsgMetadata does), so a decision made later —
// the hold before each delivery attempt — judges the same identity. The
// zero value is an unattributed connection.
type Attribution struct {
	TenantID    int64  `json:"tenant_id,omitempty"`
	Tenant      string `json:"tenant,omitempty"`
	UserID      int64  `json:"user_id,omitempty"`
	User        string `json:"user,omitempty"`
	ConnectorID int64  `json:"connector_id,omitempty"`
	Connector   string `json:"connector,omitempty"`
	// AppPasswordID is the app password the user logged in with; 0 for
	// the main password or a connector.
	AppPasswordID int64 `json:"app_password_id,omitempty"`
	// Method is how the tenant was found; MethodNone when it was not.
	Method Method `json:"method,omitempty"`
	// ClientIP is the address the client connected from.
	ClientIP netip.Addr `json:"client_ip,omitzero"`
}

// Attributed reports whether a tenant was found.
func (a Attribution) Attributed() bool { return a.TenantID != 0 }

// Envelope is what the checks see of a transaction so far.
type Envelope struct {
	Attribution
	Listener Listener
	Helo     string
	TLS      bool
	From     string
	Size     int64    // SIZE= from MAIL FROM, 0 if not given
	Rcpts    []string // accepted so far

	// txn is what the checks keep for the current transaction (TxnValue).
	txn map[any]any
}

// TxnValue returns what a check stored under key for the current
// transaction, nil when nothing. Keys are values of a type unexported in
// the check's package, as context keys are, so checks cannot collide.
func (e *Envelope) TxnValue(key any) any { return e.txn[key] }

// SetTxnValue stores v under key until the transaction ends
// (EndTransaction): state one check carries from MAIL FROM to the end of
// DATA, such as "this message was counted already", without a field for it
// in the envelope every check shares.
func (e *Envelope) SetTxnValue(key, v any) {
	if e.txn == nil {
		e.txn = map[any]any{}
	}
	e.txn[key] = v
}

// EndTransaction forgets the transaction (sender, size, recipients and the
// checks' state) and keeps the connection's attribution, listener, HELO and
// TLS: RFC 5321 RSET, a refused MAIL FROM, or the end of a message.
func (e *Envelope) EndTransaction() {
	e.From, e.Size, e.Rcpts = "", 0, nil
	clear(e.txn)
}

// Sender is whom the per-sender limits and restrictions apply to: the
// logged-in user, or for connector mail the envelope sender.
//
// Connector mail with the null sender (MAIL FROM:<>) is the sender "<>":
// bounces from a tenant's server share one set of limits rather than
// escaping them. Connector senders are whatever the client claims, so a
// spammer rotating addresses is held by the tenant-wide limits and the
// per-connector spam restriction, not the per-sender ones.
func (e *Envelope) Sender() string {
	if e.User != "" {
		return e.User
	}
	if e.From == "" && e.Attributed() {
		return "<>"
	}
	return strings.ToLower(e.From)
}

// Message is what the end-of-DATA checks see of the content.
type Message struct {
	QueueID    string
	Size       int64
	MessageID  string
	Subject    string
	HeaderFrom string // the From field as written
	// HeaderSender is the Sender field as written (every one, joined
	// with ", "); "" when there is none.
	HeaderSender string
	// HeaderResentFrom and HeaderResentSender are the Resent-From and
	// Resent-Sender fields (RFC 5322 §3.6.6), joined like HeaderSender.
	// Mail readers show them as who passed the message on, so the
	// checks that judge From judge them too.
	HeaderResentFrom   string
	HeaderResentSender string
	Verdict            Verdict
	// ListMail is set when the header has List-Id or List-Unsubscribe
	// (RFC 2919, RFC 2369/8058): mailing-list and newsletter mail.
	ListMail bool

	// Evidence is the figures the verdict check read beyond the verdict
	// (novelty, baseline, campaign, feedback), for the trace.
	Evidence []Figure

	// Pool is the delivery pool the message leaves through; checks set it
	// to PoolHighRisk for spam that is not refused. Empty means PoolNormal.
	Pool Pool
}

// Class is a content verdict's class, the one word the trace, the day
// statistics and the samples keep. Package classify names its verdicts
// with these.
type Class string

// The verdict classes.
const (
	ClassNone  Class = ""      // not classified
	ClassClean Class = "clean" // legitimate content
	ClassSpam  Class = "spam"  // spam content
	// ClassBulk is clean bulk mail (Verdict.Kind); no engine gives it as
	// a class any more, older callers may.
	ClassBulk Class = "bulk"
)

// Pool is a delivery pool: the set of source addresses and connections
// a message leaves through.
type Pool string

// The delivery pools.
const (
	// PoolNormal carries clean mail.
	PoolNormal Pool = "normal"
	// PoolHighRisk carries DSNs and spam that was not refused, so their
	// reputation does not touch the normal pool's.
	PoolHighRisk Pool = "high-risk"
)

// ValidPoolName reports whether name can name a pool: 1 to 32 lowercase
// letters, digits and '-'. Pool names appear in config keys, metrics labels
// and the trace, so they are kept to characters that need no quoting.
func ValidPoolName(name string) bool {
	if len(name) == 0 || len(name) > 32 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Originator is one header field that names who a message is from.
type Originator struct {
	Where string // "header From", "header Sender", …: for figures and the trace
	Value string // every field of that name, joined with ", "
}

// Originators are the From, Sender, Resent-From and Resent-Sender fields
// that are present: every field a mail reader may show as the message's
// author or the one who sent or resent it. Checks that decide who may send
// as a domain or an address judge all of them, so no one field is a way
// around the others.
func (m *Message) Originators() []Originator {
	var out []Originator
	for _, f := range []Originator{{"header From", m.HeaderFrom}, {"header Sender", m.HeaderSender},
		{"header Resent-From", m.HeaderResentFrom}, {"header Resent-Sender", m.HeaderResentSender}} {
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

// Verdict is the content classifier's answer for a message: the class
// (clean or spam) and, beside it, whether the message is bulk mail — a
// newsletter is bulk and clean unless its content is spam.
type Verdict struct {
	Class   Class    `json:"class"` // clean, spam ("bulk" from older callers); "" when not classified
	Score   float64  `json:"score"`
	Bulk    int      `json:"bulk"`    // the bulk level, 0-9
	IsBulk  bool     `json:"is_bulk"` // the level reached the bulk threshold
	Reasons []string `json:"reasons,omitempty"`
	Engine  string   `json:"engine,omitempty"`
	// Fingerprint is the content fingerprint (classify's campaign bands,
	// dash-joined), "" when the engine gives none: the campaign-spread
	// evidence counts new recipients per fingerprint.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Tokens are the message's strongest words (classify.Result.Tokens):
	// what an admin's correction adjusts for the tenant.
	Tokens []string `json:"tokens,omitempty"`
}

// SpamOrBulk reports whether the verdict counts towards the thresholds.
func (v Verdict) SpamOrBulk() bool { return v.Class == ClassSpam || v.Kind() == ClassBulk }

// Kind is "spam", "bulk" (clean bulk mail), "clean", or "" when the
// message was not classified: the one word the day statistics and samples
// keep.
func (v Verdict) Kind() Class {
	switch {
	case v.Class == ClassNone || v.Class == ClassSpam:
		return v.Class
	case v.IsBulk || v.Class == ClassBulk:
		return ClassBulk
	}
	return v.Class
}

// Check is one rule of the chain. A check takes part in the stages whose
// interface it implements — MailChecker, RcptChecker, DataChecker — as a
// go-smtp session offers AUTH by implementing AuthSession, so a rule of one
// stage has no empty methods for the others.
type Check interface {
	Name() string
}

// MailChecker is a check at MAIL FROM.
type MailChecker interface {
	Check
	Mail(ctx context.Context, env *Envelope) Decision
}

// RcptChecker is a check at each RCPT TO.
type RcptChecker interface {
	Check
	Rcpt(ctx context.Context, env *Envelope, rcpt string) Decision
}

// DataChecker is a check at the end of DATA.
type DataChecker interface {
	Check
	Data(ctx context.Context, env *Envelope, msg *Message) Decision
}

// Chain runs checks in order; the first decision that is not Accept wins.
// Build it with NewChain, which sorts the checks into their stages once.
// The zero Chain accepts everything.
type Chain struct {
	checks []Check
	mail   []MailChecker
	rcpt   []RcptChecker
	data   []DataChecker
}

// NewChain returns the chain of checks in the order given. A check that
// takes part in no stage is an error: it would silently never run.
func NewChain(checks ...Check) (Chain, error) {
	var c Chain
	for i, ch := range checks {
		if ch == nil {
			return Chain{}, fmt.Errorf("policy: check %d of the chain is nil", i)
		}
		m, mok := ch.(MailChecker)
		r, rok := ch.(RcptChecker)
		d, dok := ch.(DataChecker)
		if !mok && !rok && !dok {
			return Chain{}, fmt.Errorf("policy: check %q implements no stage (Mail, Rcpt or Data)", ch.Name())
		}
		if mok {
			c.mail = append(c.mail, m)
		}
		if rok {
			c.rcpt = append(c.rcpt, r)
		}
		if dok {
			c.data = append(c.data, d)
		}
		c.checks = append(c.checks, ch)
	}
	return c, nil
}

// Checks returns the checks in order.
func (c Chain) Checks() []Check { return append([]Check(nil), c.checks...) }

// Mail runs the MAIL FROM stage.
func (c Chain) Mail(ctx context.Context, env *Envelope) Decision {
	for _, ch := range c.mail {
		if d := ch.Mail(ctx, env); d.Action != Accept {
			return d
		}
	}
	return Accepted
}

// Rcpt runs the RCPT TO stage for one recipient.
func (c Chain) Rcpt(ctx context.Context, env *Envelope, rcpt string) Decision {
	for _, ch := range c.rcpt {
		if d := ch.Rcpt(ctx, env, rcpt); d.Action != Accept {
			return d
		}
	}
	return Accepted
}

// Data runs the end-of-DATA stage.
func (c Chain) Data(ctx context.Context, env *Envelope, msg *Message) Decision {
	for _, ch := range c.data {
		if d := ch.Data(ctx, env, msg); d.Action != Accept {
			return d
		}
	}
	return Accepted
}
