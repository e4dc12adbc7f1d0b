package main

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sample is one scrape of a node's /metrics.
type sample struct {
	at         time.Time
	start      int // which start of the node (a kill begins a new series)
	goroutines float64
	rss        float64 // process_resident_memory_bytes
	heap       float64 // go_memstats_heap_inuse_bytes
}

// sampler scrapes every running node's /metrics every interval.
type sampler struct {
	mu      sync.Mutex
	samples map[string][]sample
}

func (s *sampler) run(ctx context.Context, nodes []*node, interval time.Duration) {
	s.samples = map[string][]sample{}
	hc := &http.Client{Timeout: 5 * time.Second}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, n := range nodes {
			if !n.running() {
				continue
			}
			m, err := scrape(ctx, hc, "http://"+n.admin+"/metrics")
			if err != nil {
				continue // a node being killed or restarted
			}
			s.mu.Lock()
			s.samples[n.name] = append(s.samples[n.name], sample{at: time.Now(), start: n.starts,
				goroutines: m["go_goroutines"], rss: m["process_resident_memory_bytes"], heap: m["go_memstats_heap_inuse_bytes"]})
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func scrape(ctx context.Context, hc *http.Client, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				m[f[0]] = v
			}
		}
	}
	return m, sc.Err()
}

func (s *sampler) all() map[string][]sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]sample{}
	for k, v := range s.samples {
		out[k] = append([]sample(nil), v...)
	}
	return out
}

// growth judges one node's series for unbounded growth: within each
// process lifetime, after a warm-up, the last third of the samples against
// the first third. A fleet under steady load levels off; a leak keeps
// climbing. It returns a finding, or "" when the series is flat enough.
func growth(series []sample, warmup time.Duration) (finding string) {
	byStart := map[int][]sample{}
	for _, s := range series {
		byStart[s.start] = append(byStart[s.start], s)
	}
	for _, ss := range byStart {
		if len(ss) == 0 {
			continue
		}
		t0 := ss[0].at
		var w []sample
		for _, s := range ss {
			if s.at.Sub(t0) >= warmup {
				w = append(w, s)
			}
		}
		if len(w) < 6 {
			continue // too short a life to judge
		}
		third := len(w) / 3
		mean := func(l []sample, f func(sample) float64) float64 {
			var sum float64
			for _, s := range l {
				sum += f(s)
			}
			return sum / float64(len(l))
		}
		g0, g1 := mean(w[:third], func(s sample) float64 { return s.goroutines }), mean(w[len(w)-third:], func(s sample) float64 { return s.goroutines })
		h0, h1 := mean(w[:third], func(s sample) float64 { return s.heap }), mean(w[len(w)-third:], func(s sample) float64 { return s.heap })
		if g1 > 2*g0+200 {
			return "goroutines grew from " + strconv.Itoa(int(g0)) + " to " + strconv.Itoa(int(g1))
		}
		if h1 > 2*h0+128<<20 {
			return "heap in use grew from " + mib(h0) + " to " + mib(h1)
		}
	}
	return ""
}

func mib(b float64) string { return strconv.FormatFloat(b/(1<<20), 'f', 1, 64) + " MiB" }
