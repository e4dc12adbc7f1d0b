package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// binary builds tollgate once per test run.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tollgate-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tollgate")
		out, err := exec.Command("go", "build", "-race", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freePort returns a loopback address that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitListening waits until addr accepts connections.
func waitListening(t *testing.T, addr string, proc *exec.Cmd, log *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if proc.ProcessState != nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s never listened; output:\n%s", addr, log.String())
}

// waitStarted waits until serve logs that it started (every listener is
// bound by then) and reports false if the process exited first.
func waitStarted(t *testing.T, out *syncBuffer, exited <-chan struct{}) bool {
	t.Helper()
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(out.String(), "tollgate started") {
		select {
		case <-exited:
			return strings.Contains(out.String(), "tollgate started")
		case <-deadline:
			t.Fatalf("serve did not start within 60 s:\n%s", out.String())
		case <-tick.C:
		}
	}
	return true
}

// syncBuffer collects a child process's output; the process writes it while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestHelp(t *testing.T) {
	bin := binary(t)
	all := [][]string{{"--help"}, {"serve", "--help"}, {"admin", "--help"}, {"classify", "--help"}, {"classify", "train", "--help"}, {"classify", "eval", "--help"}, {"simulate", "--help"}, {"config", "--help"}, {"config", "check", "--help"}, {"version", "--help"}}
	for _, c := range adminCommands {
		all = append(all, append(append([]string{"admin"}, strings.Fields(c.name)...), "--help"))
	}
	for old := range deprecatedAdminNames {
		all = append(all, []string{"admin", old, "--help"})
	}
	for _, args := range all {
		// Help is on stdout and the exit status is 0.
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Errorf("tollgate %v: %v\n%s", args, err, out)
		}
		if !strings.Contains(string(out), "Usage") {
			t.Errorf("tollgate %v prints no usage on stdout:\n%s", args, out)
		}
	}
	// --version is version.
	v1, err1 := exec.Command(bin, "version").Output()
	v2, err2 := exec.Command(bin, "--version").Output()
	if err1 != nil || err2 != nil || !strings.HasPrefix(string(v1), "tollgate ") || string(v1) != string(v2) {
		t.Errorf("tollgate version: %v %q; tollgate --version: %v %q", err1, v1, err2, v2)
	}
	out, err := exec.Command(bin, "serve", "--config", "/nonexistent/tollgate.toml").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "/nonexistent/tollgate.toml") {
		t.Errorf("a missing config file must be an error naming it: %v\n%s", err, out)
	}
	cfg := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(cfg, []byte("[smtp]\nmax_recipents = 10\n"), 0o600)
	out, err = exec.Command(bin, "serve", "--config", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "smtp.max_recipents") {
		t.Errorf("an unknown key must be an error naming it: %v\n%s", err, out)
	}
}

// The README's first steps: serve --dev, send with swaks (or go-smtp where
// swaks is not installed), list with tollgate admin messages.
func TestDevModeFirstMessage(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	var relay, admin, submission string
	var out *syncBuffer
	var cmd *exec.Cmd
	var exited chan struct{}
	var waitErr error
	// freePort's ports are free when chosen, not when bound: with other
	// tests' processes starting at the same time, one may be taken first.
	// Then serve exits saying so, and the test tries fresh ports.
	for attempt := 1; ; attempt++ {
		relay, admin, submission = freePort(t), freePort(t), freePort(t)
		out = &syncBuffer{}
		cmd = exec.Command(bin, "serve", "--dev", "--listen-relay", relay, "--listen-submission", submission,
			"--listen-submissions", freePort(t), "--listen-admin", admin)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c, done := cmd, make(chan struct{})
		exited = done
		go func() { waitErr = c.Wait(); close(done) }()
		t.Cleanup(func() { c.Process.Kill(); <-done })
		if waitStarted(t, out, exited) {
			break
		}
		if attempt == 3 || !strings.Contains(out.String(), "address already in use") {
			t.Fatalf("serve --dev did not start:\n%s", out.String())
		}
	}

	if swaks, err := exec.LookPath("swaks"); err == nil {
		host, port, _ := net.SplitHostPort(relay)
		o, err := exec.Command(swaks, "--server", host, "--port", port, "--from", "a@demo.test",
			"--to", "someone@example.net", "--header", "Subject: first from swaks").CombinedOutput()
		if err != nil {
			t.Fatalf("swaks: %v\n%s", err, o)
		}
		// The README's submission example: STARTTLS, AUTH LOGIN with the
		// printed password. (swaks needs Net::SSLeay for TLS.)
		if exec.Command("perl", "-MNet::SSLeay", "-e1").Run() == nil {
			pw, err := os.ReadFile(filepath.Join(dir, "tollgate-data", "dev-user-password"))
			if err != nil {
				t.Fatal(err)
			}
			_, sport, _ := net.SplitHostPort(submission)
			o, err := exec.Command(swaks, "--server", host, "--port", sport, "--tls", "--auth", "LOGIN",
				"--auth-user", "user@demo.test", "--auth-password", strings.TrimSpace(string(pw)),
				"--from", "user@demo.test", "--to", "colleague@example.net").CombinedOutput()
			if err != nil || !strings.Contains(string(o), "235 2.0.0") || !strings.Contains(string(o), "queued as") {
				t.Fatalf("swaks submission with STARTTLS and AUTH LOGIN: %v\n%s", err, o)
			}
		} else {
			t.Log("swaks cannot do TLS here (no Net::SSLeay); the submission path is covered by the gateway tests")
		}
	} else {
		t.Log("swaks is not installed; sending the first message with go-smtp instead")
		if err := plainSend(relay, "a@demo.test", []string{"someone@example.net"},
			"Subject: first from swaks\r\n\r\nhello\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		admCmd := exec.Command(bin, "admin", "--server", "http://"+admin, "messages")
		admCmd.Dir = dir // finds tollgate-data/admin-token by itself
		o, err := admCmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tollgate admin messages: %v\n%s\nserver output:\n%s", err, o, out.String())
		}
		if strings.Contains(string(o), "someone@example.net") && strings.Contains(string(o), "first from swaks") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the message never showed in tollgate admin messages:\n%s\nserver output:\n%s", o, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "user@demo.test  password: ") {
		t.Fatalf("dev mode must print the demo user's password:\n%s", out.String())
	}
	// A clean stop on SIGTERM.
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", waitErr, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30s of SIGTERM")
	}
}

// plainSend sends one message without TLS, as a connector's server might.
func plainSend(addr, from string, to []string, body string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.CommandTimeout = 30 * time.Second
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	if err := c.SendMail(from, to, strings.NewReader(body)); err != nil {
		return err
	}
	return c.Quit()
}
