package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-mail/tollgate/classify"
)

// speedPasses is how many times the built-in engine classifies the corpus
// for its timing, so a run lasts a few seconds and the timer's and GC's
// noise are small.
const speedPasses = 5

// measureSpeed prints the built-in engine's throughput on one core
// (GOMAXPROCS 1, one goroutine, so the garbage collector shares the core)
// and bytes allocated per message and, with r, rspamd's throughput on the
// same messages (its single normal worker, one core, fed by several
// concurrent requests so it never waits on the network).
func measureSpeed(w io.Writer, ex []classify.Example, r *classify.Rspamd, workers int) {
	eng, err := classify.Default()
	if err != nil {
		fmt.Fprintln(w, "speed:", err)
		return
	}
	ctx := context.Background()
	var bytesIn int64
	for _, e := range ex {
		bytesIn += int64(len(e.Raw))
	}
	prev := runtime.GOMAXPROCS(1)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	for range speedPasses {
		for _, e := range ex {
			if _, err := eng.Classify(ctx, classify.Input{Raw: e.Raw, Recipients: 1}); err != nil {
				fmt.Fprintln(w, "speed:", err)
				return
			}
		}
	}
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	runtime.GOMAXPROCS(prev)
	n := float64(speedPasses * len(ex))
	builtin := n / took.Seconds()
	fmt.Fprintf(w, "\n| engine | messages/s per core | MB/s | bytes allocated per message |\n| --- | --- | --- | --- |\n")
	fmt.Fprintf(w, "| built-in | %.0f | %.1f | %.0f |\n", builtin, float64(speedPasses)*float64(bytesIn)/took.Seconds()/1e6, float64(after.TotalAlloc-before.TotalAlloc)/n)
	if r == nil {
		return
	}
	var done atomic.Int64
	var wg sync.WaitGroup
	start = time.Now()
	for wk := range workers {
		wg.Go(func() {
			for i := wk; i < len(ex); i += workers {
				if _, err := r.Classify(ctx, classify.Input{Raw: ex[i].Raw, Recipients: 1}); err == nil {
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	took = time.Since(start)
	rs := float64(done.Load()) / took.Seconds()
	fmt.Fprintf(w, "| rspamd (1 worker process) | %.0f | %.1f | (not measured: another process) |\n", rs, float64(bytesIn)/took.Seconds()/1e6)
	fmt.Fprintf(w, "\nbuilt-in / rspamd throughput: %.1f×\n", builtin/rs)
}
