package feedback

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/queue"
)

// DefaultWindow is how far back the counts reach: a rolling day, the span
// mailbox providers' own postmaster statistics use.
const DefaultWindow = 24 * time.Hour

// The counted fields, one counter key per tenant each.
const (
	fieldDelivered  = "delivered"
	fieldHard       = "hard_bounces"
	fieldSpam       = "spam_refusals"
	fieldDeferrals  = "deferrals"
	fieldComplaints = "complaints"
)

var fields = []string{fieldDelivered, fieldHard, fieldSpam, fieldDeferrals, fieldComplaints}

// Source keeps each tenant's feedback in the shared counters (embedded or
// Redis, so a fleet agrees) and reads it back. It implements
// policy.FeedbackSource and queue.FeedbackRecorder.
type Source struct {
	counter counters.Counter
	window  time.Duration
	log     *slog.Logger
	now     func() time.Time
}

// NewSource counts in c over window (DefaultWindow if 0).
func NewSource(c counters.Counter, window time.Duration, log *slog.Logger) *Source {
	if window <= 0 {
		window = DefaultWindow
	}
	if log == nil {
		log = slog.Default()
	}
	return &Source{counter: c, window: window, log: log.With("component", "feedback"), now: time.Now}
}

// Window is the span the counts cover.
func (s *Source) Window() time.Duration { return s.window }

func key(tenantID int64, field string) string {
	return "feedback:" + strconv.FormatInt(tenantID, 10) + ":" + field
}

// fieldOf is the Feedback field a class counts toward; "" for the classes
// that say nothing about the tenant (full mailboxes, other permanent
// failures, no reply at all).
func fieldOf(c Class) string {
	switch c {
	case Delivered:
		return fieldDelivered
	case HardBounce:
		return fieldHard
	case SpamRefusal:
		return fieldSpam
	case RateLimited, Transient:
		return fieldDeferrals
	}
	return ""
}

// Classify implements queue.FeedbackRecorder: the class of what the next
// hop answered one recipient, and why.
func (s *Source) Classify(r queue.Result) (class, reason string) {
	res := Classify(Reply{Code: r.Reply, Enhanced: r.Code, Text: r.Detail})
	return string(res.Class), res.Reason
}

// Count implements queue.FeedbackRecorder: one attempt's classes (one per
// recipient) for tenantID, in one counter batch (one round trip on Redis).
// A counter failure is logged: losing a count must not hold up delivery.
func (s *Source) Count(ctx context.Context, tenantID int64, classes []string) {
	if err := s.add(ctx, tenantID, classes); err != nil {
		s.log.Warn("feedback not counted", "tenant_id", tenantID, "err", err)
	}
}

func (s *Source) add(ctx context.Context, tenantID int64, classes []string) error {
	n := map[string]int64{}
	for _, c := range classes {
		if f := fieldOf(Class(c)); f != "" {
			n[f]++
		}
	}
	ops := make([]counters.Op, 0, len(n))
	for _, f := range fields { // a fixed order: the batch is the same on every node
		if n[f] > 0 {
			ops = append(ops, counters.Op{Key: key(tenantID, f), N: n[f], Window: s.window})
		}
	}
	if len(ops) == 0 {
		return nil
	}
	if _, err := counters.AddAll(ctx, s.counter, ops, s.now()); err != nil {
		return fmt.Errorf("feedback: count for tenant %d: %w", tenantID, err)
	}
	return nil
}

// AddComplaint counts one complaint (an ARF abuse report) for tenantID.
func (s *Source) AddComplaint(ctx context.Context, tenantID int64) error {
	if _, err := s.counter.Add(ctx, key(tenantID, fieldComplaints), 1, s.window, s.now()); err != nil {
		return fmt.Errorf("feedback: count complaint for tenant %d: %w", tenantID, err)
	}
	return nil
}

// TenantFeedback implements policy.FeedbackSource: the tenant's counts over
// the window, read in one batch.
func (s *Source) TenantFeedback(ctx context.Context, tenantID int64) (policy.Feedback, error) {
	b, err := counters.AddAll(ctx, s.counter, s.Reads(tenantID), s.now())
	if err != nil {
		return policy.Feedback{}, fmt.Errorf("feedback: read tenant %d: %w", tenantID, err)
	}
	return s.FromTotals(b.Totals), nil
}

// Counter is the store the counts are kept in. A decision on the same
// store reads the feedback (Reads) in its own counter step instead of
// calling TenantFeedback, which saves a Redis round trip per message.
func (s *Source) Counter() counters.Counter { return s.counter }

// Reads are the read-only ops (N 0) whose totals, in this order,
// FromTotals turns into tenantID's feedback. They carry the source's own
// clock (Op.At), so they read the same in another caller's batch.
func (s *Source) Reads(tenantID int64) []counters.Op {
	ops := make([]counters.Op, len(fields))
	now := s.now()
	for i, f := range fields {
		ops[i] = counters.Op{Key: key(tenantID, f), Window: s.window, At: now}
	}
	return ops
}

// FromTotals is the feedback behind the totals of Reads; missing totals
// read as zero.
func (s *Source) FromTotals(t []int64) policy.Feedback {
	at := func(i int) int64 {
		if i < len(t) {
			return t[i]
		}
		return 0
	}
	return policy.Feedback{Window: s.window, Delivered: at(0), HardBounces: at(1), SpamRefusals: at(2),
		Deferrals: at(3), Complaints: at(4)}
}
