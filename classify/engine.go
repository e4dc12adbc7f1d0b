package classify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// maxReasons is how many token and rule reasons a result carries.
const maxReasons = 10

// Engine is the built-in classifier: MIME parsing, a trained linear model,
// fixed rules, bulk level and campaign counts. It is safe for concurrent use.
type Engine struct {
	model     *Model
	opts      Options
	threshold float64
	pool      sync.Pool // *scorer
	adjuster  TokenAdjuster
	lastWarn  atomic.Int64
}

// New returns an engine scoring with m.
func New(m *Model, opts Options) (*Engine, error) {
	if m == nil || len(m.Weights) != 1<<m.Meta.Bits {
		return nil, errors.New("classify: model has no weights")
	}
	if m.Meta.FeatureVersion != FeatureVersion {
		return nil, fmt.Errorf("classify: model is for features version %d, this build extracts %d: retrain it", m.Meta.FeatureVersion, FeatureVersion)
	}
	e := &Engine{model: m, opts: opts.withDefaults(), threshold: m.Meta.Threshold}
	e.adjuster, _ = opts.Corrections.(TokenAdjuster)
	if opts.SpamThreshold != 0 {
		e.threshold = opts.SpamThreshold
	}
	e.pool.New = func() any {
		return &scorer{weights: m.Weights, mask: uint32(len(m.Weights) - 1), seen: make(map[uint32]struct{}, 512)}
	}
	return e, nil
}

// Model is the engine's model (read-only).
func (e *Engine) Model() *Model { return e.model }

// Threshold is the score from which the engine says spam.
func (e *Engine) Threshold() float64 { return e.threshold }

// Classify parses and scores one message. It fails only on empty input or a
// cancelled context; a malformed or hostile message gets a verdict with the
// reasons saying what was wrong.
func (e *Engine) Classify(ctx context.Context, in Input) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("classify: %w", err)
	}
	if len(in.Raw) == 0 {
		return Result{}, errors.New("classify: empty message")
	}
	s := e.pool.Get().(*scorer)
	defer e.pool.Put(s)
	s.reset()
	if e.adjuster != nil && in.Tenant != "" {
		s.adj = e.adjuster.TokenAdjustments(in.Tenant)
	}
	d := &s.doc
	d.parse(in.Raw, e.opts.Caps)
	s.scratch = d.extract(s, s.scratch)

	meta := &e.model.Meta
	score := meta.Bias + min(max(s.pos+s.neg, -meta.TokenFloor), meta.TokenCap) + s.rules
	fixed, reasons := fixedRules(d)
	score += fixed
	reasons = append(reasons, s.reasons()...)
	if s.adjN > 0 {
		// Bounded, so a tenant's marks tune its verdicts without
		// switching the filter off (see AdjustHamMax).
		adj := min(max(s.adjSum, -AdjustHamMax), AdjustSpamMax)
		if adj < 0 && meta.Bias+fixed >= e.threshold && score >= e.threshold {
			// The fixed rules alone make it spam (an executable
			// attachment, a link showing another host and a shortener):
			// no tenant's words outvote them.
			adj = max(adj, e.threshold-score)
		}
		score += adj
		reasons = append(reasons, Reason{adjustReason(s.adjN), adj})
	}
	// The bounds on the words are reasons too, so the reasons still add up
	// to the score (less the bias) and an admin sees the words were capped.
	// The bounds are on the words' net sum: bounding each side instead let
	// the ordinary words of a long spam outvote its overwhelming spam words.
	if net := s.pos + s.neg; net > meta.TokenCap {
		reasons = append(reasons, Reason{"WORDS_CAPPED (spam-side words bounded)", meta.TokenCap - net})
	} else if net < -meta.TokenFloor {
		reasons = append(reasons, Reason{"WORDS_CAPPED (ham-side words bounded)", -meta.TokenFloor - net})
	}

	res := Result{Engine: "builtin", Tokens: s.tokens()}
	campaign := false
	bands := d.fp.bands()
	if bands != nil {
		res.Fingerprint = joinBands(bands)
		if e.opts.Campaigns != nil && in.Tenant != "" {
			n, err := campaignCount(ctx, e.opts.Campaigns, in.Tenant, bands, in.Recipients, e.opts.CampaignWindow, e.opts.Now())
			switch {
			case err != nil:
				// The verdict without campaign counts is still a verdict.
				if e.warnEvery(time.Minute) {
					e.opts.Logger.Warn("classify: campaign count failed (logged at most once a minute)", "tenant", in.Tenant, "err", err)
				}
			case n >= e.opts.CampaignRecipients:
				campaign = true
				w := campaignWeight(n, e.opts.CampaignRecipients)
				score += w
				reasons = append(reasons, Reason{"CAMPAIGN", w})
			}
		}
	}
	slices.SortStableFunc(reasons, func(a, b Reason) int { return cmp.Compare(math.Abs(b.Weight), math.Abs(a.Weight)) })
	if len(reasons) > maxReasons {
		reasons = reasons[:maxReasons]
	}
	if d.truncated {
		// Not a spam signal (the gateway itself may cut a message), but the
		// admin should know the verdict is on part of the message.
		reasons = append(reasons, Reason{"TRUNCATED", 0})
	}
	bulk, bulkReasons := bulkLevel(d.header, in.Recipients, d, campaign)
	res.Score, res.Bulk = score, bulk
	res.Reasons = append(reasons, bulkReasons...)
	res.IsBulk = bulk >= e.opts.BulkThreshold
	res.Verdict = Clean
	if score >= e.threshold {
		res.Verdict = Spam
	}
	if bands != nil && e.opts.Corrections != nil && in.Tenant != "" {
		c, ok, err := e.opts.Corrections.Lookup(ctx, in.Tenant, bands)
		switch {
		case err != nil:
			// Without the corrections the model's verdict still stands.
			if e.warnEvery(time.Minute) {
				e.opts.Logger.Warn("classify: corrections lookup failed (logged at most once a minute)", "tenant", in.Tenant, "err", err)
			}
		case ok:
			c.apply(&res)
		}
	}
	return res, nil
}

// scorer is the per-call state, pooled: the parsed document, the distinct
// features seen, the running sum and the largest contributions.
type scorer struct {
	doc     document
	scratch []byte
	weights []float32
	mask    uint32
	seen    map[uint32]struct{}
	// pos and neg are the words' spam-side and ham-side sums (bounded when
	// scored), rules the learned rules' sum.
	pos, neg, rules float64
	top             []topFeature // at most maxReasons, unordered
	// spamWords and hamWords are the words with the largest weights each
	// way (at most MaxTokens each, unordered): Result.Tokens.
	spamWords, hamWords []topFeature
	// adj is the tenant's word adjustments (nil for none); adjSum and
	// adjN their sum and count over this message's words.
	adj    TokenAdjustments
	adjSum float64
	adjN   int
}

type topFeature struct {
	kind byte
	tok  []byte
	w    float32
}

func (s *scorer) reset() {
	s.doc.reset()
	clear(s.seen)
	s.pos, s.neg, s.rules = 0, 0, 0
	s.top = s.top[:0]
	s.spamWords, s.hamWords = s.spamWords[:0], s.hamWords[:0]
	s.adj, s.adjSum, s.adjN = nil, 0, 0
}

// feature adds a feature's weight once per message and keeps it if it is
// among the largest so far. Names are copied only for those.
func (s *scorer) feature(kind byte, tok []byte) {
	i := hashFeature(kind, tok) & s.mask
	if _, dup := s.seen[i]; dup {
		return
	}
	s.seen[i] = struct{}{}
	if s.adj != nil && kind != kindRule {
		if a, ok := s.adj[hashFeature(kind, tok)]; ok {
			s.adjSum += float64(a)
			s.adjN++
		}
	}
	w := s.weights[i]
	if w == 0 {
		return
	}
	switch {
	case kind == kindRule:
		s.rules += float64(w)
	case w > 0:
		s.pos += float64(w)
		s.spamWords = keepLargest(s.spamWords, kind, tok, w)
	default:
		s.neg += float64(w)
		s.hamWords = keepLargest(s.hamWords, kind, tok, w)
	}
	if len(s.top) < maxReasons {
		s.top = append(s.top, topFeature{kind, append([]byte(nil), tok...), w})
		return
	}
	least := 0
	for j := range s.top {
		if abs32(s.top[j].w) < abs32(s.top[least].w) {
			least = j
		}
	}
	if abs32(w) > abs32(s.top[least].w) {
		s.top[least] = topFeature{kind, append(s.top[least].tok[:0], tok...), w}
	}
}

// keepLargest keeps the MaxTokens words of largest weight in top.
func keepLargest(top []topFeature, kind byte, tok []byte, w float32) []topFeature {
	if len(top) < MaxTokens {
		return append(top, topFeature{kind, append([]byte(nil), tok...), w})
	}
	least := 0
	for j := range top {
		if abs32(top[j].w) < abs32(top[least].w) {
			least = j
		}
	}
	if abs32(w) > abs32(top[least].w) {
		top[least] = topFeature{kind, append(top[least].tok[:0], tok...), w}
	}
	return top
}

// tokens names the message's strongest words, towards spam first, each
// side by weight: what a correction of the message adjusts.
func (s *scorer) tokens() []string {
	if len(s.spamWords)+len(s.hamWords) == 0 {
		return nil
	}
	out := make([]string, 0, len(s.spamWords)+len(s.hamWords))
	for _, side := range [][]topFeature{s.spamWords, s.hamWords} {
		side = slices.Clone(side)
		slices.SortStableFunc(side, func(a, b topFeature) int {
			if c := cmp.Compare(abs32(b.w), abs32(a.w)); c != 0 {
				return c
			}
			return cmp.Compare(string(a.tok), string(b.tok))
		})
		for _, t := range side {
			out = append(out, kindNames[t.kind]+string(t.tok))
		}
	}
	return out
}

// reasons names the kept contributions.
func (s *scorer) reasons() []Reason {
	out := make([]Reason, len(s.top))
	for i, t := range s.top {
		out[i] = Reason{kindNames[t.kind] + string(t.tok), float64(t.w)}
	}
	return out
}

func abs32(x float32) float32 { return float32(math.Abs(float64(x))) }

// warnEvery reports whether a repeated warning may be logged now: at most
// once per interval, so a failing counter store does not log per message.
func (e *Engine) warnEvery(interval time.Duration) bool {
	now := time.Now().UnixNano()
	last := e.lastWarn.Load()
	return now-last >= int64(interval) && e.lastWarn.CompareAndSwap(last, now)
}
