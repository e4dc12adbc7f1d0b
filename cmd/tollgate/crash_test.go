package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/devsink"
)

// SIGKILL a running gateway under load, start it again on the same data
// directory, and count: every message that got its 250 arrives.
//
// A message can arrive twice only if the kill lands between the next hop's
// 250 and our own record of it — the window every MTA has (RFC 5321 6.1
// accepts duplicates over loss). The test allows at most one duplicate per
// delivery worker that could have been in that window, and reports the count.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the real binary; skipped with -short")
	}
	bin := binary(t)
	sink, err := devsink.Start("127.0.0.1:0", "", nil, devsink.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	dir := t.TempDir()
	relay := freePort(t)
	const workers = 8
	cfgPath := filepath.Join(dir, "tollgate.toml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
data_dir = %q
hostname = "gw.test"
[listen]
relay = %q
submission = ""
submissions = ""
admin = ""
[queue]
retry_schedule = ["300ms"]
workers = %d
[delivery]
smarthost = %q
# Durability is under test, not the protection: one sender sends
# hundreds of messages a second, unclassified.
[policy]
user_messages_per_minute = 1000000000
user_recipients_per_day = 1000000000
tenant_external_per_day = 1000000000
user_external_per_hour = 0
[classify]
engine = "off"
`, filepath.Join(dir, "data"), relay, workers, sink.Addr())), 0o600)
	// The dev seed gives the 127.0.0.0/8 connector; --dev with --config
	// keeps the file's listeners and smarthost.
	startGW := func(out *syncBuffer) *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--dev", "--config", cfgPath)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitListening(t, relay, cmd, out)
		return cmd
	}
	var out1 syncBuffer
	gw := startGW(&out1)

	var acked sync.Map // seq -> true: got 250
	var nAcked atomic.Int64
	var seq atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := 0; c < 10; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := seq.Add(1)
				body := fmt.Sprintf("X-Seq: %d\r\nSubject: load %d\r\n\r\n%s\r\n", n, n, strings.Repeat("payload ", 200))
				if err := plainSend(relay, "a@demo.test", []string{"x@example.net"}, body); err == nil {
					acked.Store(n, true)
					nAcked.Add(1)
				} else if strings.Contains(err.Error(), "connection refused") {
					return // the gateway is gone
				}
			}
		}()
	}
	// Kill once enough messages were accepted and some are still in flight.
	deadline := time.Now().Add(60 * time.Second)
	for nAcked.Load() < 300 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := gw.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	gw.Wait()
	close(stop)
	wg.Wait()
	killedAt := nAcked.Load()
	deliveredBeforeRestart := sink.Count()
	t.Logf("killed after %d messages got 250; %d had reached the sink", killedAt, deliveredBeforeRestart)
	if killedAt < 300 {
		t.Fatalf("only %d messages accepted before the kill", killedAt)
	}

	var out2 syncBuffer
	gw2 := startGW(&out2)
	defer func() { gw2.Process.Kill(); gw2.Wait() }()

	want := map[int64]bool{}
	acked.Range(func(k, _ any) bool { want[k.(int64)] = true; return true })
	ok := sink.Wait(60*time.Second, func(msgs []*devsink.Message) bool {
		seen := 0
		got := map[int64]bool{}
		for _, m := range msgs {
			var n int64
			fmt.Sscanf(headerValue(m.Data, "X-Seq"), "%d", &n)
			if want[n] && !got[n] {
				got[n] = true
				seen++
			}
		}
		return seen == len(want)
	})
	counts := map[int64]int{}
	for _, m := range sink.Messages() {
		var n int64
		fmt.Sscanf(headerValue(m.Data, "X-Seq"), "%d", &n)
		counts[n]++
	}
	var lost []int64
	for n := range want {
		if counts[n] == 0 {
			lost = append(lost, n)
		}
	}
	dups := 0
	for _, c := range counts {
		if c > 1 {
			dups += c - 1
		}
	}
	t.Logf("after restart: %d acknowledged, %d lost, %d duplicate deliveries, %d unacknowledged also delivered",
		len(want), len(lost), dups, len(counts)-len(want)+len(lost))
	if !ok || len(lost) > 0 {
		t.Fatalf("%d message(s) that got 250 never arrived (e.g. %v)\nlog after restart:\n%s", len(lost), first(lost, 5), out2.String())
	}
	if dups > workers {
		t.Fatalf("%d duplicates; at most %d (one per delivery worker in flight) can come from the kill window", dups, workers)
	}
}

func headerValue(data []byte, name string) string {
	for _, line := range strings.Split(string(data), "\r\n") {
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func first(l []int64, n int) []int64 {
	if len(l) > n {
		return l[:n]
	}
	return l
}
