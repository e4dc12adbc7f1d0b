package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
)

// startProfiles starts the profiles named in the environment, for
// benchmarking (docs/benchmarks.md), and returns the function that writes and
// closes them at shutdown:
//
//	TOLLGATE_CPUPROFILE=FILE    CPU profile of the whole run
//	TOLLGATE_TRACE=FILE         runtime/trace execution trace (where the wall time goes)
//	TOLLGATE_BLOCKPROFILE=FILE  off-CPU profile: time goroutines spend blocked
//	                            (channels, locks, select), every event recorded
//	TOLLGATE_MUTEXPROFILE=FILE  contended mutexes, every event recorded
//
// Unset, nothing is started and nothing is paid.
func startProfiles() (stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	create := func(key string) (*os.File, error) {
		f, err := os.Create(os.Getenv(key))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		return f, nil
	}
	if os.Getenv("TOLLGATE_CPUPROFILE") != "" {
		f, err := create("TOLLGATE_CPUPROFILE")
		if err != nil {
			return stop, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return stop, fmt.Errorf("TOLLGATE_CPUPROFILE: %w", err)
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if os.Getenv("TOLLGATE_TRACE") != "" {
		f, err := create("TOLLGATE_TRACE")
		if err != nil {
			return stop, err
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			return stop, fmt.Errorf("TOLLGATE_TRACE: %w", err)
		}
		stops = append(stops, func() { trace.Stop(); f.Close() })
	}
	for _, p := range []struct{ key, name string }{
		{"TOLLGATE_BLOCKPROFILE", "block"},
		{"TOLLGATE_MUTEXPROFILE", "mutex"},
	} {
		if os.Getenv(p.key) == "" {
			continue
		}
		f, err := create(p.key)
		if err != nil {
			return stop, err
		}
		if p.name == "block" {
			runtime.SetBlockProfileRate(1)
		} else {
			runtime.SetMutexProfileFraction(1)
		}
		name := p.name
		stops = append(stops, func() { pprof.Lookup(name).WriteTo(f, 0); f.Close() })
	}
	return stop, nil
}
