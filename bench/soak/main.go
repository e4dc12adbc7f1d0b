// Command soak runs a three-node Tollgate fleet on one PostgreSQL schema and
// one Redis of its own under sustained load from many tenants, injects
// faults on a schedule (kill -9 of a node, Redis restarted and unreachable,
// PostgreSQL restarted, a spool disk full), and checks what an operator
// needs before moving a provider onto a fleet: every message that got its
// 250 arrives exactly once, no limit is exceeded across the fleet beyond
// the counters' one bucket, the compromised tenant sends no more than its
// stop allows, and memory and goroutines level off. It exits 1 when any
// check fails.
//
//	go run ./bench/soak                # 10 minutes, every fault twice
//	go run ./bench/soak -short         # 2 minutes, every fault once (CI)
//
// See docs/scaling.md, "Soak", for what each fault does to a sender.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the soak's flags.
type options struct {
	duration   time.Duration
	short      bool
	tollgate   string
	sharedPG   string
	keep       bool
	faults     bool
	tenants    int
	senders    int
	pace       time.Duration
	faultHold  time.Duration
	rounds     int
	drainLimit time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: go run ./bench/soak [-short] [-duration 10m] [flags]

Starts three tollgate serve nodes on a private PostgreSQL schema (a private
cluster when initdb can run, else the shared server at -postgres) and a
private redis-server, feeds them mail from many tenants, injects faults on a
schedule and reports losses, duplicates, limits, memory and the p99 of the
250 per minute. Exits 1 when a check fails.

Flags:
`)
		fs.PrintDefaults()
	}
	var o options
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "how long the load runs (faults are spread over it)")
	fs.BoolVar(&o.short, "short", false, "CI mode: 2 minutes of load, every fault once, shorter outages")
	fs.StringVar(&o.tollgate, "tollgate", "", "tollgate `binary` to run (default: go build ./cmd/tollgate into a temp dir)")
	fs.StringVar(&o.sharedPG, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"PostgreSQL `DSN` to put the fleet's schema on when no private cluster can be started (never restarted)")
	fs.BoolVar(&o.faults, "faults", true, "inject the faults (false: the same load on a healthy fleet, for a baseline)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temp directory (logs, configs, spools) for a look afterwards")
	fs.IntVar(&o.tenants, "tenants", 24, "ordinary tenants (a third send with AUTH, the rest through connectors)")
	fs.IntVar(&o.senders, "senders", 12, "concurrent ordinary senders")
	fs.DurationVar(&o.pace, "pace", 400*time.Millisecond, "mean pause between one sender's messages")
	hold := fs.Duration("hold", 0, "how long each outage lasts (default 30s, 10s with -short)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (see -help)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.rounds, o.faultHold, o.drainLimit = 2, 30*time.Second, 3*time.Minute
	if o.short {
		if !set["duration"] {
			o.duration = 2 * time.Minute
		}
		if !set["tenants"] {
			o.tenants = 12
		}
		if !set["senders"] {
			o.senders = 8
		}
		o.rounds, o.faultHold, o.drainLimit = 1, 10*time.Second, 90*time.Second
	}
	if *hold > 0 {
		o.faultHold = *hold
	}
	switch {
	case o.duration < 30*time.Second:
		return o, fmt.Errorf("-duration: at least 30s, got %s", o.duration)
	case o.tenants < 1 || o.tenants > 250:
		return o, fmt.Errorf("-tenants: 1 to 250, got %d", o.tenants)
	case o.senders < 1:
		return o, fmt.Errorf("-senders: at least 1, got %d", o.senders)
	case o.pace <= 0:
		return o, fmt.Errorf("-pace: must be positive, got %s", o.pace)
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err == flag.ErrHelp {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if len(rep.failures) > 0 {
		fmt.Fprintf(os.Stdout, "FAIL: %d check(s) failed\n", len(rep.failures))
		os.Exit(1)
	}
	fmt.Fprintln(os.Stdout, "PASS")
}
