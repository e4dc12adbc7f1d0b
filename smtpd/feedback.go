package smtpd

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/feedback"
	"github.com/tollgate-mail/tollgate/policy"
)

// The feedback address takes ARF reports from mailbox providers' feedback
// loops on the relay port, from anyone, unattributed: it is the one
// recipient Tollgate accepts without a tenant, and it is never relayed. A
// transaction to it carries only it: any other recipient of an
// unattributed client is still refused with 5.7.64 (never an open relay),
// and an attributed client is told to send the report on its own.

var (
	errFeedbackAlone = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 5, 3},
		Message: "Too many recipients: a feedback report travels alone; send the other recipients in another transaction"}
	errFeedbackRate = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "Too many feedback reports from this address; try again later"}
	errFeedbackSize = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
		Message: "Maximum message size exceeded: feedback reports are limited to feedback.max_report_bytes"}
)

// isFeedback reports whether rcpt is the feedback address on this listener.
func (s *session) isFeedback(rcpt string) bool {
	return s.env.Listener == Relay && s.srv.opts.Feedback.IsAddress(rcpt)
}

// feedbackRcpt takes RCPT TO the feedback address.
func (s *session) feedbackRcpt(to string) error {
	switch {
	case s.feedback:
		return nil // the same address twice: one report
	case len(s.rcpts) > 0:
		s.record("rcpt", "defer", "feedback", "452 4.5.3 feedback address after other recipients", "rcpt", to)
		return s.refuse("rcpt", errFeedbackAlone)
	case !s.srv.opts.Feedback.Allow(s.ctx, s.env.ClientIP):
		s.record("rcpt", "defer", "feedback", "451 4.7.0 too many feedback reports", "rcpt", to)
		return s.refuse("rcpt", errFeedbackRate)
	}
	s.feedback = true
	s.record("rcpt", "accept", "feedback", "", "rcpt", to)
	return nil
}

// otherRcptAfterFeedback answers a recipient that follows the feedback
// address in one transaction: the chain's own refusal (5.7.64) for an
// unattributed client, 4.5.3 for a tenant's.
func (s *session) otherRcptAfterFeedback(to string) error {
	if !s.env.Attributed() {
		d := s.srv.opts.Policy.Rcpt(s.ctx, &s.env, to)
		if d.Action == policy.Accept { // no chain would: refuse anyway
			d = policy.RelayDenied
		}
		s.decided("rcpt", d, "rcpt", to)
		return s.refuseDecision("rcpt", d)
	}
	s.record("rcpt", "defer", "feedback", "452 4.5.3 recipient after the feedback address", "rcpt", to)
	return s.refuse("rcpt", errFeedbackAlone)
}

// feedbackData reads the report, counts it and answers. A report that
// matches no tenant, or mail that is no report at all (a feedback loop's
// sign-up confirmation), still gets 250: it is logged and traced, and a
// refusal would only make the provider's system retry or bounce.
func (s *session) feedbackData(r io.Reader) error {
	lim := s.srv.opts.Limits
	in := &rateReader{r: r, conn: s.conn.Conn(), start: time.Now(), idle: lim.DataTimeout.Duration,
		minRate: int64(lim.MinDataRate), grace: lim.DataRateGrace.Duration}
	out, err := s.srv.opts.Feedback.Receive(s.ctx, in, "smtp", s.env.ClientIP.String())
	switch {
	case errors.Is(err, feedback.ErrTooLarge):
		s.record("data", "reject", "feedback", "552 5.3.4 feedback report too large")
		return s.refuse("data", errFeedbackSize)
	case errors.Is(err, feedback.ErrNotARF):
		s.record("data", "accept", "feedback", err.Error())
		return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "OK: not an ARF feedback report; logged, nothing counted"}
	case err != nil:
		s.log.Error("feedback report not processed", "err", err)
		return s.refuse("data", errLocal)
	}
	s.record("data", "accept", "feedback", out.Reason, "tenant", fmt.Sprint(out.TenantID), "counted", fmt.Sprint(out.Counted))
	msg := "OK: feedback report received; nothing counted"
	if out.Counted {
		msg = "OK: feedback report received; complaint counted"
	}
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: msg}
}
