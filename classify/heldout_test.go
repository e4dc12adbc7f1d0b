package classify

import (
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/tollgate-mail/tollgate/classify/heldout"
)

func TestHeldoutDump(t *testing.T) {
	if os.Getenv("DUMP") == "" {
		t.Skip()
	}
	ex, err := ReadCorpus([]string{corpusPath})
	if err != nil {
		t.Fatal(err)
	}
	opts := TrainOptions{}
	vecs := Vectorize(ex, 18, Caps{})
	preds, tm, err := TimeSplit(vecs, TimeOrder(ex), 0.7, opts)
	if err != nil {
		t.Fatal(err)
	}
	q := func(name string, xs []float64) {
		slices.Sort(xs)
		if len(xs) == 0 {
			return
		}
		fmt.Printf("%-16s n=%4d min %6.2f p1 %6.2f p5 %6.2f p10 %6.2f p50 %6.2f p90 %6.2f p99 %6.2f max %6.2f\n", name, len(xs), xs[0], xs[len(xs)/100], xs[len(xs)/20], xs[len(xs)/10], xs[len(xs)/2], xs[len(xs)*9/10], xs[len(xs)*99/100], xs[len(xs)-1])
	}
	var hs, ss []float64
	for _, p := range preds {
		if p.Spam {
			ss = append(ss, p.Score)
		} else {
			hs = append(hs, p.Score)
		}
	}
	q("split ham", hs)
	q("split spam", ss)
	pts := ROC(preds)
	r5, th5 := RecallAtFPR(pts, 0.005)
	c := Count(preds, 0, true)
	fmt.Printf("time split: recall@0.5%%FP %.1f%% (thr %.2f) | at thr %.2f: recall %.1f%% FP %.2f%% (%d/%d) AUC %.4f\n", 100*r5, th5, tm.Meta.Threshold, 100*c.Recall(), 100*c.FPR(), c.FP, c.FP+c.TN, AUC(pts))
	m, err := Train(ex, opts)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := New(m, Options{})
	fmt.Printf("full model: bias %.2f thr %.2f features %d\n", m.Meta.Bias, m.Meta.Threshold, m.Meta.Features)
	fp, n, tp, ns := 0, 0, 0, 0
	var hc, hsp, ho []float64
	defer func() { q("heldout comm", hc); q("heldout other", ho); q("heldout spam", hsp) }()
	for _, set := range [][]heldout.Message{heldout.Ham(), heldout.Spam()} {
		for _, hm := range set {
			r := classifyOK(t, e, Input{Raw: hm.Raw, Recipients: 1})
			switch {
			case hm.Spam:
				hsp = append(hsp, r.Score)
			case hm.Commercial:
				hc = append(hc, r.Score)
			default:
				ho = append(ho, r.Score)
			}
			if hm.Spam {
				ns++
				if r.Verdict == Spam {
					tp++
				}
			} else if hm.Commercial {
				n++
				if r.Verdict == Spam {
					fp++
				}
			}
			if os.Getenv("DUMP") == "2" || (os.Getenv("DUMP") == "3" && (r.Verdict == Spam) != hm.Spam) {
				fmt.Printf("%v %-20s %-5s %7.2f %v\n", hm.Spam, hm.Kind, r.Verdict, r.Score, r.Reasons[:min(6, len(r.Reasons))])
			}
		}
	}
	fmt.Printf("heldout: commercial ham FP %d/%d, spam recall %d/%d\n", fp, n, tp, ns)
}
