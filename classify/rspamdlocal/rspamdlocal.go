// Package rspamdlocal runs a private rspamd on loopback, for the classify
// tests and for `tollgate classify eval --rspamd local`: its own config,
// database and log folders under one directory, its own port, and a DNS
// resolver of its own that refuses every query, so rspamd's network checks
// (RBLs, SURBL, remote maps, fuzzy hashes) fail at once instead of reaching
// beyond 127.0.0.0/8. What is compared is rspamd's local rules.
package rspamdlocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrNotInstalled is returned when there is no rspamd binary.
var ErrNotInstalled = errors.New("rspamd is not installed (Debian: apt-get install rspamd)")

// Server is a running private rspamd.
type Server struct {
	URL  string // the normal worker, http://127.0.0.1:PORT
	dir  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	dns  *net.UDPConn
}

// Options for Start.
type Options struct {
	// Hyperscan keeps rspamd's hyperscan regexp engine, as production runs
	// it; compiling its databases takes tens of seconds at the first start,
	// so tests leave it off (rspamd then matches with PCRE).
	Hyperscan bool
	// StartTimeout bounds the wait for rspamd to answer /ping (default 2 min).
	StartTimeout time.Duration
}

// disabledModules need Redis, keys, or servers on the Internet.
var disabledModules = []string{
	"fuzzy_check", "rbl", "phishing", "multimap", "whitelist", "asn", "neural", "ratelimit",
	"greylist", "replies", "reputation", "url_reputation", "dkim_signing", "arc", "history_redis",
	"dcc", "metadata_exporter", "clickhouse", "elastic", "external_services", "antivirus",
}

// Start writes a config under dir, starts rspamd and waits until it answers.
func Start(ctx context.Context, dir string, opts Options) (*Server, error) {
	bin, err := exec.LookPath("rspamd")
	if err != nil {
		return nil, ErrNotInstalled
	}
	dns, err := startRefusingDNS()
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, dns: dns, done: make(chan struct{})}
	port, err := freePort()
	if err != nil {
		dns.Close()
		return nil, err
	}
	s.URL = "http://" + port
	if err := writeConfig(dir, port, dns.LocalAddr().String(), opts.Hyperscan); err != nil {
		dns.Close()
		return nil, err
	}
	args := []string{"-f", "-c", filepath.Join(dir, "rspamd.conf"),
		"--var=LOCAL_CONFDIR=" + dir, "--var=DBDIR=" + filepath.Join(dir, "db"),
		"--var=RUNDIR=" + filepath.Join(dir, "run"), "--var=LOGDIR=" + filepath.Join(dir, "log")}
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		// rspamd will not run its workers as root without being told to.
		args = append(args, "-i", "-u", "root", "-g", "root")
	}
	s.cmd = exec.Command(bin, args...)
	var out bytes.Buffer
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers go with it on Close
	if err := s.cmd.Start(); err != nil {
		dns.Close()
		return nil, fmt.Errorf("starting rspamd: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx, opts.StartTimeout); err != nil {
		s.Close()
		log, _ := os.ReadFile(filepath.Join(dir, "log", "rspamd.log"))
		return nil, fmt.Errorf("%w\nrspamd output:\n%s\nrspamd log:\n%s", err, out.String(), tail(log, 2000))
	}
	return s, nil
}

// waitReady polls /ping until it answers pong, rspamd exits, or the
// deadline passes.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: time.Second}
	for {
		if resp, err := client.Get(s.URL + "/ping"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.HasPrefix(string(body), "pong") {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("rspamd exited before answering on %s", s.URL)
		case <-ctx.Done():
			return fmt.Errorf("rspamd did not answer on %s within %v", s.URL, timeout)
		case <-tick.C:
		}
	}
}

// Close stops rspamd (TERM to its process group, KILL if it lingers) and
// the DNS stub.
func (s *Server) Close() error {
	defer s.dns.Close()
	if s.cmd.Process == nil {
		return nil
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
	return nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func writeConfig(dir, listen, dns string, hyperscan bool) error {
	for _, sub := range []string{"db", "run", "log", "local.d"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	hs := "disable_hyperscan = true;"
	if hyperscan {
		hs = ""
	}
	conf := fmt.Sprintf(`# Written by rspamdlocal: a private rspamd on loopback.
.include "$CONFDIR/common.conf"
options {
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    %s
    dns {
        nameserver = ["%s"];
        timeout = 0.5s;
        retransmits = 1;
    }
}
logging {
    type = "file";
    filename = "$LOGDIR/rspamd.log";
    level = "error";
}
worker "normal" {
    bind_socket = "%s";
    count = 1;
    .include "$CONFDIR/worker-normal.inc"
}
`, hs, dns, listen)
	if err := os.WriteFile(filepath.Join(dir, "rspamd.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	for _, m := range disabledModules {
		if err := os.WriteFile(filepath.Join(dir, "local.d", m+".conf"), []byte("enabled = false;\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}
