package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/trace"
)

// tenantFeedback is the tenant's feedback, or nil when the server counts
// none or the counters cannot be read (logged: the status is still worth
// showing without it).
func (s *Server) tenantFeedback(r *http.Request, tenantID int64, set policy.Settings) *client.Feedback {
	if s.opts.Feedback == nil || s.opts.Feedback.Source == nil {
		return nil
	}
	f, err := s.opts.Feedback.Source.TenantFeedback(r.Context(), tenantID)
	if err != nil {
		s.opts.Logger.Warn("api: tenant feedback unavailable", "tenant", tenantID, "err", err)
		return nil
	}
	return &client.Feedback{Window: f.Window.String(), Delivered: f.Delivered, HardBounces: f.HardBounces,
		SpamRefusals: f.SpamRefusals, Deferrals: f.Deferrals, Complaints: f.Complaints,
		BounceRate: f.BounceRate(), ComplaintRate: f.ComplaintRate(), Level: set.FeedbackLevel(f)}
}

// toSettings is policy.Settings with the config file's key names.
func toSettings(s policy.Settings, seats int) client.Settings {
	return client.Settings{
		TenantWindow:          s.TenantWindow.String(),
		TenantSpamCount:       s.TenantSpamCount,
		TenantSpamRatio:       s.TenantSpamRatio,
		UnregisteredPerDay:    s.UnregisteredPerDay,
		DSNPerDay:             s.DSNPerDay,
		UserMessagesPerMinute: s.UserMessagesPerMinute,
		UserRecipientsPerDay:  s.UserRecipientsPerDay,
		RecipientsPerMessage:  s.RecipientsPerMessage,
		TenantExternalPerDay:  s.ExternalPerDay(seats),
		UserExternalPerHour:   s.UserExternalPerHour,
		UserInternalPerHour:   s.UserInternalPerHour,
		UserDailyRecipients:   s.UserDailyRecipients,
		UserSpamPerHour:       s.UserSpamPerHour,
		RestrictAction:        s.RestrictAction,
		SuppressionAction:     s.SuppressionAction,
		ProbationQuota:        s.ProbationQuota,
		ProbationDays:         s.ProbationDays,
		ConnectorIPv4:         s.ConnectorIPv4Addresses,
		ConnectorIPv6Nets64:   s.ConnectorIPv6Nets64,
		BulkCounts:            s.BulkCounts,
		BaselineMinMessages:   s.BaselineMinMessages,
		BaselineDeparture:     s.BaselineDeparture,
		NoveltyRatio:          s.NoveltyRatio,
		CampaignNewRecipients: s.CampaignNewRecipients,
		FeedbackMinVolume:     s.FeedbackMinVolume,
		BounceReviewRate:      s.BounceReviewRate,
		BouncePauseRate:       s.BouncePauseRate,
		ComplaintReviewRate:   s.ComplaintReviewRate,
		ComplaintPauseRate:    s.ComplaintPauseRate,
	}
}

// protection reports whether the protection state is wired in; the API can
// run without it (older tests, tools).
func (s *Server) protection(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.Blocks == nil {
		s.fail(w, r, &apiError{Status: http.StatusNotImplemented, Code: "not_available", Message: "protection state is not available on this server"})
		return false
	}
	return true
}

func (s *Server) settingsFor(tenantID int64) policy.Settings {
	return s.opts.Blocks.Overrides(tenantID).Apply(s.opts.Policy)
}

func (s *Server) tenantStatus(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok || !s.protection(w, r) {
		return
	}
	now := time.Now()
	set := s.settingsFor(t.ID)
	st := client.TenantStatus{Tenant: toTenant(t), State: "sending", Settings: toSettings(set, t.Seats), Feedback: s.tenantFeedback(r, t.ID, set)}
	if t.LicenseAt(now) == directory.Expired {
		st.State, st.Reason = "expired", "the subscription expired: all outbound mail is refused with 550 5.7.705 until it is renewed"
	}
	if b, ok := s.opts.Blocks.ActiveBlock(t.ID); ok {
		bj := toBlock(b)
		st.State, st.Block = "blocked", &bj
		st.Reason = "the tenant crossed its spam threshold: all outbound mail is refused with 550 5.7.705 until an operator approves an unblock request"
		if b.Reason == blocks.ReasonOperator {
			st.Reason = "an operator blocked the tenant: all outbound mail is refused with 550 5.7.705"
		}
	} else if q, on := s.opts.Blocks.Probation(t.ID, now); on && st.State == "sending" {
		st.State, st.ProbationQuota = "probation", q
		st.Reason = fmt.Sprintf("released from a block: at most %d messages per 24 hours until the probation ends", q)
	}
	rs, err := s.opts.Blocks.Restrictions(r.Context(), t.ID, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st.Restrictions = toRestrictions(rs)
	days, err := s.opts.Blocks.Stats(r.Context(), t.ID, 1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	today := days[0]
	if s.opts.Trace != nil {
		c, err := s.opts.Trace.Counts(r.Context(), t.ID, today.Day, today.Day.Add(24*time.Hour))
		if err != nil && !errors.Is(err, trace.ErrTruncated) {
			s.fail(w, r, err)
			return
		}
		today.Refused = c.Refused
		st.TraceToday = &client.TraceCounts{Accepted: c.Accepted, Refused: c.Refused, Deferred: c.Deferred, Senders: c.Senders}
	}
	st.Today = toDay(today)
	if today.Messages > 0 {
		st.SpamRatio = float64(today.SpamBulk()) / float64(today.Messages)
	}
	if reqs, err := s.opts.Blocks.UnblockRequests(r.Context(), t.ID, blocks.StatusPending); err == nil && len(reqs) > 0 {
		u := toUnblockRequest(reqs[0])
		st.PendingRequest = &u
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) tenantStats(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok || !s.protection(w, r) {
		return
	}
	days := 14
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 366 {
			s.fail(w, r, badField("days", "%q is not a number of days in 1..366", v))
			return
		}
		days = n
	}
	st, err := s.opts.Blocks.Stats(r.Context(), t.ID, days)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.refusedFromTrace(r, t.ID, st); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"days": toDays(st)})
}

// refusedFromTrace sets each day's refused figure to the refused
// transactions the trace holds for it, so the daily table agrees with the
// trace page (days past the trace's retention have none to count).
func (s *Server) refusedFromTrace(r *http.Request, tenantID int64, days []blocks.DayStats) error {
	if s.opts.Trace == nil {
		return nil
	}
	for i := range days {
		c, err := s.opts.Trace.Counts(r.Context(), tenantID, days[i].Day, days[i].Day.Add(24*time.Hour))
		if err != nil && !errors.Is(err, trace.ErrTruncated) {
			return err
		}
		days[i].Refused = c.Refused
	}
	return nil
}

func (s *Server) listBlocks(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok || !s.protection(w, r) {
		return
	}
	bs, err := s.opts.Blocks.Blocks(r.Context(), t.ID)
	pageList(s, w, r, "blocks", bs, err, func(b blocks.Block) client.Block {
		j := toBlock(b)
		j.Tenant = t.Name
		return j
	}, blockList)
}

// blockTenant lets an operator block a tenant by hand (a report from
// outside, a compromise seen elsewhere).
func (s *Server) blockTenant(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok || !s.protection(w, r) {
		return
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Reason == "" {
		s.fail(w, r, badField("reason", "is required: say why the tenant is blocked"))
		return
	}
	b, created, err := s.opts.Blocks.BlockTenant(r.Context(), blocks.Block{TenantID: t.ID, Reason: blocks.ReasonOperator,
		Rule: "operator", Figures: []policy.Figure{{Name: "note", Value: req.Reason}}}, principalOf(r.Context()).Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !created {
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "conflict", Message: fmt.Sprintf("tenant %d is already blocked (block %d)", t.ID, b.ID)})
		return
	}
	writeJSON(w, http.StatusCreated, toBlock(b))
}

// unblockTenant lets an operator lift a block directly, without an unblock
// request: a manual block without probation, a threshold block on the
// tenant's probation. The note is required and audited.
func (s *Server) unblockTenant(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok || !s.protection(w, r) {
		return
	}
	var req struct {
		Note string `json:"note"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Note == "" {
		s.fail(w, r, badField("note", "is required: say why the block is lifted (it goes to the audit log)"))
		return
	}
	set := s.settingsFor(t.ID)
	b, err := s.opts.Blocks.Unblock(r.Context(), t.ID, req.Note, principalOf(r.Context()).Name, set.ProbationQuota, set.ProbationDays)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toBlock(b))
}

func (s *Server) listRestrictions(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok || !s.protection(w, r) {
		return
	}
	rs, err := s.opts.Blocks.Restrictions(r.Context(), t.ID, r.URL.Query().Get("all") == "true")
	listOrFail(s, w, r, "restrictions", rs, err, toRestriction)
}

// releaseRestriction lets a tenant admin send again through a restricted
// sender, app password or connector: at once, not after a day.
func (s *Server) releaseRestriction(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok || !s.protection(w, r) {
		return
	}
	id, err := pathID(r, "restriction", "a restriction id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.opts.Blocks.Release(r.Context(), t.ID, id, principalOf(r.Context()).Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRestriction(out))
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok || !s.protection(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"overrides": s.opts.Blocks.Overrides(t.ID),
		"effective": toSettings(s.settingsFor(t.ID), t.Seats)})
}

// setPolicy replaces a tenant's overrides (operators). The body is the
// overrides object: keys as in the config file's [policy] section.
func (s *Server) setPolicy(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tenant(w, r)
	if !ok || !s.protection(w, r) {
		return
	}
	var o policy.Overrides
	if err := decode(w, r, &o); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := o.Apply(s.opts.Policy).Validate(); err != nil {
		s.fail(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: err.Error()})
		return
	}
	if err := s.opts.Blocks.SetOverrides(r.Context(), t.ID, o, principalOf(r.Context()).Name); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"overrides": o, "effective": toSettings(s.settingsFor(t.ID), t.Seats)})
}

func (s *Server) getDefaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, toSettings(s.opts.Policy, 0))
}
