package classify

import (
	"bytes"
	"cmp"
	"fmt"
	netmail "net/mail"
	"slices"
	"time"

	"github.com/emersion/go-message"
)

// Prediction is one example's out-of-fold result in cross-validation.
type Prediction struct {
	Spam    bool    // the label
	Score   float64 // the score from a model that never saw the example
	Flagged bool    // that model's own threshold said spam
}

// CrossValidate trains one model per fold on the other folds (each choosing
// its threshold by its own inner cross-validation, as Train does) and scores
// the fold with it. The folds are stratified and fixed, so two runs agree.
func CrossValidate(vecs *Vectors, folds int, opts TrainOptions) ([]Prediction, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if vecs.bits != opts.Bits {
		return nil, fmt.Errorf("vectors have %d bits, options %d", vecs.bits, opts.Bits)
	}
	if folds < 2 {
		return nil, fmt.Errorf("folds %d: need at least 2", folds)
	}
	out := make([]Prediction, len(vecs.items))
	for _, test := range stratifiedFolds(vecs.items, folds) {
		train := &Vectors{bits: vecs.bits, items: without(vecs.items, test)}
		m, err := trainVectors(train, opts)
		if err != nil {
			return nil, err
		}
		for _, i := range test {
			s := m.score(&vecs.items[i])
			out[i] = Prediction{Spam: vecs.items[i].spam, Score: s, Flagged: s >= m.Meta.Threshold}
		}
	}
	return out, nil
}

// ROCPoint is one point of a ROC curve: flagging every score >= Threshold
// gives these rates.
type ROCPoint struct {
	Threshold float64
	FPR, TPR  float64
}

// ROC is the curve through every distinct score, from flagging nothing to
// flagging everything.
func ROC(preds []Prediction) []ROCPoint {
	p := slices.Clone(preds)
	slices.SortFunc(p, func(a, b Prediction) int { return cmp.Compare(b.Score, a.Score) })
	var pos, neg float64
	for _, x := range p {
		if x.Spam {
			pos++
		} else {
			neg++
		}
	}
	pts := []ROCPoint{{Threshold: p[0].Score + 1}}
	var tp, fp float64
	for i, x := range p {
		if x.Spam {
			tp++
		} else {
			fp++
		}
		if i+1 < len(p) && p[i+1].Score == x.Score {
			continue
		}
		pts = append(pts, ROCPoint{Threshold: x.Score, FPR: fp / max(neg, 1), TPR: tp / max(pos, 1)})
	}
	return pts
}

// AUC is the area under a ROC curve (trapezoids).
func AUC(pts []ROCPoint) float64 {
	var a float64
	for i := 1; i < len(pts); i++ {
		a += (pts[i].FPR - pts[i-1].FPR) * (pts[i].TPR + pts[i-1].TPR) / 2
	}
	return a
}

// RecallAtFPR is the best spam recall (and its threshold) with a ham
// false-positive rate at most fpr.
func RecallAtFPR(pts []ROCPoint, fpr float64) (recall, threshold float64) {
	threshold = pts[0].Threshold
	for _, p := range pts {
		if p.FPR <= fpr && p.TPR >= recall {
			recall, threshold = p.TPR, p.Threshold
		}
	}
	return recall, threshold
}

// Confusion counts predictions at a threshold (or, with useFlags, by each
// fold's own threshold).
type Confusion struct{ TP, FP, TN, FN int }

// Count tallies preds, flagged by threshold or by each fold's own
// threshold when useFlags.
func Count(preds []Prediction, threshold float64, useFlags bool) Confusion {
	var c Confusion
	for _, p := range preds {
		flagged := p.Score >= threshold
		if useFlags {
			flagged = p.Flagged
		}
		switch {
		case p.Spam && flagged:
			c.TP++
		case p.Spam:
			c.FN++
		case flagged:
			c.FP++
		default:
			c.TN++
		}
	}
	return c
}

func (c Confusion) Recall() float64    { return ratio(c.TP, c.TP+c.FN) }
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }
func (c Confusion) FPR() float64       { return ratio(c.FP, c.FP+c.TN) }
func (c Confusion) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// TimeOrder is the indexes of examples from the oldest message to the
// newest, by MessageDate (messages without a date keep their place among
// themselves, after the dated ones).
func TimeOrder(examples []Example) []int {
	type dated struct {
		i int
		t time.Time
	}
	d := make([]dated, len(examples))
	for i, e := range examples {
		d[i] = dated{i, MessageDate(e.Raw)}
	}
	slices.SortStableFunc(d, func(a, b dated) int {
		switch {
		case a.t.IsZero() != b.t.IsZero():
			if a.t.IsZero() {
				return 1
			}
			return -1
		}
		return a.t.Compare(b.t)
	})
	out := make([]int, len(d))
	for i, x := range d {
		out[i] = x.i
	}
	return out
}

// TimeSplit trains on the oldest trainFrac of each class of vecs (by
// order, from TimeOrder) and scores the newer rest with that model: how the
// classifier does on mail newer than anything it learnt from, as it will in
// service. The cut is per class because the shared corpus' spam is older
// than its ham on the whole: one cut over both would leave a test set of
// nearly only ham. It returns the predictions for the newer messages, in
// time order within each class (ham first), and the model.
func TimeSplit(vecs *Vectors, order []int, trainFrac float64, opts TrainOptions) ([]Prediction, *Model, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	if len(order) != vecs.Len() || trainFrac <= 0 || trainFrac >= 1 {
		return nil, nil, fmt.Errorf("time split: %d indexes for %d examples, train fraction %v", len(order), vecs.Len(), trainFrac)
	}
	train := &Vectors{bits: vecs.bits}
	trainIdx, test := splitByTime(order, func(i int) bool { return vecs.items[i].spam }, trainFrac)
	for _, i := range trainIdx {
		train.items = append(train.items, vecs.items[i])
	}
	m, err := trainVectors(train, opts)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Prediction, 0, len(test))
	for _, i := range test {
		s := m.score(&vecs.items[i])
		out = append(out, Prediction{Spam: vecs.items[i].spam, Score: s, Flagged: s >= m.Meta.Threshold})
	}
	return out, m, nil
}

// TimeSplitTest is the test part of TimeSplit: the indexes of examples
// (ham first, then spam, each oldest first) that the time-ordered split
// tests on, so other engines can be scored on the same messages.
func TimeSplitTest(examples []Example, trainFrac float64) []int {
	_, test := splitByTime(TimeOrder(examples), func(i int) bool { return examples[i].Spam }, trainFrac)
	return test
}

// splitByTime cuts each class, in time order, at trainFrac.
func splitByTime(order []int, spam func(int) bool, trainFrac float64) (train, test []int) {
	for _, class := range []bool{false, true} {
		var idx []int
		for _, i := range order {
			if spam(i) == class {
				idx = append(idx, i)
			}
		}
		cut := int(float64(len(idx)) * trainFrac)
		train = append(train, idx[:cut]...)
		test = append(test, idx[cut:]...)
	}
	return train, test
}

// MessageDate is when a message was received or written: the date of its
// mbox envelope line ("From sender Thu Aug 22 12:36:23 2002", as the
// shared corpus keeps it), else its Date field; zero when neither parses.
func MessageDate(raw []byte) time.Time {
	if bytes.HasPrefix(raw, []byte("From ")) {
		line, _, _ := bytes.Cut(raw, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) >= 24 {
			if t, err := time.Parse("Mon Jan _2 15:04:05 2006", string(line[len(line)-24:])); err == nil {
				return t
			}
		}
	}
	e, err := message.Read(bytes.NewReader(stripMboxLine(raw)))
	if e == nil && err != nil {
		return time.Time{}
	}
	if t, err := netmail.ParseDate(e.Header.Get("Date")); err == nil {
		return t.UTC()
	}
	return time.Time{}
}
