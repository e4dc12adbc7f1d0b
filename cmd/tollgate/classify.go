package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tollgate-mail/tollgate/classify"
)

// runClassify is `tollgate classify`: classify messages, or with a first
// argument of train or eval, train a model or evaluate one.
func runClassify(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "train":
			return runClassifyTrain(args[1:])
		case "eval":
			return runClassifyEval(args[1:])
		}
	}
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.SetOutput(os.Stdout) // --help goes to stdout
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage:
  tollgate classify [flags] FILE...     verdict and reasons for .eml files, mboxes or folders of them
  tollgate classify train [flags] CORPUS...   train a model (see classify train --help)
  tollgate classify eval [flags] CORPUS...    cross-validate and compare engines (see classify eval --help)

Classifies each message with the built-in engine and prints its verdict
(clean, bulk or spam), score, bulk level and the reasons, largest first.
(A file named train or eval: write ./train.)

Flags:
`)
		fs.PrintDefaults()
	}
	asJSON := fs.Bool("json", false, "print one JSON object per message (file, verdict, score, bulk, reasons)")
	modelPath := fs.String("model", "", "model `file` (default: the built-in model)")
	recipients := fs.Int("recipients", 1, "envelope recipients to assume for each message (a bulk signal)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fs.Usage()
		return errors.New("no files to classify")
	}
	eng, err := classify.Load(*modelPath, classify.Options{})
	if err != nil {
		return err
	}
	for _, path := range files {
		msgs, err := classify.ReadMessages(path)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			res, err := eng.Classify(context.Background(), classify.Input{Raw: m.Raw, Recipients: *recipients})
			if err != nil {
				return fmt.Errorf("%s: %w", m.Source, err)
			}
			if err := printVerdict(os.Stdout, m.Source, res, *asJSON); err != nil {
				return err
			}
		}
	}
	return nil
}

// verdictJSON is one line of classify --json.
type verdictJSON struct {
	File        string            `json:"file"`
	Verdict     classify.Verdict  `json:"verdict"`
	Score       float64           `json:"score"`
	Bulk        int               `json:"bulk"`
	IsBulk      bool              `json:"is_bulk"`
	Reasons     []classify.Reason `json:"reasons"`
	Fingerprint string            `json:"fingerprint,omitempty"`
}

func printVerdict(w io.Writer, file string, r classify.Result, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(verdictJSON{file, r.Verdict, r.Score, r.Bulk, r.IsBulk, r.Reasons, r.Fingerprint})
	}
	kind := ""
	if r.IsBulk {
		kind = ", bulk mail"
	}
	if _, err := fmt.Fprintf(w, "%s: %s (score %.2f, bulk %d%s)\n", file, r.Verdict, r.Score, r.Bulk, kind); err != nil {
		return err
	}
	for _, reason := range r.Reasons {
		if _, err := fmt.Fprintf(w, "  %+7.2f  %s\n", reason.Weight, reason.Name); err != nil {
			return err
		}
	}
	return nil
}

func runClassifyTrain(args []string) error {
	fs := flag.NewFlagSet("classify train", flag.ContinueOnError)
	fs.SetOutput(os.Stdout) // --help goes to stdout
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: tollgate classify train [flags] CORPUS...

Trains a model from labelled mail. Each CORPUS is one of:
  FILE.jsonl, FILE.jsonl.gz   JSON lines with "label" (spam or ham) and "text" (the raw message)
  spam=PATH, ham=PATH         an mbox, or a folder of .eml files, with that label
  DIR                         a folder with ham/ and spam/ subfolders

The same corpus gives the same model file, byte for byte. The built-in
model is:
  tollgate classify train ../shared/corpus/spamassassin-train.jsonl.gz -o classify/model.bin

Flags:
`)
		fs.PrintDefaults()
	}
	out := fs.String("o", "", "write the model to `file` (required)")
	algo := fs.String("algo", "lr", "learner: lr (logistic regression) or nb (naive Bayes)")
	bits := fs.Int("bits", 18, "hash space: 2^`bits` weights")
	fpTarget := fs.Float64("fp-target", 0.005, "ham false-positive `rate` the corpus' cross-validation must keep (a floor under the threshold)")
	baseRate := fs.Float64("base-rate", classify.DefaultBaseRate, "share of spam in the mail the model will judge; scores are log-odds at this `rate`")
	cost := fs.Float64("false-block-cost", classify.DefaultFalseBlockCost, "what a false spam verdict costs in missed spams; the threshold is ln(`cost`)")
	corpus, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *out == "" || len(corpus) == 0 {
		fs.Usage()
		return errors.New("need -o FILE and at least one CORPUS")
	}
	examples, err := classify.ReadCorpus(corpus)
	if err != nil {
		return err
	}
	m, err := classify.Train(examples, classify.TrainOptions{Algo: *algo, Bits: *bits, FPTarget: *fpTarget, BaseRate: *baseRate, FalseBlockCost: *cost})
	if err != nil {
		return err
	}
	if err := writeModel(*out, m); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "trained %s on %d ham and %d spam: %d features; scores are log-odds at a %.1f%% base rate (prior shift %.2f, Platt scale %.2f); threshold %.4f (false-block cost %g, corpus FP floor %.2f%%); wrote %s\n",
		m.Meta.Algo, m.Meta.Ham, m.Meta.Spam, m.Meta.Features, 100*m.Meta.BaseRate, m.Meta.PriorShift, m.Meta.Scale, m.Meta.Threshold, m.Meta.FalseBlockCost, 100*m.Meta.FPTarget, *out)
	return nil
}

// writeModel writes m to path through a temporary file and a rename, so a
// failed write never leaves a half model where a gateway would load it.
func writeModel(path string, m *classify.Model) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".model-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := m.WriteTo(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// parseInterspersed parses flags that may come before, between or after the
// positional arguments ("train CORPUS -o model"), which flag.Parse alone
// does not allow; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}
