package classify

import (
	"math"
	"math/rand/v2"
)

// fitBayes is multinomial naive Bayes over feature presence with Laplace
// smoothing: each weight is the log ratio of the feature's smoothed share
// among spam features to its share among ham features, and the bias is the
// log prior odds.
func fitBayes(items []vector, df []uint32) (float64, []float64) {
	const alpha = 1.0
	spamN := make([]float64, len(df))
	hamN := make([]float64, len(df))
	var nSpam, nHam, totSpam, totHam, vocab float64
	for _, v := range items {
		if v.spam {
			nSpam++
		} else {
			nHam++
		}
		for _, i := range v.idx {
			if df[i] < minDF {
				continue
			}
			if v.spam {
				spamN[i]++
				totSpam++
			} else {
				hamN[i]++
				totHam++
			}
		}
	}
	for _, n := range df {
		if n >= minDF {
			vocab++
		}
	}
	w := make([]float64, len(df))
	ds := math.Log(totSpam + float64(alpha*vocab))
	dh := math.Log(totHam + float64(alpha*vocab))
	for i, n := range df {
		if n < minDF {
			continue
		}
		w[i] = (math.Log(spamN[i]+alpha) - ds) - (math.Log(hamN[i]+alpha) - dh)
	}
	return math.Log(nSpam / nHam), w
}

// Logistic regression settings, fixed so training is reproducible; chosen
// by cross-validation on the shared corpus (docs/classifier.md).
const (
	lrEpochs = 12
	lrRate   = 0.2  // AdaGrad base step
	lrL2     = 1e-5 // ridge penalty, applied to the features a step touches
)

// fitLogistic is logistic regression by AdaGrad over shuffled examples
// (a fixed-seed shuffle per epoch). The products are converted explicitly to
// float64 before adding, which forbids fused multiply-adds, so every
// platform computes the same weights.
func fitLogistic(items []vector, df []uint32) (float64, []float64) {
	w := make([]float64, len(df))
	g2 := make([]float64, len(df))
	var bias, bias2 float64
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	for epoch := range lrEpochs {
		rng := rand.New(rand.NewPCG(uint64(epoch), 0x636c6173))
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, k := range order {
			v := &items[k]
			z := bias + v.fixed
			for _, i := range v.idx {
				z += w[i]
			}
			y := 0.0
			if v.spam {
				y = 1
			}
			g := sigmoid(z) - y
			for _, i := range v.idx {
				if df[i] < minDF {
					continue
				}
				gi := g + float64(lrL2*w[i])
				g2[i] += float64(gi * gi)
				w[i] -= float64(lrRate*gi) / (math.Sqrt(g2[i]) + 1e-8)
			}
			bias2 += float64(g * g)
			bias -= float64(lrRate*g) / (math.Sqrt(bias2) + 1e-8)
		}
	}
	return bias, w
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
