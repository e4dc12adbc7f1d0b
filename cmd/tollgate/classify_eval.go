package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/classify"
	"github.com/tollgate-mail/tollgate/classify/heldout"
	"github.com/tollgate-mail/tollgate/classify/rspamdlocal"
)

// runClassifyEval is `tollgate classify eval`: cross-validates the built-in
// learner on a labelled corpus and, optionally, scores the same messages
// with rspamd and SpamAssassin, then prints one table of figures (and the
// ROC curves as a PNG).
func runClassifyEval(args []string) error {
	fs := flag.NewFlagSet("classify eval", flag.ContinueOnError)
	fs.SetOutput(os.Stdout) // --help goes to stdout
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: tollgate classify eval [flags] CORPUS...

Evaluates the built-in engine on CORPUS (as for classify train) three ways:
  - k-fold cross-validation: each fold scored by a model trained on the
    other folds, with the threshold that model chose for itself;
  - a time-ordered split: trained on the oldest 70 % of each class (by the
    mbox envelope date, else the Date field), tested on the newest 30 %,
    as it will meet mail newer than its training in service;
  - the held-apart modern mail (classify/heldout: receipts, resets, sign-in
    codes, PDF invoices, calendar invitations, newsletters, list traffic,
    conversations, and modern spam), never used for training, scored by
    the model trained on all of CORPUS.
Prints spam recall at the false-positive target (the best threshold on the
ROC curve), recall, ham false-positive rate, precision and F1 at the trained
thresholds, and AUC; for the held-apart set, spam verdicts per kind.

With --rspamd and --spamd, rspamd and SpamAssassin score the same messages
with their own rules (they are not trained on the corpus). With --speed,
also measures messages per second on one core and bytes allocated per
message, for the built-in engine and rspamd on the same messages.

The figures in docs/classifier.md:
  tollgate classify eval --rspamd local --spamd 127.0.0.1:7830 --speed --roc docs/classifier-roc.png ../shared/corpus/spamassassin-train.jsonl.gz

Flags:
`)
		fs.PrintDefaults()
	}
	folds := fs.Int("folds", 10, "cross-validation folds")
	algo := fs.String("algo", "lr", "learner: lr or nb")
	bits := fs.Int("bits", 18, "hash space: 2^`bits` weights")
	fpTarget := fs.Float64("fp-target", 0.005, "ham false-positive `rate` to report recall at")
	rocPath := fs.String("roc", "", "write the ROC curves to this PNG `file`")
	rspamdURL := fs.String("rspamd", "", "also score with rspamd at this `URL`; \"local\" starts a private rspamd on loopback")
	spamdAddr := fs.String("spamd", "", "also score with SpamAssassin's spamd at this `host:port`")
	speed := fs.Bool("speed", false, "measure throughput and allocation")
	workers := fs.Int("workers", 4, "concurrent requests to rspamd and spamd")
	trainFrac := fs.Float64("train-fraction", 0.7, "time-ordered split: the oldest `share` of each class trains, the rest tests")
	splitDir := fs.String("write-split", "", "write the time-ordered split's messages to `DIR`/{train,test}/{ham,spam}/*.eml and stop (to train another engine's Bayes on the same part, see docs/classifier.md)")
	heldoutSet := fs.Bool("heldout", true, "also score the held-apart modern mail (classify/heldout) with the model trained on all of CORPUS")
	corpus, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(corpus) == 0 {
		fs.Usage()
		return errors.New("no CORPUS")
	}
	examples, err := classify.ReadCorpus(corpus)
	if err != nil {
		return err
	}
	if *splitDir != "" {
		return writeSplit(*splitDir, examples, *trainFrac)
	}
	ctx := context.Background()
	out := os.Stdout
	fmt.Fprintf(out, "corpus: %d messages (%d spam), %d cores\n\n", len(examples), countSpam(examples), runtime.NumCPU())

	var curves []rocCurve
	start := time.Now()
	vecs := classify.Vectorize(examples, *bits, classify.Caps{})
	preds, err := classify.CrossValidate(vecs, *folds, classify.TrainOptions{Algo: *algo, Bits: *bits, FPTarget: *fpTarget})
	if err != nil {
		return err
	}
	name := fmt.Sprintf("built-in (%s, %d-fold CV)", *algo, *folds)
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, time.Since(start).Round(time.Millisecond))
	printHeader(out, *fpTarget)
	curves = append(curves, printFigures(out, name, preds, *fpTarget))
	topts := classify.TrainOptions{Algo: *algo, Bits: *bits, FPTarget: *fpTarget}
	split, _, err := classify.TimeSplit(vecs, classify.TimeOrder(examples), *trainFrac, topts)
	if err != nil {
		return fmt.Errorf("time-ordered split: %w", err)
	}
	curves = append(curves, printFigures(out, fmt.Sprintf("built-in (%s, time-ordered: oldest %.0f%% → newest)", *algo, 100**trainFrac), split, *fpTarget))
	if *heldoutSet {
		m, err := classify.Train(examples, topts)
		if err != nil {
			return err
		}
		eng, err := classify.New(m, classify.Options{})
		if err != nil {
			return err
		}
		if err := printHeldout(ctx, out, eng); err != nil {
			return err
		}
	}

	if *rspamdURL != "" {
		url := *rspamdURL
		if url == "local" {
			dir, err := os.MkdirTemp("", "tollgate-rspamd-*")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			fmt.Fprintln(os.Stderr, "starting a private rspamd (compiling its hyperscan databases takes a while)...")
			srv, err := rspamdlocal.Start(ctx, dir, rspamdlocal.Options{Hyperscan: true, StartTimeout: 5 * time.Minute})
			if err != nil {
				return err
			}
			defer srv.Close()
			url = srv.URL
		}
		r := &classify.Rspamd{URL: url, Timeout: 30 * time.Second}
		// rspamd compiles its hyperscan databases in the background after
		// start; one pass warms it so the figures are of a settled server.
		preds, err := scoreAll(ctx, examples, *workers, func(raw []byte) (float64, bool, error) {
			res, err := r.Classify(ctx, classify.Input{Raw: raw, Recipients: 1})
			return res.Score, res.Verdict == classify.Spam, err
		})
		if err != nil {
			return err
		}
		curves = append(curves, printExternal(ctx, out, "rspamd (stock local rules)", examples, preds, *trainFrac, *fpTarget, func(raw []byte) (bool, error) {
			res, err := r.Classify(ctx, classify.Input{Raw: raw, Recipients: 1})
			return res.Verdict == classify.Spam, err
		}))
		if *speed {
			defer func() {
				measureSpeed(out, examples, r, *workers)
			}()
		}
	}
	if *spamdAddr != "" {
		sa := &spamc{addr: *spamdAddr, timeout: 60 * time.Second}
		preds, err := scoreAll(ctx, examples, *workers, sa.score)
		if err != nil {
			return err
		}
		curves = append(curves, printExternal(ctx, out, "SpamAssassin (stock local rules)", examples, preds, *trainFrac, *fpTarget, func(raw []byte) (bool, error) {
			_, spam, err := sa.score(raw)
			return spam, err
		}))
	}
	if *rocPath != "" {
		if err := writeROC(*rocPath, curves); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", *rocPath)
	}
	if *speed && *rspamdURL == "" {
		measureSpeed(out, examples, nil, *workers)
	}
	return nil
}

// printHeldout prints the spam verdicts of eng on the held-apart set, per
// kind, and the totals the targets are about: commercial ham (at most 1 %
// spam verdicts) and modern spam.
func printHeldout(ctx context.Context, w io.Writer, eng *classify.Engine) error {
	type tally struct{ n, spam int }
	kinds := map[string]*tally{}
	var order []string
	var comm, other, spam tally
	for _, set := range [][]heldout.Message{heldout.Ham(), heldout.Spam()} {
		for _, m := range set {
			r, err := eng.Classify(ctx, classify.Input{Raw: m.Raw, Recipients: 1})
			if err != nil {
				return fmt.Errorf("heldout %s: %w", m.Kind, err)
			}
			t := kinds[m.Kind]
			if t == nil {
				t = &tally{}
				kinds[m.Kind] = t
				order = append(order, m.Kind)
			}
			s := 0
			if r.Verdict == classify.Spam {
				s = 1
			}
			t.n, t.spam = t.n+1, t.spam+s
			switch {
			case m.Spam:
				spam.n, spam.spam = spam.n+1, spam.spam+s
			case m.Commercial:
				comm.n, comm.spam = comm.n+1, comm.spam+s
			default:
				other.n, other.spam = other.n+1, other.spam+s
			}
		}
	}
	pct := func(t tally) string {
		return fmt.Sprintf("%d / %d (%.1f%%)", t.spam, t.n, 100*float64(t.spam)/float64(max(t.n, 1)))
	}
	fmt.Fprintf(w, "\nheld-apart modern mail (classify/heldout, never trained on), threshold %.2f:\n\n", eng.Threshold())
	fmt.Fprintln(w, "| kind | spam verdicts |")
	fmt.Fprintln(w, "| --- | --- |")
	for _, k := range order {
		fmt.Fprintf(w, "| %s | %s |\n", k, pct(*kinds[k]))
	}
	fmt.Fprintf(w, "| **transactional and commercial ham** | **%s** |\n", pct(comm))
	fmt.Fprintf(w, "| lists and conversations (ham) | %s |\n", pct(other))
	fmt.Fprintf(w, "| **modern spam (recall)** | **%s** |\n", pct(spam))
	return nil
}

func countSpam(ex []classify.Example) int {
	n := 0
	for _, e := range ex {
		if e.Spam {
			n++
		}
	}
	return n
}

func printHeader(w io.Writer, fpTarget float64) {
	fmt.Fprintf(w, "| engine | spam recall at ≤%.1f%% ham FP | recall | ham FP rate | precision | F1 | AUC |\n", 100*fpTarget)
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- |")
}

// printFigures prints one engine's row and returns its ROC curve. For the
// built-in engine recall, FP rate, precision and F1 are at each fold's own
// trained threshold; for the others at their own spam action.
func printFigures(w io.Writer, name string, preds []classify.Prediction, fpTarget float64) rocCurve {
	pts := classify.ROC(preds)
	recall, thr := classify.RecallAtFPR(pts, fpTarget)
	c := classify.Count(preds, 0, true)
	fmt.Fprintf(w, "| %s | %.1f%% (threshold %.3g) | %.1f%% | %.2f%% | %.1f%% | %.3f | %.4f |\n",
		name, 100*recall, thr, 100*c.Recall(), 100*c.FPR(), 100*c.Precision(), c.F1(), classify.AUC(pts))
	return rocCurve{name: name, points: pts}
}

// scoreAll scores every example with score on workers goroutines; Flagged
// is the engine's own spam verdict.
func scoreAll(ctx context.Context, ex []classify.Example, workers int, score func([]byte) (float64, bool, error)) ([]classify.Prediction, error) {
	preds := make([]classify.Prediction, len(ex))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(ex); i += workers {
				if ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				s, flagged, err := score(withoutMboxLine(ex[i].Raw))
				if err != nil {
					errs[w] = fmt.Errorf("%s: %w", ex[i].Source, err)
					return
				}
				preds[i] = classify.Prediction{Spam: ex[i].Spam, Score: s, Flagged: flagged}
			}
		})
	}
	wg.Wait()
	return preds, errors.Join(errs...)
}

// withoutMboxLine drops the mbox envelope line ("From sender date") the
// shared corpus keeps, which another engine would read as a broken header.
func withoutMboxLine(raw []byte) []byte {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			return raw[i+1:]
		}
	}
	return raw
}

// printExternal prints another engine's figures on the whole corpus, on
// the time-ordered split's test part (the same messages the built-in
// engine's split row is measured on) and on the held-apart modern mail,
// and returns the whole corpus' ROC curve.
func printExternal(ctx context.Context, w io.Writer, name string, ex []classify.Example, preds []classify.Prediction, trainFrac, fpTarget float64,
	spam func(raw []byte) (bool, error)) rocCurve {
	curve := printFigures(w, name+", whole corpus", preds, fpTarget)
	test := classify.TimeSplitTest(ex, trainFrac)
	part := make([]classify.Prediction, len(test))
	for j, i := range test {
		part[j] = preds[i]
	}
	printFigures(w, fmt.Sprintf("%s, time-ordered test part (newest %.0f%%)", name, 100*(1-trainFrac)), part, fpTarget)
	var comm, commSpam, other, otherSpam, bad, caught int
	for _, set := range [][]heldout.Message{heldout.Ham(), heldout.Spam()} {
		for _, m := range set {
			s, err := spam(m.Raw)
			if err != nil {
				fmt.Fprintf(w, "| %s, held-apart modern mail | not measured: %v |\n", name, err)
				return curve
			}
			switch {
			case m.Spam:
				bad++
				if s {
					caught++
				}
			case m.Commercial:
				comm++
				if s {
					commSpam++
				}
			default:
				other++
				if s {
					otherSpam++
				}
			}
		}
	}
	fmt.Fprintf(w, "| %s, held-apart modern mail at its own action | transactional and commercial ham: %d / %d spam; lists and conversations: %d / %d; modern spam caught: %d / %d |\n",
		name, commSpam, comm, otherSpam, other, caught, bad)
	return curve
}

// writeSplit writes the time-ordered split as folders of messages (without
// their mbox envelope lines), as classify eval and sa-learn read them.
func writeSplit(dir string, ex []classify.Example, trainFrac float64) error {
	test := map[int]bool{}
	for _, i := range classify.TimeSplitTest(ex, trainFrac) {
		test[i] = true
	}
	for i, e := range ex {
		part, label := "train", "ham"
		if test[i] {
			part = "test"
		}
		if e.Spam {
			label = "spam"
		}
		d := filepath.Join(dir, part, label)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("%04d.eml", i)), withoutMboxLine(e.Raw), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "wrote %d messages (%d in the test part) under %s\n", len(ex), len(test), dir)
	return nil
}
