package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const cliSpam = "From: offers@deals.example\r\nSubject: FREE money guaranteed!!!\r\nContent-Type: text/plain\r\n\r\nClick here to claim your free cash prize, 100% guaranteed, no risk. Order now: http://192.0.2.9/claim\r\n"
const cliHam = "From: alice@example.org\r\nSubject: Re: build failure\r\nContent-Type: text/plain\r\n\r\nBob wrote:\r\n> it fails\r\n\r\nThe patch I sent to the list should fix it; can you rebuild and tell me?\r\n"

// TestClassifyNoFiles: classify with nothing to read fails saying so (the
// --help of classify and its subcommands is checked by TestHelp).
func TestClassifyNoFiles(t *testing.T) {
	if out, err := exec.Command(binary(t), "classify").CombinedOutput(); err == nil || !strings.Contains(string(out), "no files") {
		t.Errorf("classify without files must fail saying so: %v\n%s", err, out)
	}
}

func TestClassifyCLI(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	spam, ham := write("spam.eml", cliSpam), write("ham.eml", cliHam)
	mbox := write("both.mbox", "From a@b Thu Aug 22 12:36:23 2002\n"+strings.ReplaceAll(cliSpam, "\r\n", "\n")+"\nFrom c@d Thu Aug 22 12:36:23 2002\n"+strings.ReplaceAll(cliHam, "\r\n", "\n"))

	out, err := exec.Command(bin, "classify", "--json", spam, ham, mbox).Output()
	if err != nil {
		t.Fatalf("classify --json: %v", err)
	}
	var got []verdictJSON
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var v verdictJSON
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got = append(got, v)
	}
	if len(got) != 4 || got[0].File != spam || got[2].File != mbox+"#1" || got[3].File != mbox+"#2" {
		t.Fatalf("files: %+v", got)
	}
	if got[0].Verdict != "spam" || got[1].Verdict != "clean" || got[2].Verdict != "spam" || got[3].Verdict != "clean" || len(got[0].Reasons) == 0 {
		t.Errorf("verdicts: %+v", got)
	}
	text, err := exec.Command(bin, "classify", spam).Output()
	if err != nil || !strings.Contains(string(text), spam+": spam (score") {
		t.Errorf("text output: %v\n%s", err, text)
	}

	// Train (flags after the corpus, as people type them) twice: the same
	// bytes; then classify with that model and evaluate on the corpus.
	var corpus strings.Builder
	for i := range 20 {
		for _, m := range []struct{ label, text string }{{"spam", cliSpam}, {"ham", cliHam}} {
			rec, _ := json.Marshal(map[string]string{"id": m.label + string(rune('a'+i)), "label": m.label, "text": m.text})
			corpus.Write(rec)
			corpus.WriteByte('\n')
		}
	}
	jsonl := write("c.jsonl", corpus.String())
	m1, m2 := filepath.Join(dir, "m1.bin"), filepath.Join(dir, "m2.bin")
	for _, m := range []string{m1, m2} {
		if out, err := exec.Command(bin, "classify", "train", jsonl, "-o", m).CombinedOutput(); err != nil {
			t.Fatalf("train: %v\n%s", err, out)
		}
	}
	b1, _ := os.ReadFile(m1)
	b2, _ := os.ReadFile(m2)
	if len(b1) == 0 || !bytes.Equal(b1, b2) {
		t.Errorf("two trainings on one corpus differ (%d and %d bytes)", len(b1), len(b2))
	}
	if out, err := exec.Command(bin, "classify", "--model", m1, "--json", ham).Output(); err != nil || !strings.Contains(string(out), `"verdict":"clean"`) {
		t.Errorf("classify with a trained model: %v\n%s", err, out)
	}
	roc := filepath.Join(dir, "roc.png")
	out, err = exec.Command(bin, "classify", "eval", "--folds", "4", "--roc", roc, jsonl).Output()
	if err != nil || !strings.Contains(string(out), "| built-in (lr, 4-fold CV) | 100.0%") {
		t.Errorf("eval: %v\n%s", err, out)
	}
	f, err := os.Open(roc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := png.Decode(f); err != nil || img.Bounds().Dx() < 100 {
		t.Errorf("ROC PNG: %v", err)
	}

	if out, err := exec.Command(bin, "classify", "train", "-o", m1, filepath.Join(dir, "missing.jsonl")).CombinedOutput(); err == nil || !strings.Contains(string(out), "missing.jsonl") {
		t.Errorf("a missing corpus must be an error naming it: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "classify", "--model", spam, ham).CombinedOutput(); err == nil || !strings.Contains(string(out), "not a tollgate classifier model") {
		t.Errorf("a bad model file must be a clear error: %v\n%s", err, out)
	}
}
