package classify

import (
	"bytes"
	"context"
	"testing"
	"unicode/utf8"
)

// FuzzClassifyParse: any bytes get a verdict or an error, never a panic, and
// the parser's caps hold. Crashers found are kept in testdata/fuzz.
func FuzzClassifyParse(f *testing.F) {
	for _, h := range hostileInputs {
		if raw := h.raw(); len(raw) < 64<<10 {
			f.Add(raw)
		}
	}
	f.Add(spamMsg)
	f.Add(hamMsg)
	f.Add(newsletter)
	e := defaultEngine(f)
	caps := Caps{MaxScanBytes: 64 << 10, MaxDepth: 5, MaxParts: 20, MaxDecodedBytes: 16 << 10}
	small, err := New(e.model, Options{Caps: caps})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := small.Classify(context.Background(), Input{Raw: raw, Recipients: 3})
		if len(raw) == 0 {
			if err == nil {
				t.Fatal("empty input classified")
			}
			return
		}
		if err != nil {
			t.Fatalf("no verdict: %v", err)
		}
		if r.Verdict != Clean && r.Verdict != Bulk && r.Verdict != Spam || r.Bulk < 0 || r.Bulk > 9 {
			t.Fatalf("result %+v", r)
		}
		d, _ := parseDoc(raw, caps)
		if d.decoded > caps.MaxDecodedBytes || d.parts > caps.MaxParts+1 {
			t.Fatalf("caps broken: decoded %d parts %d", d.decoded, d.parts)
		}
	})
}

// FuzzClassifyTokenize: words are within the length bounds, valid UTF-8
// when the input is, and never contain separators; hosts are lowercase.
func FuzzClassifyTokenize(f *testing.F) {
	f.Add([]byte("Don't MISS: $100 OFF at www.Shop.example/x?y=1 or https://user:pw@[2001:db8::1]:8080/p"))
	f.Add([]byte("http://"))
	f.Add([]byte("https://[::1"))
	f.Add([]byte("ÀÉÎ ǅungla ﬁne ß"))
	f.Fuzz(func(t *testing.T, text []byte) {
		var st textStats
		scanText(text, nil, &st, func(w []byte) {
			if len(w) < minWordBytes || len(w) > maxWordBytes+utf8.UTFMax {
				t.Fatalf("word %q out of bounds", w)
			}
			if bytes.ContainsAny(w, " \t\r\n<>\"") {
				t.Fatalf("word %q has a separator", w)
			}
			if utf8.Valid(text) && !utf8.Valid(w) {
				t.Fatalf("word %q is not UTF-8", w)
			}
		}, func(h string) {
			if h == "" || bytes.ContainsAny([]byte(h), "ABCDEFGHIJKLMNOPQRSTUVWXYZ/") {
				t.Fatalf("host %q", h)
			}
		})
	})
}
