package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/client"
)

const fleetSize = 3

// Limits under test, per the special tenants' overrides.
var soakLimits = limits{limitedPerMinute: 60, spamExternal: 300, spamPerHour: 10}

// run sets the fleet up, drives the load and the faults, waits for the
// queues to drain and returns the checked report. An error is a soak that
// could not run (a part would not start), not a failed check.
func run(ctx context.Context, o options, out io.Writer) (*report, error) {
	logf := func(format string, args ...any) {
		fmt.Fprintf(out, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	root, err := os.MkdirTemp("", "tollgate-soak")
	if err != nil {
		return nil, err
	}
	// Traversable, so a private PostgreSQL running as postgres reaches its
	// own subdirectory; the nodes' directories are 0700 each.
	os.Chmod(root, 0o755)
	cleanup := []func(){}
	defer func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
		if o.keep {
			logf("kept %s", root)
		} else {
			os.RemoveAll(root)
		}
	}()

	bin := o.tollgate
	if bin == "" {
		logf("building ./cmd/tollgate")
		if bin, err = buildTollgate(ctx, root); err != nil {
			return nil, err
		}
	}
	redisDir := filepath.Join(root, "redis")
	os.MkdirAll(redisDir, 0o700)
	rd, err := startRedis(redisDir)
	if err != nil {
		return nil, fmt.Errorf("private Redis: %w", err)
	}
	cleanup = append(cleanup, rd.close)
	pgDir := filepath.Join(root, "pg")
	os.MkdirAll(pgDir, 0o700)
	pg, why, err := startPostgres(ctx, pgDir, o.sharedPG)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL: %w", err)
	}
	cleanup = append(cleanup, func() {
		if err := pg.close(context.Background()); err != nil {
			logf("dropping schema %s: %v", pg.schema, err)
		}
	})
	if pg.private {
		logf("private PostgreSQL cluster on 127.0.0.1:%s, schema %s; private Redis on %s", pg.port, pg.schema, rd.addr)
	} else {
		logf("no private PostgreSQL cluster (%s): schema %s on the shared server; the PostgreSQL restart fault is skipped", why, pg.schema)
	}

	sk, err := startSink()
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, sk.close)
	z, err := startZone()
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, z.close)

	fl := &fleet{redis: rd, pg: pg, logf: logf}
	tokb := make([]byte, 24)
	rand.Read(tokb)
	token := hex.EncodeToString(tokb)
	for i := 0; i < fleetSize; i++ {
		spool, minFree := "", int64(64<<20)
		if i == fleetSize-1 {
			mnt := filepath.Join(root, "spool3")
			spool = mnt
			if fl.tmpfsWhy = mountSpool(mnt, 96<<20); fl.tmpfsWhy == "" {
				fl.tmpfs = mnt
				minFree = 16 << 20
				cleanup = append(cleanup, func() {
					if err := unmount(mnt); err != nil {
						logf("%v", err)
					}
				})
				spool = filepath.Join(mnt, "spool")
			} else {
				logf("the spool disk full fault is skipped: %s", fl.tmpfsWhy)
			}
		}
		n, err := newNode(i, bin, root, pg.dsn, rd.url(), token, sk.addr(), z.addr(), spool, minFree)
		if err != nil {
			return nil, err
		}
		fl.nodes = append(fl.nodes, n)
	}
	// Stop the nodes before anything they use (cleanups run in reverse).
	cleanup = append(cleanup, func() {
		var wg sync.WaitGroup
		for _, n := range fl.nodes {
			wg.Add(1)
			go func() { defer wg.Done(); n.stop() }()
		}
		wg.Wait()
	})

	// Node 1 first: it runs the migrations and takes the tenants; the
	// others start with them in their first snapshot.
	if err := fl.nodes[0].start(); err != nil {
		return nil, err
	}
	api := client.New("http://"+fl.nodes[0].admin, token)
	tenants := planTenants(o.tenants)
	if err := createTenants(ctx, api, z, tenants, soakLimits); err != nil {
		return nil, err
	}
	for _, n := range fl.nodes[1:] {
		if err := n.start(); err != nil {
			return nil, err
		}
	}
	logf("fleet up: %d nodes, %d tenants; sink %s", fleetSize, len(tenants), sk.addr())

	var faults []*fault
	if o.faults {
		faults = schedule(o.duration, o.rounds, o.faultHold, fleetSize)
	}
	led := newLedger()
	ld := &loader{nodes: fl.nodes, led: led}
	smp := &sampler{}
	loadCtx, stopLoad := context.WithTimeout(ctx, o.duration)
	defer stopLoad()
	sampleCtx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() { defer sampling.Done(); smp.run(sampleCtx, fl.nodes, 10*time.Second) }()

	var senders sync.WaitGroup
	spawn := func(f func()) { senders.Add(1); go func() { defer senders.Done(); f() }() }
	var ordinary []*tenant
	for _, t := range tenants {
		switch t.kind {
		case kindConnector, kindAuth:
			ordinary = append(ordinary, t)
		case kindLimited:
			// Twice the limit, spread over the nodes.
			pace := time.Minute / time.Duration(2*soakLimits.limitedPerMinute)
			spawn(func() { ld.sender(loadCtx, t, "", pace, 1, limitedMessage("orders@"+t.domain)) })
		case kindSpam:
			spawn(func() { ld.sender(loadCtx, t, "", 150*time.Millisecond, 1, spamMessage("billing@"+t.domain)) })
		case kindList:
			spawn(func() { ld.sender(loadCtx, t, "", 2*time.Second, 6, listMessage("news@"+t.domain)) })
		}
	}
	for i := 0; i < o.senders; i++ {
		spawn(func() {
			for loadCtx.Err() == nil {
				// Each session is one tenant's: its server, or one of its
				// users signing in.
				t := ordinary[randN(len(ordinary))]
				user, from := "", fmt.Sprintf("staff%d@%s", randN(5), t.domain)
				if t.kind == kindAuth {
					user = t.users[randN(len(t.users))]
					from = user
				}
				sctx, cancel := context.WithTimeout(loadCtx, time.Duration(5+randN(10))*time.Second)
				ld.sender(sctx, t, user, o.pace, 8, ordinaryMessage(from))
				cancel()
			}
		})
	}
	logf("load running for %s with %d faults", o.duration, len(faults))
	for _, f := range faults {
		sleep(loadCtx, time.Until(led.start.Add(f.at)))
		if loadCtx.Err() != nil {
			break
		}
		logf("fault: %s %s (hold %s)", f.kind, f.target, f.hold)
		fl.inject(loadCtx, f)
		switch {
		case f.skippedWhy != "":
			logf("  skipped: %s", f.skippedWhy)
		case f.err != nil:
			logf("  error: %v", f.err)
		default:
			logf("  back after %s", f.end.Sub(f.start).Round(100*time.Millisecond))
		}
	}
	<-loadCtx.Done()
	senders.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	// A node a fault left down is started again, so its spool drains.
	for _, n := range fl.nodes {
		if !n.running() {
			if err := n.start(); err != nil {
				return nil, err
			}
		}
	}
	logf("load stopped: %d messages accepted; waiting up to %s for the queues to drain", len(led.acc), o.drainLimit)
	drained := waitDrained(ctx, sk, led, o.drainLimit)
	stopSampling()
	sampling.Wait()
	rep := check(led, sk, fl, faults, smp.all(), drained)
	rep.print(out, o, pg.private)
	if len(rep.failures) > 0 {
		for _, n := range fl.nodes {
			if b, err := os.ReadFile(n.logPath); err == nil {
				fmt.Fprintf(out, "--- last lines of %s's log ---\n%s\n", n.name, tail(string(b), 30))
			}
		}
	}
	return rep, nil
}

// waitDrained waits until every accepted message has arrived (or bounced,
// for the refused recipients and the compromised tenant) or limit passes.
func waitDrained(ctx context.Context, sk *sink, led *ledger, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		if missing(sk, led.acc) == 0 {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		sleep(ctx, time.Second)
	}
}

// missing counts the outcomes not seen yet.
func missing(sk *sink, acc []accepted) int {
	n := 0
	for _, a := range acc {
		needDSN := false
		for _, r := range a.rcpts {
			switch {
			case strings.HasPrefix(r, rejectPrefix):
				needDSN = true
			case len(sk.arrived(a.token, r)) == 0:
				if a.tenant.kind == kindSpam && sk.dsnCount(a.token) > 0 {
					continue // held by the block and bounced
				}
				n++
			}
		}
		if needDSN && sk.dsnCount(a.token) == 0 {
			n++
		}
	}
	return n
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
