package classify

import (
	"context"
	"os"
	"testing"
)

// BenchmarkClassify measures the built-in engine per message over the shared
// corpus (or the package's samples when the corpus is not beside the
// repository). tollgate classify eval --speed reports the same on one core.
//
//	go test ./classify -run '^$' -bench Classify -benchmem -cpu 1
func BenchmarkClassify(b *testing.B) {
	msgs := [][]byte{spamMsg, hamMsg, newsletter}
	if _, err := os.Stat(corpusPath); err == nil {
		ex, err := ReadCorpus([]string{corpusPath})
		if err != nil {
			b.Fatal(err)
		}
		msgs = msgs[:0]
		for _, e := range ex {
			msgs = append(msgs, e.Raw)
		}
	}
	e := defaultEngine(b)
	ctx := context.Background()
	var size int64
	for _, m := range msgs {
		size += int64(len(m))
	}
	b.SetBytes(size / int64(len(msgs)))
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := e.Classify(ctx, Input{Raw: msgs[i%len(msgs)], Recipients: 1}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
