package classify

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/tollgate-mail/tollgate/classify/heldout"
)

// TestClassifyHeldoutModernMail is the first target on the
// held-apart set (classify/heldout, never trained on): at most 1 % spam
// verdicts on transactional and commercial ham with the built-in model, no
// more on lists and conversations, and modern spam still caught.
func TestClassifyHeldoutModernMail(t *testing.T) {
	e := defaultEngine(t)
	var comm, commSpam, other, otherSpam, spam, caught int
	for _, set := range [][]heldout.Message{heldout.Ham(), heldout.Spam()} {
		for _, m := range set {
			r := classifyOK(t, e, Input{Raw: m.Raw, Recipients: 1})
			flagged := r.Verdict == Spam
			switch {
			case m.Spam:
				spam++
				if flagged {
					caught++
				}
			case m.Commercial:
				comm++
				if flagged {
					commSpam++
					t.Logf("commercial ham %s called spam: %.2f %v", m.Kind, r.Score, r.Reasons)
				}
			default:
				other++
				if flagged {
					otherSpam++
					t.Logf("ham %s called spam: %.2f %v", m.Kind, r.Score, r.Reasons)
				}
			}
			if m.Kind == "newsletter" && (!r.IsBulk || flagged) {
				t.Errorf("a newsletter with List-Id and one-click unsubscribe must be bulk and clean: %+v", r)
			}
		}
	}
	if comm < 100 || spam < 30 {
		t.Fatalf("held-apart set too small: %d commercial ham, %d spam", comm, spam)
	}
	if float64(commSpam) > 0.01*float64(comm) {
		t.Errorf("%d of %d transactional/commercial ham messages called spam (target ≤ 1 %%)", commSpam, comm)
	}
	if float64(otherSpam) > 0.01*float64(other) {
		t.Errorf("%d of %d list and conversation messages called spam", otherSpam, other)
	}
	if float64(caught) < 0.75*float64(spam) {
		t.Errorf("modern spam recall %d of %d, below 75 %%", caught, spam)
	}
	t.Logf("commercial ham %d/%d spam, other ham %d/%d, modern spam %d/%d caught", commSpam, comm, otherSpam, other, caught, spam)
}

// TestClassifyHeldoutDeterministic: the set is the same on every call, so
// the figures in docs/classifier.md can be reproduced.
func TestClassifyHeldoutDeterministic(t *testing.T) {
	a, b := heldout.Ham(), heldout.Ham()
	if len(a) < 120 || len(a) != len(b) {
		t.Fatalf("%d and %d legitimate messages", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i].Raw, b[i].Raw) {
			t.Fatalf("message %d (%s) differs between calls", i, a[i].Kind)
		}
	}
	kinds := map[string]bool{}
	for _, m := range a {
		kinds[m.Kind] = true
		if _, err := defaultEngine(t).Classify(t.Context(), Input{Raw: m.Raw}); err != nil {
			t.Fatal(err)
		}
		d, _ := parseDoc(m.Raw, Caps{})
		if d.malformed || d.badCharset {
			t.Errorf("%s: generated message does not parse cleanly", m.Kind)
		}
	}
	for _, k := range []string{"receipt", "password-reset", "sign-in-code", "shipping", "account-alert", "invoice-pdf", "calendar", "newsletter", "mailing-list", "conversation"} {
		if !kinds[k] {
			t.Errorf("no %s in the set", k)
		}
	}
}

// TestHeldoutDump prints the score distributions of the time-ordered split
// and the held-apart set, for tuning (DUMP=1; DUMP=2 every message, DUMP=3
// the misjudged ones). It never fails.
func TestHeldoutDump(t *testing.T) {
	if os.Getenv("DUMP") == "" {
		t.Skip("set DUMP=1 to print the score distributions")
	}
	ex, err := ReadCorpus([]string{corpusPath})
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
	vecs := Vectorize(ex, 18, Caps{})
	preds, tm, err := TimeSplit(vecs, TimeOrder(ex), 0.7, TrainOptions{})
	if err != nil {
		t.Fatal(err)
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
	e := defaultEngine(t)
	var hc, hsp, ho []float64
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
			if os.Getenv("DUMP") == "2" || (os.Getenv("DUMP") == "3" && (r.Verdict == Spam) != hm.Spam) {
				fmt.Printf("%v %-20s %-5s %7.2f %v\n", hm.Spam, hm.Kind, r.Verdict, r.Score, r.Reasons[:min(6, len(r.Reasons))])
			}
		}
	}
	q("heldout comm", hc)
	q("heldout other", ho)
	q("heldout spam", hsp)
}
