package classify

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClassifyReadCorpus(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	jsonl := write("c.jsonl", `{"id":"1","label":"spam","text":"Subject: a\n\nx"}`+"\n"+`{"id":"2","label":"ham","text":"Subject: b\n\ny"}`+"\n")
	gzPath := filepath.Join(dir, "c.jsonl.gz")
	f, _ := os.Create(gzPath)
	gz := gzip.NewWriter(f)
	gz.Write([]byte(`{"label":"ham","text":"Subject: c\n\nz"}` + "\n"))
	gz.Close()
	f.Close()
	mbox := write("spam.mbox", "From a@b Thu Aug 22 12:36:23 2002\nSubject: one\n\nbody\n>From quoted\n\nFrom c@d Thu Aug 22 12:36:24 2002\nSubject: two\n\nbody two\n")
	write("labels/ham/1.eml", "Subject: h1\n\nhello\n")
	write("labels/spam/1.eml", "Subject: s1\n\nbuy\n")

	ex, err := ReadCorpus([]string{jsonl, gzPath, "spam=" + mbox, filepath.Join(dir, "labels")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ex {
		label := "ham"
		if e.Spam {
			label = "spam"
		}
		subj, _, _ := strings.Cut(string(e.Raw), "\n")
		got = append(got, label+" "+subj)
	}
	want := []string{"spam Subject: a", "ham Subject: b", "ham Subject: c", "spam Subject: one", "spam Subject: two", "ham Subject: h1", "spam Subject: s1"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if !strings.Contains(string(ex[3].Raw), "\nFrom quoted") {
		t.Errorf("mboxrd quoting not undone: %q", ex[3].Raw)
	}
	for _, bad := range []string{write("bad.jsonl", `{"label":"maybe","text":"x"}`), "eggs=" + mbox, filepath.Join(dir, "nowhere")} {
		if _, err := ReadCorpus([]string{bad}); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
