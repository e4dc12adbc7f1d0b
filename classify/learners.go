package classify

import (
	"math"
	"math/rand/v2"
)

// fitBayes is multinomial naive Bayes over feature presence with Laplace
// smoothing: each weight is the log ratio of the feature's smoothed share
// among spam features to its share among ham features (a word's bounded by
// maxTokenW, a rule's by maxRuleW), and the bias is the log prior odds.
func fitBayes(items []vector, st featureStats) (float64, []float64) {
	const alpha = 1.0
	dim := len(st.ham)
	var nSpam, nHam, totSpam, totHam, vocab float64
	for _, v := range items {
		if v.spam {
			nSpam++
		} else {
			nHam++
		}
	}
	for i := range dim {
		if st.learnable(uint32(i)) && st.ham[i]+st.spam[i] > 0 {
			vocab++
			totSpam += float64(st.spam[i])
			totHam += float64(st.ham[i])
		}
	}
	w := make([]float64, dim)
	ds := math.Log(totSpam + float64(alpha*vocab))
	dh := math.Log(totHam + float64(alpha*vocab))
	for i := range dim {
		if !st.learnable(uint32(i)) || st.ham[i]+st.spam[i] == 0 {
			continue
		}
		x := (math.Log(float64(st.spam[i])+alpha) - ds) - (math.Log(float64(st.ham[i])+alpha) - dh)
		w[i] = bound(x, st.rule[i])
	}
	return math.Log(nSpam / nHam), w
}

// bound clamps a weight to its kind's range.
func bound(x float64, rule bool) float64 {
	m := maxTokenW
	if rule {
		m = maxRuleW
	}
	return max(-m, min(m, x))
}

// Logistic regression settings, fixed so training is reproducible; chosen
// by cross-validation on the shared corpus and the held-apart set
// (docs/classifier.md). Words are shrunk towards 0 much harder than rules:
// a word's evidence is the part that does not carry over to today's mail.
const (
	lrEpochs  = 12
	lrRate    = 0.2  // AdaGrad base step
	lrL2Rule  = 1e-5 // ridge penalty on rules, applied to the features a step touches
	lrL2Token = 2e-3 // ridge penalty on words
)

// fitLogistic is logistic regression by AdaGrad over shuffled examples
// (a fixed-seed shuffle per epoch), scoring as the engine does: the
// spam-side words' sum bounded by tokenCap and the ham-side words' by
// tokenFloor, so a word in a group already at its bound learns nothing
// from that example. The bias stays at the corpus' prior log-odds: a
// message with no evidence is as likely spam as the corpus says, not more
// (a learned bias let "no ham words" mean spam, and every message of
// today has few of the corpus' ham words). The products are converted
// explicitly to float64 before adding, which forbids fused multiply-adds,
// so every platform computes the same weights.
func fitLogistic(items []vector, st featureStats) (float64, []float64) {
	dim := len(st.ham)
	w := make([]float64, dim)
	g2 := make([]float64, dim)
	var nSpam float64
	for _, v := range items {
		if v.spam {
			nSpam++
		}
	}
	bias := logit(nSpam / float64(len(items)))
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	step := func(i uint32, g, l2 float64, rule bool) {
		gi := g + float64(l2*w[i])
		g2[i] += float64(gi * gi)
		w[i] = bound(w[i]-float64(lrRate*gi)/(math.Sqrt(g2[i])+1e-8), rule)
	}
	for epoch := range lrEpochs {
		rng := rand.New(rand.NewPCG(uint64(epoch), 0x636c6173))
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, k := range order {
			v := &items[k]
			var pos, neg float64
			z := bias + v.fixed
			for _, i := range v.idx {
				if w[i] > 0 {
					pos += w[i]
				} else {
					neg += w[i]
				}
			}
			for _, i := range v.rules {
				z += w[i]
			}
			net := pos + neg
			z += min(max(net, -tokenFloor), tokenCap)
			y := 0.0
			if v.spam {
				y = 1
			}
			g := sigmoid(z) - y
			for _, i := range v.idx {
				if !st.learnable(i) {
					continue
				}
				gi := g
				if net > tokenCap || net < -tokenFloor {
					gi = 0 // the group is at its bound: this word changed nothing
				}
				step(i, gi, lrL2Token, false)
			}
			for _, i := range v.rules {
				step(i, g, lrL2Rule, true)
			}
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
