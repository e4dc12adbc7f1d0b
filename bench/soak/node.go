package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// node is one `tollgate serve` of the fleet, with its own data directory,
// spool and source address (so the sink can tell which node delivered).
type node struct {
	name     string
	bin      string
	dir      string
	config   string
	source   string // the delivery source address, 127.0.2.N
	relay    string
	submit   string
	admin    string
	spool    string
	starts   int
	p        *proc
	logPath  string
	killedAt []time.Time
	// exits lists the times the node exited without the soak stopping it:
	// a crash, which fails the soak.
	mu        sync.Mutex
	stopping  bool
	exits     []time.Time
	startedAt time.Time
}

// nodeConfig is what the soak writes for each node. The limits that would
// throttle a load generator sending from a handful of addresses are raised;
// every check still runs and counts, and the soak's own tenants carry the
// limits under test as per-tenant overrides.
const nodeConfig = `data_dir = %q
hostname = %q

[store]
postgres_dsn = %q

[counters]
redis_url = %q
prefix = "soak:"

[listen]
relay = %q
submission = %q
submissions = ""
admin = %q

[admin]
token_file = %q

[queue]
dir = %q
retry_schedule = ["2s", "5s", "10s"]
workers = 16
min_free_bytes = %d
min_free_percent = 0

[delivery]
smarthost = %q
resolver = %q
connect_timeout = "5s"
command_timeout = "30s"
data_timeout = "30s"

[delivery.pools.normal]
source_addresses = [%q]

[delivery.pools.high-risk]
source_addresses = [%q]

[smtp]
max_connections_per_ip = 500
max_connections_per_network = 2000
auth_failure_delay = "100ms"

[reputation]
trusted_ranges = ["127.0.0.0/8"]

[policy]
connector_probation_quota = 100000000
user_messages_per_minute = 100000
user_recipients_per_day = 100000000
tenant_external_per_day = 100000000
unregistered_per_day = 100000000
user_external_per_hour = 0
user_internal_per_hour = 0
`

func newNode(i int, bin, root, dsn, redisURL, token, sinkAddr, dnsAddr, spool string, minFree int64) (*node, error) {
	n := &node{name: fmt.Sprintf("node%d", i+1), bin: bin, dir: filepath.Join(root, fmt.Sprintf("node%d", i+1)),
		source: fmt.Sprintf("127.0.2.%d", i+1)}
	if err := os.MkdirAll(n.dir, 0o700); err != nil {
		return nil, err
	}
	if spool == "" {
		spool = filepath.Join(n.dir, "spool")
	}
	n.spool = spool
	var err error
	for _, a := range []*string{&n.relay, &n.submit, &n.admin} {
		if *a, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	tokenFile := filepath.Join(n.dir, "admin-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		return nil, err
	}
	n.config = filepath.Join(n.dir, "tollgate.toml")
	n.logPath = filepath.Join(n.dir, "tollgate.log")
	cfg := fmt.Sprintf(nodeConfig, filepath.Join(n.dir, "data"), "soak-"+n.name, dsn, redisURL, n.relay, n.submit, n.admin,
		tokenFile, spool, minFree, sinkAddr, dnsAddr, n.source, n.source)
	return n, os.WriteFile(n.config, []byte(cfg), 0o600)
}

func (n *node) start() error {
	n.starts++
	p, err := startProc(n.bin, []string{"serve", "--config", n.config, "--log-level", "warn"}, n.logPath, func(c *exec.Cmd) {
		c.Env = append(os.Environ(), "GOMAXPROCS=2")
	})
	if err != nil {
		return err
	}
	n.p = p
	n.mu.Lock()
	n.stopping = false
	n.mu.Unlock()
	go func() {
		<-p.exited
		n.mu.Lock()
		defer n.mu.Unlock()
		if !n.stopping {
			n.exits = append(n.exits, time.Now())
		}
	}()
	for _, a := range []string{n.admin, n.relay, n.submit} {
		if err := waitListening(a, 90*time.Second, p.exited); err != nil {
			return fmt.Errorf("%s: %w (log: %s)", n.name, err, n.logPath)
		}
	}
	n.startedAt = time.Now()
	return nil
}

func (n *node) running() bool {
	if n.p == nil {
		return false
	}
	select {
	case <-n.p.exited:
		return false
	default:
		return true
	}
}

// kill is kill -9: no drain, no shutdown; the spool is left as it was.
func (n *node) kill() {
	n.expectExit()
	n.killedAt = append(n.killedAt, time.Now())
	n.p.signal(syscall.SIGKILL)
	<-n.p.exited
}

// stop drains the node (SIGTERM) as an operator would.
func (n *node) stop() {
	if n.running() {
		n.expectExit()
		n.p.stop(syscall.SIGTERM, 30*time.Second)
	}
}

func (n *node) expectExit() {
	n.mu.Lock()
	n.stopping = true
	n.mu.Unlock()
}

// crashes returns the times the node exited on its own.
func (n *node) crashes() []time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]time.Time(nil), n.exits...)
}
