package classify

import (
	"cmp"
	"fmt"
	"slices"
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
