package classify

import (
	"fmt"
	"testing"
	"time"
)

func TestScratchCV(t *testing.T) {
	ex, err := ReadCorpus([]string{"/work/shared/corpus/spamassassin-train.jsonl.gz"})
	if err != nil {
		t.Fatal(err)
	}
	for _, bits := range []int{18} {
		v := Vectorize(ex, bits, Caps{})
		for _, algo := range []string{"nb", "lr"} {
			t0 := time.Now()
			p, err := CrossValidate(v, 10, TrainOptions{Algo: algo, Bits: bits})
			if err != nil {
				t.Fatal(err)
			}
			pts := ROC(p)
			r, thr := RecallAtFPR(pts, 0.005)
			c := Count(p, 0, true)
			c0 := Count(p, 0, false)
			fmt.Printf("bits=%d %s recall@0.5%%=%.4f thr=%.3f auc=%.5f own: recall=%.4f fpr=%.4f prec=%.4f f1=%.4f | at0: recall=%.4f fpr=%.4f (%v)\n", bits, algo, r, thr, AUC(pts), c.Recall(), c.FPR(), c.Precision(), c.F1(), c0.Recall(), c0.FPR(), time.Since(t0))
		}
	}
}
