package feedback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/trace"
)

// Receiver takes ARF reports (on the relay port, for the configured feedback
// address, and on the admin API), matches each to a tenant and counts abuse
// reports as complaints.
type Receiver struct {
	// Address is the feedback address; "" turns the SMTP side off.
	Address string
	// MaxBytes bounds a report; ReportsPerHour bounds reports per source
	// IP over SMTP (counted in Limits, shared by a fleet).
	MaxBytes       int64
	ReportsPerHour int64
	Source         *Source
	Limits         counters.Counter
	// TenantExists says whether a Feedback-ID's tenant is real.
	TenantExists func(ctx context.Context, id int64) bool
	// Signer checks a Feedback-ID's tag; nil accepts untagged ones (tests
	// of the parser only: the gateway always sets it).
	Signer *Signer
	// FindMessage looks a Message-ID up in the trace: the relayed
	// messages that carried it (tenantID 0: of any tenant), newest first;
	// none when the trace does not know it. nil: no trace.
	FindMessage func(ctx context.Context, tenantID int64, messageID string) []Sent
	Trace       trace.Recorder
	// OnComplaint hears each counted complaint that names its recipient
	// (the suppression list, the complained delivery event) with the
	// message's queue id when the report was matched to one; nil for none.
	OnComplaint func(ctx context.Context, tenantID int64, queueID, recipient, detail string)
	Logger      *slog.Logger
}

// Sent is one relayed message as the trace knows it: whose it was, its
// queue id and its recipients.
type Sent struct {
	TenantID   int64
	QueueID    string
	Recipients []string
}

// Outcome is what became of one report.
type Outcome struct {
	Counted      bool   `json:"counted"`
	TenantID     int64  `json:"tenant_id,omitempty"`
	MatchedBy    string `json:"matched_by,omitempty"` // "feedback-id" or "message-id"
	QueueID      string `json:"queue_id,omitempty"`
	FeedbackType string `json:"feedback_type"`
	Recipient    string `json:"recipient,omitempty"`
	Reason       string `json:"reason"`
}

// IsAddress reports whether rcpt is the feedback address.
func (rv *Receiver) IsAddress(rcpt string) bool {
	return rv != nil && rv.Address != "" && strings.EqualFold(strings.TrimSpace(rcpt), rv.Address)
}

// Limit is the size bound of a report.
func (rv *Receiver) Limit() int64 { return rv.MaxBytes }

// Allow counts one report from ip against ReportsPerHour; false when the
// source has sent too many. A counter failure allows: a report is cheap,
// and losing complaints is worse than a burst of them.
func (rv *Receiver) Allow(ctx context.Context, ip netip.Addr) bool {
	if rv.Limits == nil || rv.ReportsPerHour <= 0 {
		return true
	}
	_, ok, err := rv.Limits.AddIfBelow(ctx, "feedback-arf:"+ip.String(), 1, rv.ReportsPerHour, time.Hour, time.Now())
	if err != nil {
		rv.log().Warn("feedback report rate not checked", "client_ip", ip.String(), "err", err)
		return true
	}
	return ok
}

func (rv *Receiver) log() *slog.Logger {
	if rv.Logger == nil {
		return slog.Default()
	}
	return rv.Logger
}

// ErrTooLarge is returned for a report over MaxBytes.
var ErrTooLarge = errors.New("feedback report too large")

// Receive reads one report (at most MaxBytes), matches it and counts it.
// via says where it came ("smtp", "api"), source who sent it (a client IP
// or "operator"). An error wraps ErrNotARF or ErrTooLarge; a report that
// parses but matches no tenant is an Outcome with Counted false.
func (rv *Receiver) Receive(ctx context.Context, r io.Reader, via, source string) (Outcome, error) {
	max := rv.MaxBytes
	if max <= 0 {
		max = 1 << 20
	}
	raw, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return Outcome{}, fmt.Errorf("feedback: read report: %w", err)
	}
	if int64(len(raw)) > max {
		return Outcome{}, fmt.Errorf("%w: over %d bytes", ErrTooLarge, max)
	}
	rep, err := ParseARF(bytes.NewReader(raw))
	if err != nil {
		rv.log().Info("feedback address got mail that is not an ARF report", "via", via, "source", source, "err", err)
		rv.record(ctx, "reject", Outcome{Reason: err.Error()}, nil, via, source)
		return Outcome{}, err
	}
	out := rv.match(ctx, rep)
	if out.TenantID != 0 && rep.FeedbackType == "abuse" {
		if err := rv.Source.AddComplaint(ctx, out.TenantID); err != nil {
			return Outcome{}, err
		}
		out.Counted = true
		out.Reason = "complaint counted for tenant " + fmt.Sprint(out.TenantID) + " (matched by " + out.MatchedBy + ")"
		if rv.OnComplaint != nil && out.Recipient != "" {
			rv.OnComplaint(ctx, out.TenantID, out.QueueID, out.Recipient, "ARF abuse report via "+via)
		}
	}
	outcome := "ok"
	if out.Counted {
		outcome = "fail" // bad news for the tenant: shown beside its refusals
	}
	rv.record(ctx, outcome, out, rep, via, source)
	rv.log().Info("feedback report", "via", via, "source", source, "type", rep.FeedbackType, "tenant_id", out.TenantID,
		"counted", out.Counted, "reason", out.Reason)
	return out, nil
}

// match finds the tenant: by Tollgate's Feedback-ID in the original
// (written at spool time, above anything the client wrote), else by the
// original's Message-ID in the trace.
func (rv *Receiver) match(ctx context.Context, rep *Report) Outcome {
	out := Outcome{FeedbackType: rep.FeedbackType, Recipient: rep.Recipient()}
	if rep.HasFeedbackID {
		id := rep.FeedbackID.TenantID
		if rv.Signer != nil && !rv.Signer.Verify(rep.FeedbackID) {
			out.Reason = fmt.Sprintf("Feedback-ID %s does not carry this installation's tag (forged, or from another installation): nothing counted", rep.FeedbackID)
			return out
		}
		if rv.TenantExists != nil && !rv.TenantExists(ctx, id) {
			out.Reason = fmt.Sprintf("Feedback-ID %s names no tenant of this gateway", rep.FeedbackID)
			return out
		}
		out.TenantID, out.MatchedBy = id, "feedback-id"
		if rep.MessageID != "" && rv.FindMessage != nil {
			if found := rv.FindMessage(ctx, id, rep.MessageID); len(found) > 0 {
				out.QueueID = found[0].QueueID
			}
		}
	} else if rep.MessageID != "" && rv.FindMessage != nil {
		if why := rv.matchMessageID(ctx, rep, &out); why != "" {
			out.Reason = why
			return out
		}
	}
	switch {
	case out.TenantID == 0:
		out.Reason = "no Tollgate Feedback-ID in the original, and its Message-ID is not in the trace: nothing counted"
	case rep.FeedbackType != "abuse":
		out.Reason = "feedback type " + rep.FeedbackType + " is not a complaint: nothing counted"
	}
	return out
}

// matchMessageID attributes a report without our Feedback-ID by its
// original's Message-ID, which the sender chose and anyone may copy. It
// counts only when the Message-ID names the relayed mail of exactly one
// tenant (a Message-ID two tenants used says nothing about either: one may
// have copied the other's to push it towards a pause) and the report's
// recipient is one the trace saw that message go to (a made-up report from
// someone who only read the Message-ID, in a list archive say, names no
// recipient of it). It returns why nothing matched, or "".
func (rv *Receiver) matchMessageID(ctx context.Context, rep *Report, out *Outcome) string {
	found := rv.FindMessage(ctx, 0, rep.MessageID)
	var tenant int64
	for _, m := range found {
		if m.TenantID == 0 {
			continue
		}
		if tenant != 0 && m.TenantID != tenant {
			return "no Tollgate Feedback-ID in the original, and its Message-ID was used by more than one tenant: nothing counted"
		}
		tenant = m.TenantID
	}
	if tenant == 0 {
		return ""
	}
	rcpt := strings.ToLower(strings.TrimSpace(rep.Recipient()))
	if rcpt == "" {
		return "no Tollgate Feedback-ID in the original, and the report names no recipient to check its Message-ID against: nothing counted"
	}
	for _, m := range found {
		for _, r := range m.Recipients {
			if m.TenantID == tenant && strings.EqualFold(r, rcpt) {
				out.TenantID, out.MatchedBy, out.QueueID = tenant, "message-id", m.QueueID
				return ""
			}
		}
	}
	return "no Tollgate Feedback-ID in the original, and the message its Message-ID names was not sent to the reported recipient: nothing counted"
}

func (rv *Receiver) record(ctx context.Context, outcome string, out Outcome, rep *Report, via, source string) {
	if rv.Trace == nil {
		return
	}
	e := trace.Event{Time: time.Now(), QueueID: out.QueueID, TenantID: out.TenantID, Stage: "complaint",
		Outcome: outcome, Rule: "feedback", Detail: out.Reason,
		Attrs: []slog.Attr{slog.String("via", via), slog.String("source", source)}}
	if rep != nil {
		e.Attrs = append(e.Attrs, slog.String("feedback_type", rep.FeedbackType), slog.String("matched_by", out.MatchedBy),
			slog.String("message_id", rep.MessageID), slog.String("arrival_date", rep.ArrivalDate),
			slog.String("source_ip", rep.SourceIP), slog.String("user_agent", rep.UserAgent),
			slog.String("original_mail_from", rep.OriginalMailFrom))
		if rep.HasFeedbackID {
			e.Attrs = append(e.Attrs, slog.String("feedback_id", rep.FeedbackID.String()))
		}
		if r := rep.Recipient(); r != "" {
			e.Attrs = append(e.Attrs, slog.String("rcpt", r))
		}
	}
	rv.Trace.Record(ctx, e)
}
