package classify

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"
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
	cpu0 := processCPU()
	for b.Loop() {
		if _, err := e.Classify(ctx, Input{Raw: msgs[i%len(msgs)], Recipients: 1}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	// On a shared machine the wall-clock ns/op includes waiting for a core;
	// the process' CPU time per message (garbage collection included) is
	// what one core can do: msg/s per core = 1e9 / cpu-ns/op.
	if cpu := processCPU() - cpu0; b.N > 0 && cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
