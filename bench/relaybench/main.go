// Command relaybench drives concurrent SMTP sessions through a relay to a
// discarding sink and reports what a user of the relay feels: messages
// accepted per second, messages delivered per second end to end, the latency
// of the 250 reply after DATA, and the relay's memory per idle connection.
//
// By default it starts the tollgate binary itself (serve --dev on loopback,
// relaying to the bench's own sink); with -target it measures any relay
// that forwards to -sink-addr instead.
//
//	go build -o /tmp/tollgate ./cmd/tollgate
//	go run ./bench/relaybench -tollgate /tmp/tollgate -n 5000 -c 10 -size 1024
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

func main() {
	tollgate := flag.String("tollgate", "", "path of the tollgate binary to start (default: measure -target)")
	target := flag.String("target", "", "relay to measure, HOST:PORT, when not starting tollgate")
	sinkAddr := flag.String("sink-addr", "127.0.0.1:0", "address of the bench's discarding sink")
	n := flag.Int("n", 5000, "messages to send")
	c := flag.Int("c", 10, "concurrent sessions")
	size := flag.Int("size", 1024, "body bytes per message")
	reuse := flag.Bool("reuse", false, "send many messages per session (default: one connection per message, as smtp-source)")
	idle := flag.Int("idle", 1000, "idle connections to open for the memory measurement (0: skip)")
	logLevel := flag.String("log-level", "info", "tollgate's log level")
	config := flag.String("config", "bench/tollgate-bench.toml", "tollgate configuration file (raises the per-address connection limit)")
	flag.Parse()

	sink, err := startSink(*sinkAddr)
	if err != nil {
		fatal(err)
	}
	var proc *exec.Cmd
	if *tollgate != "" {
		proc, *target, err = startTollgate(*tollgate, *config, sink.addr, *logLevel)
		if err != nil {
			fatal(err)
		}
		defer func() { proc.Process.Signal(syscall.SIGTERM); proc.Wait() }()
	}
	if *target == "" {
		fatal(errors.New("give -tollgate or -target"))
	}

	body := makeBody(*size)
	// Warm up: connections, caches, the page cache of the spool.
	run(*target, 200, *c, body, *reuse)
	if !sink.wait(200, 60*time.Second) {
		fatal(errors.New("warm-up messages did not all arrive"))
	}
	sink.reset()

	start := time.Now()
	lat, failed := run(*target, *n, *c, body, *reuse)
	accept := time.Since(start)
	if !sink.wait(int64(*n-failed), 10*time.Minute) {
		fatal(fmt.Errorf("only %d of %d messages arrived", sink.count.Load(), *n-failed))
	}
	e2e := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fmt.Printf("size=%d sessions=%d n=%d reuse=%v failed=%d\n", *size, *c, *n, *reuse, failed)
	fmt.Printf("accepted/s %.0f  delivered/s (end to end) %.0f\n", float64(*n-failed)/accept.Seconds(), float64(*n-failed)/e2e.Seconds())
	if len(lat) > 0 {
		fmt.Printf("250-after-DATA latency p50 %s  p99 %s\n", pct(lat, 50), pct(lat, 99))
	}
	if proc != nil && *idle > 0 {
		per, err := idleMemory(proc.Process.Pid, *target, *idle)
		if err != nil {
			fmt.Println("idle memory:", err)
		} else {
			fmt.Printf("memory per idle connection %.1f KiB (%d connections)\n", per/1024, *idle)
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "relaybench:", err)
	os.Exit(1)
}

func makeBody(size int) string {
	var b strings.Builder
	b.WriteString("From: bench@demo.test\r\nTo: sink@example.net\r\nSubject: bench\r\n\r\n")
	line := strings.Repeat("x", 76) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	return b.String()
}

func pct(l []time.Duration, p int) time.Duration { return l[(len(l)-1)*p/100] }

// run sends n messages over c sessions and returns the 250 latencies.
func run(target string, n, c int, body string, reuse bool) ([]time.Duration, int) {
	var next atomic.Int64
	var failed atomic.Int64
	lats := make([][]time.Duration, c)
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var cl *smtp.Client
			for next.Add(1) <= int64(n) {
				var err error
				if cl == nil {
					cl, err = smtp.Dial(target)
					if err == nil {
						err = cl.Hello("bench.test")
					}
					if err != nil {
						failed.Add(1)
						cl = nil
						continue
					}
				}
				d, err := sendOne(cl, body)
				if err != nil {
					failed.Add(1)
					cl.Close()
					cl = nil
					continue
				}
				lats[w] = append(lats[w], d)
				if !reuse {
					cl.Quit()
					cl = nil
				}
			}
			if cl != nil {
				cl.Quit()
			}
		}()
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	return all, int(failed.Load())
}

func sendOne(cl *smtp.Client, body string) (time.Duration, error) {
	if err := cl.Mail("bench@demo.test", nil); err != nil {
		return 0, err
	}
	if err := cl.Rcpt("sink@example.net", nil); err != nil {
		return 0, err
	}
	w, err := cl.Data()
	if err != nil {
		return 0, err
	}
	if _, err := io.WriteString(w, body); err != nil {
		return 0, err
	}
	t := time.Now()
	err = w.Close()
	return time.Since(t), err
}

// startTollgate runs the binary in dev mode on free loopback ports, relaying
// to the sink, with its data on the same disk as the temp directory.
func startTollgate(bin, config, sink, logLevel string) (*exec.Cmd, string, error) {
	dir, err := os.MkdirTemp("", "relaybench")
	if err != nil {
		return nil, "", err
	}
	relay := freeAddr()
	cmd := exec.Command(bin, "serve", "--dev", "--config", config, "--data-dir", filepath.Join(dir, "data"), "--listen-relay", relay,
		"--listen-submission", "", "--listen-submissions", "", "--listen-admin", "", "--smarthost", sink,
		"--log-level", logLevel)
	logf, err := os.Create(filepath.Join(dir, "tollgate.log"))
	if err != nil {
		return nil, "", err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", relay); err == nil {
			c.Close()
			fmt.Fprintf(os.Stderr, "tollgate pid %d on %s, data and log in %s\n", cmd.Process.Pid, relay, dir)
			return cmd, relay, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	return nil, "", errors.New("tollgate did not start; see " + logf.Name())
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// idleMemory opens k connections that greet and then idle, and returns the
// growth of the relay's resident memory per connection.
func idleMemory(pid int, target string, k int) (float64, error) {
	before, err := rss(pid)
	if err != nil {
		return 0, err
	}
	conns := make([]net.Conn, 0, k)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < k; i++ {
		c, err := net.Dial("tcp", target)
		if err != nil {
			return 0, fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
		r := bufio.NewReader(c)
		if _, err := r.ReadString('\n'); err != nil {
			return 0, err
		}
		fmt.Fprintf(c, "EHLO idle.test\r\n")
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return 0, err
			}
			if len(l) > 3 && l[3] == ' ' {
				break
			}
		}
	}
	time.Sleep(2 * time.Second) // let the runtime settle; this measures, it asserts nothing
	after, err := rss(pid)
	if err != nil {
		return 0, err
	}
	return float64(after-before) / float64(k), nil
}

func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}
