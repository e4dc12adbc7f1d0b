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
	idx   []uint32 // distinct feature indexes, sorted
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
				c.idx = c.idx[:0]
				scratch = d.extract(c, scratch)
				fixed, _ := fixedRules(&d)
				idx := slices.Clone(c.idx)
				slices.Sort(idx)
				out.items[i] = vector{idx: idx, fixed: fixed, spam: examples[i].Spam}
			}
		})
	}
	wg.Wait()
	return out
}

// collector is the featureSink that records distinct feature indexes.
type collector struct {
	mask uint32
	seen map[uint32]struct{}
	idx  []uint32
}

func (c *collector) feature(kind byte, tok []byte) {
	i := hashFeature(kind, tok) & c.mask
	if _, ok := c.seen[i]; !ok {
		c.seen[i] = struct{}{}
		c.idx = append(c.idx, i)
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
	for k, test := range stratifiedFolds(vecs.items, opts.Folds) {
		fm := fit(without(vecs.items, test), opts)
		for _, i := range test {
			oof[i] = fm.score(&vecs.items[i])
		}
		_ = k
	}
	thr, err := thresholdFor(vecs.items, oof, opts.FPTarget)
	if err != nil {
		return nil, err
	}
	m.Meta.Threshold = max(thr, MinThreshold)
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

// score is the model's score of a vector: bias, weights and fixed rules.
func (m *Model) score(v *vector) float64 {
	s := m.Meta.Bias + v.fixed
	for _, i := range v.idx {
		s += float64(m.Weights[i])
	}
	return s
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

// fit trains one model on items with the chosen learner.
func fit(items []vector, opts TrainOptions) *Model {
	dim := 1 << opts.Bits
	df := make([]uint32, dim) // documents containing each feature, for pruning
	for _, v := range items {
		for _, i := range v.idx {
			df[i]++
		}
	}
	var bias float64
	var w []float64
	if opts.Algo == "nb" {
		bias, w = fitBayes(items, df)
	} else {
		bias, w = fitLogistic(items, df)
	}
	m := &Model{Meta: ModelMeta{Algo: opts.Algo, FeatureVersion: FeatureVersion, Bits: opts.Bits, Bias: bias},
		Weights: make([]float32, dim)}
	for i, x := range w {
		if math.Abs(x) >= minWeight {
			m.Weights[i] = float32(x)
			m.Meta.Features++
		}
	}
	return m
}

// MinThreshold is the lowest threshold a trained model gets: a message is
// spam only if the model finds it more likely spam than not, even where the
// corpus' false-positive target alone would allow less. Corpora differ from
// the mail a gateway sees (the shared corpus' ham is long mailing-list
// traffic, so short business mail carries little ham evidence); without
// the floor such mail, scoring near the bias, would be spam.
const MinThreshold = 0.0

// minDF prunes features seen in fewer documents: a word seen once is noise
// the model would memorise, and pruning keeps the model file small.
const minDF = 2

// minWeight drops weights too small to change a verdict, for a smaller file.
const minWeight = 1e-4
