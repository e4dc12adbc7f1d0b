package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Bad flags are refused with the flag's name; -short sets the CI mode's
// figures unless a flag says otherwise.
func TestParseFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-duration", "5s"}, "-duration: at least 30s"},
		{[]string{"-tenants", "0"}, "-tenants: 1 to 250"},
		{[]string{"-senders", "0"}, "-senders: at least 1"},
		{[]string{"-pace", "0s"}, "-pace: must be positive"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-duration", "soon"}, "invalid value"},
	} {
		var stderr bytes.Buffer
		if _, err := parseFlags(c.args, &stderr); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error containing %q", c.args, err, c.want)
		}
	}
	o, err := parseFlags([]string{"-short"}, &bytes.Buffer{})
	if err != nil || o.duration != 2*time.Minute || o.rounds != 1 || o.faultHold != 10*time.Second || o.tenants != 12 {
		t.Fatalf("-short: %+v %v", o, err)
	}
	o, err = parseFlags([]string{"-short", "-duration", "90s", "-hold", "5s"}, &bytes.Buffer{})
	if err != nil || o.duration != 90*time.Second || o.faultHold != 5*time.Second {
		t.Fatalf("-short -duration 90s -hold 5s: %+v %v", o, err)
	}
	o, err = parseFlags(nil, &bytes.Buffer{})
	if err != nil || o.duration != 10*time.Minute || o.rounds != 2 || o.faultHold != 30*time.Second || !o.faults {
		t.Fatalf("defaults: %+v %v", o, err)
	}
}

// A series that levels off passes; one that keeps climbing is reported,
// and a kill's restart (a new start) begins a new series.
func TestGrowth(t *testing.T) {
	t0 := time.Now()
	mk := func(start int, n int, g func(i int) float64) []sample {
		var s []sample
		for i := 0; i < n; i++ {
			s = append(s, sample{at: t0.Add(time.Duration(i) * 10 * time.Second), start: start, goroutines: g(i), heap: 50 << 20})
		}
		return s
	}
	flat := mk(1, 30, func(i int) float64 { return 45 + float64(i%3) })
	if f := growth(flat, 30*time.Second); f != "" {
		t.Errorf("flat series: %s", f)
	}
	leak := mk(1, 30, func(i int) float64 { return 45 + 40*float64(i) })
	if f := growth(leak, 30*time.Second); !strings.Contains(f, "goroutines grew") {
		t.Errorf("leaking series: %q", f)
	}
	// Two lives, each flat, the second higher than the first: no growth.
	two := append(mk(1, 10, func(int) float64 { return 45 }), mk(2, 10, func(int) float64 { return 400 })...)
	if f := growth(two, 30*time.Second); f != "" {
		t.Errorf("two flat lives: %s", f)
	}
}
