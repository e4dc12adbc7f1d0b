package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// buildTollgate compiles ./cmd/tollgate of the module the soak runs in
// into dir, so the soak measures the tree it was started from.
func buildTollgate(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "tollgate")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/tollgate")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/tollgate in %s: %w\n%s", root, err, out)
	}
	return bin, nil
}

// moduleRoot walks up from the working directory to the go.mod of the
// tollgate module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/tollgate-mail/tollgate\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the tollgate module (no go.mod found above the working directory); give -tollgate")
		}
		dir = parent
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitListening waits until addr accepts connections or the process exits.
func waitListening(addr string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("the process exited before listening on %s", addr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("nothing listening on %s after %s", addr, timeout)
}

// proc is a child process the soak started and may kill.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startProc(name string, args []string, logPath string, setup func(*exec.Cmd)) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a ^C to the soak does not reach the children
	// before the soak has stopped them in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if setup != nil {
		setup(cmd)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(p.exited) }()
	return p, nil
}

func (p *proc) signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// stop sends sig and waits up to timeout for the exit, then kills.
func (p *proc) stop(sig syscall.Signal, timeout time.Duration) {
	p.signal(sig)
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.signal(syscall.SIGKILL)
		<-p.exited
	}
}

// redisServer is the soak's private Redis: restarted, stopped and
// continued by the fault schedule without touching anyone else's.
type redisServer struct {
	bin, dir, addr string
	p              *proc
}

func startRedis(dir string) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server is not installed (PATH)")
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	r := &redisServer{bin: bin, dir: dir, addr: addr}
	return r, r.start()
}

func (r *redisServer) start() error {
	_, port, _ := net.SplitHostPort(r.addr)
	// No RDB snapshots, but an append-only file, as docs/scaling.md asks of
	// a fleet's Redis: a restart keeps the windows, so the limits hold
	// across it.
	p, err := startProc(r.bin, []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
		"--dir", r.dir, "--protected-mode", "no"}, filepath.Join(r.dir, "redis.log"), nil)
	if err != nil {
		return err
	}
	r.p = p
	return waitListening(r.addr, 20*time.Second, p.exited)
}

func (r *redisServer) url() string { return "redis://" + r.addr + "/0" }

// restart shuts Redis down cleanly (the append-only file is flushed) and
// starts it again on the same port.
func (r *redisServer) restart() error {
	r.p.stop(syscall.SIGTERM, 20*time.Second)
	return r.start()
}

func (r *redisServer) close() { r.p.stop(syscall.SIGTERM, 10*time.Second) }

// postgres is where the fleet's directory lives: a private cluster of the
// soak's own when initdb can run (so the fault schedule may restart it),
// else a fresh schema on the shared server, which is never restarted.
type postgres struct {
	dsn     string // with the schema's search_path
	private bool
	pgCtl   string
	dataDir string
	port    string
	admin   string // DSN without search_path, for CREATE/DROP SCHEMA
	schema  string
	asUser  *syscall.Credential
	logPath string
}

// startPostgres tries a private cluster first; shared is the DSN of the
// server to fall back to. why says, when private is false, why not.
func startPostgres(ctx context.Context, dir, shared string) (pg *postgres, why string, err error) {
	pg, why = startPrivatePostgres(ctx, dir)
	if pg == nil {
		pg = &postgres{admin: shared}
	}
	pg.schema = fmt.Sprintf("tollgate_soak_%d", time.Now().UnixNano())
	if err := pg.exec(ctx, "CREATE SCHEMA "+pg.schema); err != nil {
		pg.close(ctx)
		return nil, why, fmt.Errorf("create schema on %s: %w", redactDSN(pg.admin), err)
	}
	pg.dsn = withSearchPath(pg.admin, pg.schema)
	return pg, why, nil
}

func startPrivatePostgres(ctx context.Context, dir string) (*postgres, string) {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			bins = []string{p}
		}
	}
	if len(bins) == 0 {
		return nil, "no initdb found (/usr/lib/postgresql/*/bin or PATH)"
	}
	initdb := bins[len(bins)-1]
	pg := &postgres{pgCtl: filepath.Join(filepath.Dir(initdb), "pg_ctl"), dataDir: filepath.Join(dir, "pgdata"), private: true,
		logPath: filepath.Join(dir, "postgres.log")}
	// PostgreSQL refuses to run as root: run it as the postgres user then.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, "running as root and there is no postgres user to run a private cluster as"
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.asUser = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, "cannot give the postgres user the temp dir: " + err.Error()
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err.Error()
	}
	_, pg.port, _ = net.SplitHostPort(addr)
	if out, err := pg.run(ctx, initdb, "-D", pg.dataDir, "-A", "trust", "-U", "postgres", "--no-sync"); err != nil {
		return nil, fmt.Sprintf("initdb: %v: %s", err, out)
	}
	if err := pg.ctl(ctx, "start"); err != nil {
		return nil, err.Error()
	}
	pg.admin = fmt.Sprintf("postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable", pg.port)
	return pg, ""
}

func (pg *postgres) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if pg.asUser != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.asUser}
	}
	return cmd.CombinedOutput()
}

// ctl runs pg_ctl start, stop or restart on the private cluster, waiting
// for it to finish; stop and restart use the fast mode (sessions are cut).
func (pg *postgres) ctl(ctx context.Context, action string) error {
	args := []string{action, "-D", pg.dataDir, "-w", "-t", "60", "-l", pg.logPath}
	if action != "stop" {
		args = append(args, "-o", fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", pg.port, filepath.Dir(pg.dataDir)))
	}
	if action != "start" {
		args = append(args, "-m", "fast")
	}
	if out, err := pg.run(ctx, pg.pgCtl, args...); err != nil {
		return fmt.Errorf("pg_ctl %s: %v: %s", action, err, out)
	}
	return nil
}

func (pg *postgres) restart(ctx context.Context) error { return pg.ctl(ctx, "restart") }

func (pg *postgres) exec(ctx context.Context, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// close drops the schema and stops a private cluster.
func (pg *postgres) close(ctx context.Context) error {
	var err error
	if pg.schema != "" && pg.admin != "" {
		err = pg.exec(ctx, "DROP SCHEMA IF EXISTS "+pg.schema+" CASCADE")
	}
	if pg.private {
		pg.ctl(ctx, "stop")
	}
	return err
}

func withSearchPath(dsn, schema string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

func redactDSN(dsn string) string {
	if at := strings.LastIndex(dsn, "@"); at > 0 {
		if i := strings.Index(dsn, "://"); i > 0 && i < at {
			if c := strings.Index(dsn[i+3:at], ":"); c >= 0 {
				return dsn[:i+3+c] + ":xxxxx" + dsn[at:]
			}
		}
	}
	return dsn
}
