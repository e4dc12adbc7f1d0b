package classify

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// Example is one labelled message for training or evaluation.
type Example struct {
	Spam   bool
	Raw    []byte
	Source string // where it came from (file, record id), for messages about it
}

// TrainOptions choose the learner. The zero value trains the shipped model.
type TrainOptions struct {
	// Algo is "lr" (logistic regression, the default) or "nb" (naive
	// Bayes). Both reach about 98.6 % spam recall at 0.5 % ham false
	// positives in 10-fold cross-validation on the shared corpus; naive Bayes
	// ranks a little better (AUC) but its log-odds are far from calibrated,
	// so the threshold floor (MinThreshold) costs it recall, and short
	// ordinary mail lands near its threshold. docs/classifier.md has the figures.
	Algo string
	// Bits is the size of the hash space, 2^Bits weights (default 18).
	Bits int
	// FPTarget is the ham false-positive rate the threshold is chosen for
	// (default 0.005).
	FPTarget float64
	// Folds is the number of cross-validation folds that choose the
	// threshold (default 5).
	Folds int
	// BaseRate is the share of spam among the mail the model will judge
	// (default 0.01: outbound mail from attributed tenants is mostly
	// legitimate); scores are log-odds at this rate, not the corpus'.
	BaseRate float64
	// FalseBlockCost is what a false spam verdict on legitimate mail costs,
	// counted in missed spams (default DefaultFalseBlockCost). The
	// threshold is ln(FalseBlockCost).
	FalseBlockCost float64
	// Caps bound the parsing, as in the engine (default DefaultCaps).
	Caps Caps
}

func (o TrainOptions) withDefaults() (TrainOptions, error) {
	if o.Algo == "" {
		o.Algo = "lr"
	}
	if o.Algo != "lr" && o.Algo != "nb" {
		return o, fmt.Errorf("unknown algorithm %q (want lr or nb)", o.Algo)
	}
	if o.Bits == 0 {
		o.Bits = 18
	}
	if o.Bits < 8 || o.Bits > maxBits {
		return o, fmt.Errorf("bits %d out of range 8..%d", o.Bits, maxBits)
	}
	if o.FPTarget == 0 {
		o.FPTarget = 0.005
	}
	if o.FPTarget <= 0 || o.FPTarget >= 1 {
		return o, fmt.Errorf("false-positive target %v must be between 0 and 1", o.FPTarget)
	}
	if o.Folds == 0 {
		o.Folds = 5
	}
	if o.BaseRate == 0 {
		o.BaseRate = DefaultBaseRate
	}
	if o.BaseRate <= 0 || o.BaseRate >= 1 {
		return o, fmt.Errorf("base rate %v must be between 0 and 1", o.BaseRate)
	}
	if o.FalseBlockCost == 0 {
		o.FalseBlockCost = DefaultFalseBlockCost
	}
	if o.FalseBlockCost < 1 {
		return o, fmt.Errorf("false-block cost %v must be at least 1 (a false block costs at least one missed spam)", o.FalseBlockCost)
	}
	if o.Folds < 2 {
		return o, fmt.Errorf("folds %d: need at least 2", o.Folds)
	}
	o.Caps = o.Caps.withDefaults()
	return o, nil
}

// Train fits a model to examples. The result depends only on the examples
// and their order and the options: training twice gives the same bytes
// (the learners use a fixed-seed shuffle and avoid fused multiply-adds).
func Train(examples []Example, opts TrainOptions) (*Model, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	vecs := Vectorize(examples, opts.Bits, opts.Caps)
	return trainVectors(vecs, opts)
}

// Vectors are examples parsed into feature indexes once, so cross-validation
// trains many times without parsing again.
type Vectors struct {
	bits  int
	items []vector
}

type vector struct {
	idx   []uint32 // distinct word feature indexes, sorted
	rules []uint32 // distinct learned-rule feature indexes, sorted
	fixed float64  // the fixed rules' weight (not learned)
	spam  bool
}

// Len is the number of examples.
func (v *Vectors) Len() int { return len(v.items) }

// Vectorize parses examples on all cores; the order of the result is the
// order of examples.
func Vectorize(examples []Example, bits int, caps Caps) *Vectors {
	caps = caps.withDefaults()
	out := &Vectors{bits: bits, items: make([]vector, len(examples))}
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			c := &collector{mask: uint32(1)<<bits - 1, seen: map[uint32]struct{}{}}
			var d document
			var scratch []byte
			for i := w; i < len(examples); i += workers {
				d.reset()
				d.parse(examples[i].Raw, caps)
				clear(c.seen)
				c.idx, c.rules = c.idx[:0], c.rules[:0]
				scratch = d.extract(c, scratch)
				fixed, _ := fixedRules(&d)
				idx, rules := slices.Clone(c.idx), slices.Clone(c.rules)
				slices.Sort(idx)
				slices.Sort(rules)
				out.items[i] = vector{idx: idx, rules: rules, fixed: fixed, spam: examples[i].Spam}
			}
		})
	}
	wg.Wait()
	return out
}

// collector is the featureSink that records distinct feature indexes.
type collector struct {
	mask  uint32
	seen  map[uint32]struct{}
	idx   []uint32
	rules []uint32
}

func (c *collector) feature(kind byte, tok []byte) {
	i := hashFeature(kind, tok) & c.mask
	if _, ok := c.seen[i]; !ok {
		c.seen[i] = struct{}{}
		if kind == kindRule {
			c.rules = append(c.rules, i)
		} else {
			c.idx = append(c.idx, i)
		}
	}
}

// trainVectors fits on all of vecs and sets the threshold from
// cross-validated scores.
func trainVectors(vecs *Vectors, opts TrainOptions) (*Model, error) {
	ham, spam := vecs.counts()
	if ham < opts.Folds || spam < opts.Folds {
		return nil, fmt.Errorf("need at least %d ham and %d spam examples, have %d and %d", opts.Folds, opts.Folds, ham, spam)
	}
	m := fit(vecs.items, opts)
	oof := make([]float64, len(vecs.items))
	for _, test := range stratifiedFolds(vecs.items, opts.Folds) {
		fm := fit(without(vecs.items, test), opts)
		for _, i := range test {
			oof[i] = fm.score(&vecs.items[i])
		}
	}
	// Calibrate: the bounded words make the learner under-confident (its
	// scores of the corpus' own spam sit near even odds), so the scores are
	// rescaled to log-odds by Platt scaling on the out-of-fold scores,
	// before the shift to the base rate.
	shift := m.Meta.PriorShift
	for i := range oof {
		oof[i] += shift
	}
	a, b := platt(decisionRegion(vecs.items, oof))
	m.calibrate(a, b)
	rules := map[uint32]bool{}
	for _, v := range vecs.items {
		for _, r := range v.rules {
			rules[r] = true
		}
	}
	m.boundWords(func(i uint32) bool { return rules[i] })
	for i := range oof {
		oof[i] = a*oof[i] + b - shift
	}
	thr, err := thresholdFor(vecs.items, oof, opts.FPTarget)
	if err != nil {
		return nil, err
	}
	m.Meta.Threshold = max(thr, math.Log(opts.FalseBlockCost))
	m.Meta.FalseBlockCost = opts.FalseBlockCost
	m.Meta.FPTarget = opts.FPTarget
	m.Meta.Ham, m.Meta.Spam = ham, spam
	return m, nil
}

func (v *Vectors) counts() (ham, spam int) {
	for _, x := range v.items {
		if x.spam {
			spam++
		} else {
			ham++
		}
	}
	return ham, spam
}

// score is the model's score of a vector: bias, the bounded word sums, the
// learned rules and the fixed rules, as the engine computes it.
func (m *Model) score(v *vector) float64 {
	var pos, neg, rules float64
	for _, i := range v.idx {
		if w := float64(m.Weights[i]); w > 0 {
			pos += w
		} else {
			neg += w
		}
	}
	for _, i := range v.rules {
		rules += float64(m.Weights[i])
	}
	return m.Meta.Bias + min(max(pos+neg, -m.Meta.TokenFloor), m.Meta.TokenCap) + rules + v.fixed
}

// stratifiedFolds splits the indexes of items into k folds with the same
// share of spam in each, by dealing each class round-robin after a
// fixed-seed shuffle (so a corpus sorted by label or date still mixes).
func stratifiedFolds(items []vector, k int) [][]int {
	folds := make([][]int, k)
	rng := rand.New(rand.NewPCG(0x746f6c6c, 0x67617465))
	var ham, spam []int
	for i, v := range items {
		if v.spam {
			spam = append(spam, i)
		} else {
			ham = append(ham, i)
		}
	}
	for _, class := range [][]int{ham, spam} {
		rng.Shuffle(len(class), func(a, b int) { class[a], class[b] = class[b], class[a] })
		for j, i := range class {
			folds[j%k] = append(folds[j%k], i)
		}
	}
	for _, f := range folds {
		slices.Sort(f)
	}
	return folds
}

// without returns items less the (sorted) indexes in drop.
func without(items []vector, drop []int) []vector {
	out := make([]vector, 0, len(items)-len(drop))
	j := 0
	for i, v := range items {
		if j < len(drop) && drop[j] == i {
			j++
			continue
		}
		out = append(out, v)
	}
	return out
}

// thresholdFor is the lowest threshold that flags at most fpTarget of the
// ham: just above the score of the first ham that must not be flagged.
func thresholdFor(items []vector, scores []float64, fpTarget float64) (float64, error) {
	var ham []float64
	for i, v := range items {
		if !v.spam {
			ham = append(ham, scores[i])
		}
	}
	if len(ham) == 0 {
		return 0, errors.New("no ham to choose a threshold with")
	}
	slices.Sort(ham)
	slices.Reverse(ham)
	allowed := int(math.Floor(fpTarget * float64(len(ham))))
	if allowed >= len(ham) {
		allowed = len(ham) - 1
	}
	return math.Nextafter(ham[allowed], math.Inf(1)), nil
}

// fit trains one model on items with the chosen learner, then moves its
// bias from the corpus' prior to the base rate.
func fit(items []vector, opts TrainOptions) *Model {
	dim := 1 << opts.Bits
	st := countFeatures(items, dim)
	var bias float64
	var w []float64
	if opts.Algo == "nb" {
		bias, w = fitBayes(items, st)
	} else {
		bias, w = fitLogistic(items, st)
	}
	ham, spam := 0, 0
	for _, v := range items {
		if v.spam {
			spam++
		} else {
			ham++
		}
	}
	prior := float64(spam) / float64(ham+spam)
	shift := logit(prior) - logit(opts.BaseRate)
	m := &Model{Meta: ModelMeta{Algo: opts.Algo, FeatureVersion: FeatureVersion, Bits: opts.Bits, Bias: bias - shift,
		TrainPrior: prior, BaseRate: opts.BaseRate, PriorShift: shift, TokenCap: tokenCap, TokenFloor: tokenFloor},
		Weights: make([]float32, dim)}
	for i, x := range w {
		if math.Abs(x) >= minWeight {
			m.Weights[i] = float32(x)
			m.Meta.Features++
		}
	}
	return m
}

// calibrationQuantile is where the decision region starts: the examples
// scoring at or above this quantile of the ham's out-of-fold scores.
const calibrationQuantile = 0.9

// decisionRegion is the out-of-fold examples the calibration is fitted on:
// those scoring at or above the ham's 90th percentile. A logistic curve
// fitted to every example is pulled by the bulk of easy ham far below any
// threshold, and there it is under-confident exactly where the verdicts are
// decided (spam at even odds under the training mix). Fitted on the region
// alone it estimates p(spam | score) where the threshold sits; the prior
// shift still applies, since the region's class mix is part of that
// estimate under the training prior.
func decisionRegion(items []vector, scores []float64) ([]vector, []float64) {
	var ham []float64
	for i, v := range items {
		if !v.spam {
			ham = append(ham, scores[i])
		}
	}
	if len(ham) == 0 {
		return items, scores
	}
	slices.Sort(ham)
	cut := ham[int(calibrationQuantile*float64(len(ham)-1))]
	var ri []vector
	var rs []float64
	for i, v := range items {
		if scores[i] >= cut {
			ri, rs = append(ri, v), append(rs, scores[i])
		}
	}
	return ri, rs
}

// platt fits p(spam) = sigmoid(a·score + b) to the labels by Newton's
// method on the log loss (a fixed number of steps: reproducible).
func platt(items []vector, scores []float64) (a, b float64) {
	a, b = 1, 0
	for range 50 {
		var ga, gb, haa, hab, hbb float64
		for i, v := range items {
			y := 0.0
			if v.spam {
				y = 1
			}
			p := sigmoid(float64(a*scores[i]) + b)
			d := p - y
			w := float64(p * (1 - p))
			ga += float64(d * scores[i])
			gb += d
			haa += float64(w * scores[i] * scores[i])
			hab += float64(w * scores[i])
			hbb += w
		}
		haa += 1e-6
		hbb += 1e-6
		det := float64(haa*hbb) - float64(hab*hab)
		if det <= 0 {
			break
		}
		a -= (float64(hbb*ga) - float64(hab*gb)) / det
		b -= (float64(haa*gb) - float64(hab*ga)) / det
	}
	if a <= 0 || math.IsNaN(a) || math.IsNaN(b) {
		return 1, 0 // a degenerate fit: keep the learner's own scale
	}
	return a, b
}

// calibrate rescales m's scores from s to a·(s+shift)+b−shift: the weights
// and the word bounds by a, the bias to match.
func (m *Model) calibrate(a, b float64) {
	shift := m.Meta.PriorShift
	m.Meta.Bias = a*(m.Meta.Bias+shift) + b - shift
	m.Meta.TokenCap = min(a*m.Meta.TokenCap, wordsSpamBound)
	m.Meta.TokenFloor *= a
	m.Meta.Scale, m.Meta.Offset = a, b
	for i, w := range m.Weights {
		m.Weights[i] = float32(a * float64(w))
	}
}

// boundWords keeps each word's calibrated weight within ±wordBound, after
// calibration as before it: a confident calibration must not turn one
// business word into strong evidence. Rules are not words and keep theirs.
func (m *Model) boundWords(isRule func(uint32) bool) {
	for i, w := range m.Weights {
		if w != 0 && !isRule(uint32(i)) {
			m.Weights[i] = float32(min(max(float64(w), -wordBound), wordBound))
		}
	}
}

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// featureStats are the per-feature document counts training prunes by.
type featureStats struct {
	ham, spam []uint32 // documents of each class with the feature
	rule      []bool   // the index is a learned rule's
}

func countFeatures(items []vector, dim int) featureStats {
	st := featureStats{ham: make([]uint32, dim), spam: make([]uint32, dim), rule: make([]bool, dim)}
	for _, v := range items {
		c := st.ham
		if v.spam {
			c = st.spam
		}
		for _, i := range v.idx {
			c[i]++
		}
		for _, i := range v.rules {
			c[i]++
			st.rule[i] = true
		}
	}
	return st
}

// learnable reports whether feature i gets a weight: a learned rule always;
// a word when it was seen in at least minDF messages, and, if only ever in
// one class, in at least minSingleClassDF — a word seen in three spams and
// no ham is as likely a business word the corpus' ham never used as a spam
// word, and learning it is how "invoice" became spam.
func (st featureStats) learnable(i uint32) bool {
	if st.rule[i] {
		return true
	}
	h, s := st.ham[i], st.spam[i]
	if h+s < minDF {
		return false
	}
	if h == 0 || s == 0 {
		return h+s >= minSingleClassDF
	}
	return true
}

// DefaultBaseRate is the share of spam scores are calibrated to: a few per
// cent of an attributed tenant's outbound mail in normal times, 1 % here.
const DefaultBaseRate = 0.01

// DefaultFalseBlockCost is how many missed spams one false spam verdict
// costs: 2, since a false verdict sends a customer's message through the
// high-risk pool and counts towards blocking the tenant, while a missed
// spam leaves through the shared addresses once. The threshold is
// ln 2 ≈ 0.69: spam when twice as likely spam as not among outbound mail.
const DefaultFalseBlockCost = 2.0

// minDF prunes words seen in fewer messages: a word seen once is noise the
// model would memorise, and pruning keeps the model file small.
const minDF = 2

// minSingleClassDF is the messages a word seen in only one class needs.
const minSingleClassDF = 8

// The bounds on what words add up to (Model.TokenCap, Model.TokenFloor),
// and on one word's and one learned rule's weight.
const (
	tokenCap   = 4.0
	tokenFloor = 6.0
	maxTokenW  = 0.6
	maxRuleW   = 1.5
)

// wordsSpamBound bounds the words' net pull towards spam after calibration,
// in log-odds, however confident the calibration: ordinary business
// vocabulary that 2002 ham lacked must not make today's mail spam on its
// own.
const wordsSpamBound = 5.74

// wordBound bounds one word's weight after calibration, in log-odds (the
// ±0.86 that maxTokenW gave under the former, global calibration).
const wordBound = 0.86

// minWeight drops weights too small to change a verdict, for a smaller file.
const minWeight = 1e-4
