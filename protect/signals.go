package protect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/policy"
)

// Evidence windows and sets. The baseline is 7 days; a recipient (or
// domain) the tenant mailed in the last 90 days is known.
const (
	baselineWindow = 7 * 24 * time.Hour
	knownTTL       = 90 * 24 * time.Hour
	maxRecipients  = 50000 // per tenant: the least recently mailed leave first
	maxDomains     = 10000
	feedbackTTL    = 30 * time.Second // how long a tenant's feedback is reused on this node
	feedbackWait   = 200 * time.Millisecond
)

// evidence is what one decision read, beyond the message's own verdict.
// Counts are the tenant's within the tenant window unless named otherwise;
// "counted" mail is what counts towards the threshold.
type evidence struct {
	total, counted     int64 // messages, counted messages
	rcpts, newRcpts    int64 // all mail's recipients, those never mailed before
	domains, newDoms   int64 // all mail's recipient domains, new ones
	cRcpts, cNew       int64 // the counted mail's recipients, new ones
	prior, priorCount  int64 // the 7-day baseline before this window: messages, counted
	priorCR, priorCNew int64 // the baseline's counted recipients, new ones
	campaignNew        int64 // new recipients of this content in the window
	credSpam           int64 // the credential's counted messages in the hour
	credCR, credCNew   int64 // the credential's counted recipients, new ones
	hasCampaign        bool
	fb                 feedbackState
}

func share(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (x evidence) ratio() float64       { return share(x.counted, x.total) }
func (x evidence) novelty() float64     { return share(x.cNew, x.cRcpts) }
func (x evidence) credNovelty() float64 { return share(x.credCNew, x.credCR) }
func (x evidence) baselineShare() float64 {
	return share(x.priorCount, x.prior)
}
func (x evidence) baselineNovelty() float64 { return share(x.priorCNew, x.priorCR) }

// established: the baseline rests on enough mail to compare against.
func (x evidence) established(set policy.Settings) bool { return x.prior >= set.BaselineMinMessages }

// departs: the window's counted share or its counted mail's novelty rose
// above the baseline's by the departure margin.
func (x evidence) departs(set policy.Settings) bool {
	return x.ratio()-x.baselineShare() >= set.BaselineDeparture ||
		x.novelty()-x.baselineNovelty() >= set.BaselineDeparture
}

func (x evidence) campaign(set policy.Settings) bool {
	return x.hasCampaign && x.campaignNew >= set.CampaignNewRecipients
}

// suspicious is the evidence a block (or, with cred, a restriction of the
// credential) needs beyond the verdicts: a sign the mail is unwanted —
// sent to strangers, a campaign spreading to new recipients, or feedback
// at the review rate — and, for an established tenant, a departure from
// its baseline. A brand-new tenant has no baseline: novelty alone (its
// mail goes to strangers) lets the verdicts stop it, as before.
func (x evidence) suspicious(set policy.Settings, cred bool) bool {
	novel := x.novelty() >= set.NoveltyRatio
	if cred {
		novel = x.credNovelty() >= set.NoveltyRatio
	}
	unwanted := novel || x.campaign(set) || x.fb.unwanted()
	return unwanted && (!x.established(set) || x.departs(set) || x.fb.unwanted())
}

// gather records this message's recipients and counts in one step (one
// Redis round trip) and returns what the decision reads. The read-only
// ops in reads (the tenant's delivery feedback) run in the same step;
// their totals are returned in order.
func (e *Engine) gather(ctx context.Context, env *policy.Envelope, msg *policy.Message, set policy.Settings, counted bool,
	kind, subject string, fb feedbackState, reads []counters.Op, now time.Time) (evidence, []int64, error) {
	id := env.TenantID
	epoch := e.tenantEpoch(id)
	rcpts, doms := hashedRecipients(env.Rcpts)
	n := int64(len(rcpts))
	sets := []counters.SetOp{
		{Key: tenantKey(id, "known-rcpts"), Members: rcpts, TTL: knownTTL, Max: maxRecipients},
		{Key: tenantKey(id, "known-domains"), Members: doms, TTL: knownTTL, Max: maxDomains},
	}
	var one, cn, cNew int64
	if counted {
		one, cn, cNew = 1, n, 1 // cNew: PlusNew of the recipient set
	}
	w := set.TenantWindow
	key := func(what string) string { return tenantKey(id, what+epoch) }
	ops := []counters.Op{
		{Key: key("verdicts"), N: 1, Window: w},
		{Key: key("spambulk"), N: one, Window: w},
		{Key: key("rcpts"), N: n, Window: w},
		{Key: key("new-rcpts"), PlusNew: 1, Window: w},
		{Key: key("domains"), N: int64(len(doms)), Window: w},
		{Key: key("new-domains"), PlusNew: 2, Window: w},
		{Key: key("counted-rcpts"), N: cn, Window: w},
		{Key: key("counted-new"), PlusNew: int(cNew), Window: w},
		{Key: key("msgs7d"), N: 1, Window: baselineWindow},
		{Key: key("counted7d"), N: one, Window: baselineWindow},
		{Key: key("counted-rcpts7d"), N: cn, Window: baselineWindow},
		{Key: key("counted-new7d"), PlusNew: int(cNew), Window: baselineWindow},
	}
	camp := -1
	if band := campaignBand(msg.Verdict.Fingerprint); band != "" && counted {
		camp = len(ops)
		ops = append(ops, counters.Op{Key: key("campaign:" + band), PlusNew: 1, Window: w})
	}
	cred := -1
	if counted && set.UserSpamPerHour > 0 {
		cred = len(ops)
		ck := "cred:" + strconv.FormatInt(id, 10) + ":" + kind + ":" + subject + ":"
		ce := epoch + e.restrictionEpoch(id, kind, subject, now)
		ops = append(ops, counters.Op{Key: ck + "spam1h" + ce, N: 1, Window: hour},
			counters.Op{Key: ck + "rcpts1h" + ce, N: n, Window: hour},
			counters.Op{Key: ck + "new1h" + ce, PlusNew: 1, Window: hour})
	}
	from := len(ops)
	ops = append(ops, reads...)
	r, err := counters.Record(ctx, e.Counters, sets, ops, now)
	if err != nil {
		return evidence{}, nil, err
	}
	t := r.Totals
	x := evidence{total: t[0], counted: t[1], rcpts: t[2], newRcpts: t[3], domains: t[4], newDoms: t[5],
		cRcpts: t[6], cNew: t[7], fb: fb}
	// The baseline is the 7 days before this window (the two windows'
	// buckets differ, so the difference is approximate; never negative).
	x.prior, x.priorCount = max(t[8]-t[0], 0), max(t[9]-t[1], 0)
	x.priorCR, x.priorCNew = max(t[10]-t[6], 0), max(t[11]-t[7], 0)
	if camp >= 0 {
		x.hasCampaign, x.campaignNew = true, t[camp]
	}
	if cred >= 0 {
		x.credSpam, x.credCR, x.credCNew = t[cred], t[cred+1], t[cred+2]
	}
	return x, t[from:], nil
}

// hashedRecipients are the message's distinct recipients and recipient
// domains, hashed: the sets remember whom a tenant mails without keeping
// addresses in the counter store.
func hashedRecipients(rcpts []string) (addrs, domains []string) {
	seenA, seenD := map[string]bool{}, map[string]bool{}
	for _, r := range rcpts {
		a := hashMember(strings.ToLower(r))
		if !seenA[a] {
			seenA[a] = true
			addrs = append(addrs, a)
		}
		if d := domainOf(r); d != "" {
			h := hashMember("@" + d)
			if !seenD[h] {
				seenD[h] = true
				domains = append(domains, h)
			}
		}
	}
	return addrs, domains
}

func hashMember(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func pct(v float64) string { return fmt.Sprintf("%.3f", v) }

// figures are the evidence as the trace and the refusal show it.
func (x evidence) figures(set policy.Settings) []policy.Figure {
	out := []policy.Figure{
		fig("recipients", x.rcpts), fig("new_recipients", x.newRcpts), fig("recipient_domains", x.domains), fig("new_domains", x.newDoms),
		fig("counted_recipients", x.cRcpts), fig("counted_new_recipients", x.cNew), figs("novelty", pct(x.novelty())),
		figs("novelty_threshold", pct(set.NoveltyRatio)),
		fig("baseline_messages_7d", x.prior), figs("baseline_share", pct(x.baselineShare())), figs("baseline_novelty", pct(x.baselineNovelty())),
		figs("established", strconv.FormatBool(x.established(set))), figs("departs", strconv.FormatBool(x.departs(set))),
	}
	if x.hasCampaign {
		out = append(out, fig("campaign_new_recipients", x.campaignNew), fig("campaign_threshold", set.CampaignNewRecipients))
	}
	return append(out, x.fb.figures()...)
}

func (x evidence) credFigures(set policy.Settings) []policy.Figure {
	return []policy.Figure{fig("credential_recipients_1h", x.credCR), fig("credential_new_recipients_1h", x.credCNew),
		figs("credential_novelty", pct(x.credNovelty()))}
}

// signals are the evidence as a block records it: each piece with its
// figures and whether it pointed to abuse.
func (x evidence) signals(set policy.Settings) []blocks.Signal {
	out := []blocks.Signal{
		{Name: "verdicts", Met: x.counted >= set.TenantSpamCount && x.ratio() >= set.TenantSpamRatio,
			Note:    "spam (and bulk, if it counts) in the tenant window",
			Figures: []policy.Figure{fig("counted", x.counted), fig("messages", x.total), figs("ratio", pct(x.ratio()))}},
		{Name: "recipient-novelty", Met: x.novelty() >= set.NoveltyRatio,
			Note: "share of the counted mail's recipients the tenant never mailed before",
			Figures: []policy.Figure{fig("counted_recipients", x.cRcpts), fig("new", x.cNew), figs("novelty", pct(x.novelty())),
				figs("threshold", pct(set.NoveltyRatio)), fig("all_recipients", x.rcpts), fig("all_new", x.newRcpts),
				fig("domains", x.domains), fig("new_domains", x.newDoms)}},
		{Name: "baseline", Met: !x.established(set) || x.departs(set),
			Note: "the tenant's past 7 days: a departure is needed once it has a baseline",
			Figures: []policy.Figure{fig("messages_7d", x.prior), fig("min_messages", set.BaselineMinMessages),
				figs("share", pct(x.baselineShare())), figs("novelty", pct(x.baselineNovelty())),
				figs("departure_needed", pct(set.BaselineDeparture)), figs("established", strconv.FormatBool(x.established(set)))}},
	}
	if x.hasCampaign {
		out = append(out, blocks.Signal{Name: "campaign-spread", Met: x.campaign(set), Note: "the same content to new recipients in the window",
			Figures: []policy.Figure{fig("new_recipients", x.campaignNew), fig("threshold", set.CampaignNewRecipients)}})
	}
	return append(out, blocks.Signal{Name: "delivery-feedback", Met: x.fb.unwanted(), Note: "what the next hops said: bounces, spam refusals, complaints",
		Figures: x.fb.figures()})
}

// feedbackState is a tenant's delivery feedback as judged.
type feedbackState struct {
	known bool
	f     policy.Feedback
	level string
}

func (s feedbackState) unwanted() bool {
	return s.level == policy.FeedbackReview || s.level == policy.FeedbackPause
}

func (s feedbackState) figures() []policy.Figure {
	if !s.known {
		return []policy.Figure{figs("feedback", "none")}
	}
	return []policy.Figure{figs("feedback", s.level), figs("feedback_window", s.f.Window.String()), fig("delivered", s.f.Delivered),
		fig("hard_bounces", s.f.HardBounces), fig("spam_refusals", s.f.SpamRefusals), fig("deferrals", s.f.Deferrals),
		fig("complaints", s.f.Complaints), figs("bounce_rate", fmt.Sprintf("%.4f", s.f.BounceRate())),
		figs("complaint_rate", fmt.Sprintf("%.4f", s.f.ComplaintRate()))}
}

// feedbackCache keeps each tenant's feedback on this node for a short
// while: the source is asked at most every feedbackTTL per tenant.
type feedbackCache struct {
	mu sync.Mutex
	m  map[int64]feedbackEntry
}

type feedbackEntry struct {
	at    time.Time
	f     policy.Feedback
	ok    bool
	level string
}

// CountedFeedback is a feedback source kept in counters (feedback.Source
// is one). When its counters are the engine's own, a decision whose count
// does not hang on the feedback reads it in the same step as it records
// its evidence: one Redis round trip for both instead of two.
type CountedFeedback interface {
	policy.FeedbackSource
	// Counter is the store the feedback is kept in.
	Counter() counters.Counter
	// Reads are the read-only ops whose totals FromTotals turns into the
	// tenant's feedback.
	Reads(tenantID int64) []counters.Op
	FromTotals(totals []int64) policy.Feedback
}

// counted is the engine's feedback source when it can be read with the
// decision's own counter step; nil otherwise.
func (e *Engine) countedFeedback() CountedFeedback {
	cf, ok := e.Feedback.(CountedFeedback)
	if !ok || cf.Counter() != e.Counters {
		return nil
	}
	if _, ok := e.Counters.(counters.Recorder); !ok {
		return nil
	}
	return cf
}

// cachedFeedback is the tenant's feedback as this node last read it, and
// whether it must be read again (never read, or older than feedbackTTL).
func (e *Engine) cachedFeedback(tenantID int64, now time.Time) (feedbackState, bool) {
	if e.Feedback == nil {
		return feedbackState{}, false
	}
	e.fbCache.mu.Lock()
	ent, hit := e.fbCache.m[tenantID]
	e.fbCache.mu.Unlock()
	if !hit || now.Sub(ent.at) >= feedbackTTL || now.Before(ent.at) {
		return feedbackState{}, true
	}
	return ent.state(), false
}

func (ent feedbackEntry) state() feedbackState {
	if !ent.ok {
		return feedbackState{}
	}
	return feedbackState{known: true, f: ent.f, level: ent.level}
}

// feedback reads the tenant's delivery feedback from the source on its
// own (within feedbackWait) and notes it; unknown when the source fails.
func (e *Engine) feedback(ctx context.Context, env *policy.Envelope, set policy.Settings, now time.Time) feedbackState {
	cctx, cancel := context.WithTimeout(ctx, feedbackWait)
	f, err := e.Feedback.TenantFeedback(cctx, env.TenantID)
	cancel()
	return e.noteFeedback(env, set, f, err, now)
}

// noteFeedback judges a fresh read of the tenant's feedback against its
// settings and caches it for feedbackTTL; a failed read (err) is logged
// and decides without feedback. Reaching the review rate alerts the
// admins (once per dedupe window).
func (e *Engine) noteFeedback(env *policy.Envelope, set policy.Settings, f policy.Feedback, err error, now time.Time) feedbackState {
	ent := feedbackEntry{at: now, f: f, ok: err == nil}
	if err != nil {
		e.log().Warn("protect: delivery feedback unavailable; deciding without it", "tenant", env.TenantID, "err", err)
	} else {
		ent.level = set.FeedbackLevel(f)
	}
	e.fbCache.mu.Lock()
	if e.fbCache.m == nil {
		e.fbCache.m = map[int64]feedbackEntry{}
	}
	e.fbCache.m[env.TenantID] = ent
	e.fbCache.mu.Unlock()
	st := ent.state()
	if ent.level == policy.FeedbackReview {
		e.alert(Alert{Kind: AlertLimitExceeded, TenantID: env.TenantID, Tenant: env.Tenant, Subject: "delivery feedback", Ref: "feedback-review",
			Text:    "The tenant's bounce or complaint rate reached the review rate: its bulk mail now counts towards the tenant threshold, and at the pause rate the tenant is blocked.",
			Figures: st.figures()})
	}
	return st
}
