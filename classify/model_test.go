package classify

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusPath is the shared corpus beside the repository (CI clones main
// with shared/ beside it), or $TOLLGATE_CORPUS (a worktree elsewhere).
var corpusPath = func() string {
	if p := os.Getenv("TOLLGATE_CORPUS"); p != "" {
		return p
	}
	return "../../shared/corpus/spamassassin-train.jsonl.gz"
}()

// TestClassifyModelReproducible retrains the built-in model from the shared
// corpus and requires the committed model.bin byte for byte: the model in
// the binary is exactly what the corpus and this code give.
func TestClassifyModelReproducible(t *testing.T) {
	if _, err := os.Stat(corpusPath); err != nil {
		t.Skipf("shared corpus not beside the repository (%v): cannot check the built-in model", err)
	}
	ex, err := ReadCorpus([]string{corpusPath})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(ex, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := m.WriteTo(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), defaultModel) {
		t.Fatalf("retrained model (%d bytes) differs from classify/model.bin (%d bytes): run\n  go run ./cmd/tollgate classify train ../shared/corpus/spamassassin-train.jsonl.gz -o classify/model.bin",
			got.Len(), len(defaultModel))
	}
}

func TestClassifyModelRoundTrip(t *testing.T) {
	m, err := EmbeddedModel()
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta.Algo != "lr" || m.Meta.Features < 1000 || m.Meta.Ham != 2500 || m.Meta.Spam != 500 {
		t.Errorf("embedded model meta %+v", m.Meta)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), defaultModel) {
		t.Error("writing the embedded model back gives other bytes")
	}
	path := filepath.Join(t.TempDir(), "m.bin")
	os.WriteFile(path, buf.Bytes(), 0o600)
	e, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Threshold() != m.Meta.Threshold {
		t.Errorf("threshold %v, want %v", e.Threshold(), m.Meta.Threshold)
	}
}

func TestClassifyModelDamaged(t *testing.T) {
	good := defaultModel
	cases := map[string][]byte{
		"empty":          nil,
		"bad magic":      append([]byte("not a model\n"), good[len(modelMagic):]...),
		"truncated":      good[:len(good)-3],
		"trailing bytes": append(append([]byte(nil), good...), 0),
		"other features": bytes.Replace(good, []byte(fmt.Sprintf(`"feature_version":%d`, FeatureVersion)), []byte(`"feature_version":99`), 1),
		"huge bits":      bytes.Replace(good, []byte(`"bits":18`), []byte(`"bits":40`), 1),
	}
	for name, data := range cases {
		if _, err := ReadModel(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err := ReadModel(bytes.NewReader(cases["other features"]))
	if err == nil || !strings.Contains(err.Error(), "retrain") {
		t.Errorf("a model for other features must say to retrain: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.bin"), Options{}); err == nil {
		t.Error("a missing model file loaded")
	}
}

func TestClassifyTrainSmall(t *testing.T) {
	// Train on a tiny labelled set: the learner must separate it, and two
	// runs must give the same bytes.
	var ex []Example
	for i := range 30 {
		ex = append(ex, Example{Spam: true, Raw: msg([]string{"Subject: cheap pills"}, "buy cheap pills now viagra discount\n")})
		ex = append(ex, Example{Spam: false, Raw: msg([]string{"Subject: minutes"}, "the meeting minutes are attached, see you on thursday\n")})
		_ = i
	}
	for _, algo := range []string{"lr", "nb"} {
		a, err := Train(ex, TrainOptions{Algo: algo, Bits: 12})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Train(ex, TrainOptions{Algo: algo, Bits: 12})
		var ab, bb bytes.Buffer
		a.WriteTo(&ab)
		b.WriteTo(&bb)
		if !bytes.Equal(ab.Bytes(), bb.Bytes()) {
			t.Errorf("%s: two trainings differ", algo)
		}
		e, err := New(a, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r := classifyOK(t, e, Input{Raw: ex[0].Raw}); r.Verdict != Spam {
			t.Errorf("%s: training spam scored %v", algo, r.Score)
		}
		if r := classifyOK(t, e, Input{Raw: ex[1].Raw}); r.Verdict != Clean {
			t.Errorf("%s: training ham scored %v", algo, r.Score)
		}
	}
	if _, err := Train(ex[:4], TrainOptions{}); err == nil {
		t.Error("trained on fewer examples than folds")
	}
	if _, err := Train(ex, TrainOptions{Algo: "svm"}); err == nil {
		t.Error("accepted an unknown algorithm")
	}
}
