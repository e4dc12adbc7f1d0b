package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logWriter buffers log output and writes it out every flushEvery, or at
// once for a line at warn level or above. A busy gateway logs a line per
// message; a write system call per line cost a fifth of the CPU per message
// in the benchmarks (docs/benchmarks.md).
type logWriter struct {
	mu sync.Mutex
	bw *bufio.Writer
}

const flushEvery = 200 * time.Millisecond

func newLogWriter(w io.Writer) *logWriter {
	lw := &logWriter{bw: bufio.NewWriterSize(w, 64<<10)}
	go func() {
		for range time.Tick(flushEvery) {
			lw.Flush()
		}
	}()
	return lw
}

func (lw *logWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	n, err := lw.bw.Write(p)
	if err == nil && urgent(p) {
		err = lw.bw.Flush()
	}
	return n, err
}

// urgent reports whether a formatted line is at warn level or above (text
// or JSON handler output).
func urgent(p []byte) bool {
	for _, tag := range []string{"level=WARN", "level=ERROR", `"level":"WARN"`, `"level":"ERROR"`} {
		if containsBytes(p, tag) {
			return true
		}
	}
	return false
}

func containsBytes(p []byte, s string) bool {
	for i := 0; i+len(s) <= len(p) && i < 200; i++ { // the level comes early in a line
		if string(p[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}

// Flush writes out what is buffered.
func (lw *logWriter) Flush() {
	lw.mu.Lock()
	lw.bw.Flush()
	lw.mu.Unlock()
}
