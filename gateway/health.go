package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"time"

	"github.com/tollgate-mail/tollgate/api"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/store"
)

// readiness is what /healthz/ready checks on this node: its store (the
// fleet's PostgreSQL, or SQLite), the trace's own SQLite file, the
// counters (the fleet's Redis), the spool directory and every listener.
// The spool's free space comes from api.Options.SpoolLow.
func (g *Gateway) readiness(cfg *config.Config) []api.Probe {
	storeName := "store"
	if g.DB.Dialect == store.Postgres {
		storeName = "postgres"
	}
	probes := []api.Probe{{Name: storeName, Check: func(ctx context.Context) error { return pingDB(ctx, g.DB) }}}
	if g.traceDB != nil {
		probes = append(probes, api.Probe{Name: "trace_store", Check: func(ctx context.Context) error { return pingDB(ctx, g.traceDB) }})
	}
	countersName := "counters"
	if cfg.Counters.RedisURL != "" {
		countersName = "redis"
	}
	probes = append(probes, api.Probe{Name: countersName, Check: func(ctx context.Context) error {
		_, err := g.Counters.Count(ctx, "health:ready", time.Minute, time.Now())
		return err
	}})
	probes = append(probes, api.Probe{Name: "spool_writable", Check: func(context.Context) error { return spoolWritable(cfg.Queue.Dir) }})
	names := make([]string, 0, len(g.Addrs))
	for name := range g.Addrs {
		if name != "admin" { // it answers this very request
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		network, a := g.Addrs[name].Network(), g.Addrs[name].String()
		probes = append(probes, api.Probe{Name: "listener_" + name, Check: func(ctx context.Context) error {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, dialable(a))
			if err != nil {
				return fmt.Errorf("%s does not accept connections: %w", a, err)
			}
			return c.Close()
		}})
	}
	return probes
}

func pingDB(ctx context.Context, db *store.DB) error {
	var one int
	if err := db.Read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("%s: %w", db.Path, err)
	}
	if db.Write != db.Read {
		if err := db.Write.PingContext(ctx); err != nil {
			return fmt.Errorf("%s (writer): %w", db.Path, err)
		}
	}
	return nil
}

// spoolWritable creates and removes a file in the spool directory: a
// read-only remount or lost permissions show here before a client's DATA.
func spoolWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".ready-*")
	if err != nil {
		return fmt.Errorf("spool %s is not writable: %w", dir, err)
	}
	name := f.Name()
	_, werr := f.Write([]byte("ok"))
	return errors.Join(werr, f.Close(), os.Remove(name))
}

// dialable turns a wildcard listen address (":25", "[::]:25") into one
// this node can dial.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}
