package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// fault is one scheduled failure: what it does, and when it ran.
type fault struct {
	kind       string
	target     string
	at         time.Duration // after the load started
	hold       time.Duration // how long the failure lasts
	start, end time.Time
	err        error
	skippedWhy string
}

// Fault kinds.
const (
	faultKill         = "kill -9 node"
	faultRedisRestart = "Redis restart"
	faultRedisDown    = "Redis unreachable"
	faultPGRestart    = "PostgreSQL restart"
	faultDiskFull     = "spool disk full"
)

// schedule spreads rounds of every fault kind over the load, after a calm
// start and before a calm end, so each fault's effect is seen on its own.
func schedule(d time.Duration, rounds int, hold time.Duration, nodes int) []*fault {
	kinds := []string{faultKill, faultRedisRestart, faultRedisDown, faultPGRestart, faultDiskFull}
	n := rounds * len(kinds)
	calm := d / 8
	step := (d - 2*calm) / time.Duration(n)
	var fs []*fault
	for i := 0; i < n; i++ {
		f := &fault{kind: kinds[i%len(kinds)], at: calm + time.Duration(i)*step, hold: hold}
		switch f.kind {
		case faultKill:
			// Never node 1, whose memory is the longest series; the
			// others in turn.
			f.target = fmt.Sprintf("node%d", 2+(i/len(kinds))%(nodes-1))
		case faultDiskFull:
			f.target = fmt.Sprintf("node%d", nodes)
		case faultRedisDown:
			f.target = "redis"
		}
		fs = append(fs, f)
	}
	return fs
}

// fleet is everything the faults act on.
type fleet struct {
	nodes    []*node
	redis    *redisServer
	pg       *postgres
	tmpfs    string // node 3's spool file system, "" when it could not be mounted
	tmpfsWhy string
	logf     func(format string, args ...any)
}

func (fl *fleet) node(name string) *node {
	for _, n := range fl.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// inject runs f, holding the failure for f.hold, and returns when the
// failed part is back.
func (fl *fleet) inject(ctx context.Context, f *fault) {
	f.start = time.Now()
	defer func() { f.end = time.Now() }()
	switch f.kind {
	case faultKill:
		n := fl.node(f.target)
		if !n.running() {
			f.err = fmt.Errorf("%s was not running (it exited on its own)", n.name)
			return
		}
		n.kill()
		fl.logf("%s killed (-9); restarting in %s", n.name, f.hold)
		sleep(ctx, f.hold)
		f.err = n.start()
	case faultRedisRestart:
		f.err = fl.redis.restart()
	case faultRedisDown:
		// SIGSTOP: the port stays open and nothing answers, as in a
		// partition; worse for a client than a refused connection.
		if f.err = fl.redis.p.signal(syscall.SIGSTOP); f.err != nil {
			return
		}
		sleep(ctx, f.hold)
		f.err = fl.redis.p.signal(syscall.SIGCONT)
	case faultPGRestart:
		if !fl.pg.private {
			f.skippedWhy = "PostgreSQL is the shared server, which the soak must not restart"
			return
		}
		f.err = fl.pg.restart(ctx)
	case faultDiskFull:
		if fl.tmpfs == "" {
			f.skippedWhy = fl.tmpfsWhy
			return
		}
		ballast := filepath.Join(fl.tmpfs, "ballast")
		if f.err = fillTo(ballast, fl.tmpfs, 4<<20); f.err != nil {
			return
		}
		sleep(ctx, f.hold)
		f.err = os.Remove(ballast)
	}
}

// fillTo writes ballast until the file system at dir has at most left bytes
// free.
func fillTo(ballast, dir string, left int64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return err
	}
	free := int64(st.Bavail) * st.Bsize
	if free <= left {
		return nil
	}
	f, err := os.Create(ballast)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for todo := free - left; todo > 0; todo -= int64(len(buf)) {
		if int64(len(buf)) > todo {
			buf = buf[:todo]
		}
		if _, err := f.Write(buf); err != nil {
			return fmt.Errorf("ballast: %w", err)
		}
	}
	return nil
}

// mountSpool mounts a small tmpfs for a node's spool, so "disk full" is a
// real full file system; it needs root (CAP_SYS_ADMIN). why says why not.
func mountSpool(dir string, size int64) (why string) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err.Error()
	}
	if os.Geteuid() != 0 {
		return "mounting a small tmpfs for the spool needs root"
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("mount -t tmpfs: %v: %s", err, out)
	}
	return ""
}

func unmount(dir string) error {
	if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("umount %s: %v: %s", dir, err, out)
	}
	return nil
}
