package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/gateway"
)

func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(os.Stdout) // --help goes to stdout
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: tollgate serve [--dev] [--config FILE] [flags]

Runs the gateway: the SMTP listeners (relay for connectors, submission with
STARTTLS + AUTH, implicit TLS), the spool and delivery, and the admin HTTP
port (API, /metrics, /healthz, help pages at /ndr/<code>).

--dev keeps everything under ./tollgate-data, listens on 127.0.0.1 (relay 2525,
submission 2587, submissions 2465, admin 8025), seeds a demo tenant (domain
demo.test, user user@demo.test, connector 127.0.0.1) and delivers into a
capture sink on disk unless --smarthost is given.

--config FILE reads a TOML file (see docs/configuration.md). Flags override the
file, and the file overrides the defaults.

Flags:
`)
		fs.PrintDefaults()
	}
	dev := fs.Bool("dev", false, "embedded demo set-up on loopback (see above)")
	cfgFile := fs.String("config", "", "TOML configuration `file`")
	dataDir := fs.String("data-dir", "", "data `directory` (database, spool, certificate)")
	relay := fs.String("listen-relay", "", "relay listener `HOST:PORT` (connectors)")
	sub := fs.String("listen-submission", "", "submission listener `HOST:PORT` (STARTTLS + AUTH)")
	subs := fs.String("listen-submissions", "", "implicit-TLS submission listener `HOST:PORT`")
	admin := fs.String("listen-admin", "", "admin HTTP listener `HOST:PORT`")
	smarthost := fs.String("smarthost", "", "deliver everything to `HOST:PORT` instead of MX hosts")
	resolver := fs.String("resolver", "", "DNS server `HOST:PORT` for MX lookups")
	hostname := fs.String("hostname", "", "host `name` for greetings, Received and DSNs")
	logLevel := fs.String("log-level", "", "log `level`: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see tollgate serve --help)", fs.Arg(0))
	}
	cfg := config.Default()
	if *dev {
		cfg.ApplyDev()
	}
	if *cfgFile != "" {
		if err := cfg.LoadFile(*cfgFile); err != nil {
			return err
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	override := func(name string, dst *string, v string) {
		if set[name] {
			*dst = v
		}
	}
	override("data-dir", &cfg.DataDir, *dataDir)
	override("listen-relay", &cfg.Listen.Relay, *relay)
	override("listen-submission", &cfg.Listen.Submission, *sub)
	override("listen-submissions", &cfg.Listen.Submissions, *subs)
	override("listen-admin", &cfg.Listen.Admin, *admin)
	override("smarthost", &cfg.Delivery.Smarthost, *smarthost)
	override("resolver", &cfg.Delivery.Resolver, *resolver)
	override("hostname", &cfg.Hostname, *hostname)
	override("log-level", &cfg.Log.Level, *logLevel)
	if err := cfg.Finish(); err != nil {
		return err
	}
	logOut := newLogWriter(os.Stderr)
	defer logOut.Flush()
	log := newLogger(cfg.Log, logOut)
	slog.SetDefault(log)

	stopProfiles, err := startProfiles()
	defer stopProfiles()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g, err := gateway.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	if cfg.Dev {
		printDevBanner(g)
	}
	log.Info("tollgate started", "hostname", cfg.Hostname, "data_dir", cfg.DataDir)
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return g.Shutdown(sctx)
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func printDevBanner(g *gateway.Gateway) {
	addr := func(k string) string {
		if a, ok := g.Addrs[k]; ok {
			return a.String()
		}
		return "(off)"
	}
	delivery := "capture sink (tollgate admin messages)"
	if g.Sink == nil {
		delivery = "smarthost " + g.Config.Delivery.Smarthost
	}
	resolver := "the system resolver (give --resolver HOST:PORT for another)"
	if r := g.Config.Delivery.Resolver; r != "" {
		resolver = r
	}
	fmt.Printf(`
Tollgate dev mode. Data in %s
  relay (connectors)        %s   connector "local" covers 127.0.0.1 and ::1 for tenant "demo"
  submission (STARTTLS)     %s   user@demo.test  password: %s
  submissions (TLS)         %s
  admin HTTP                http://%s   token in %s
  outbound delivery         %s
  DNS (domain verification, MX lookups)  %s

Send a first message:
  swaks --server %s --from a@demo.test --to someone@example.net
and see it arrive:
  tollgate admin messages
See a refusal (5.7.64: a source address no connector covers):
  swaks --server %s --local-interface 127.0.0.2 --from a@demo.test --to someone@example.net

`, g.Config.DataDir, addr("relay"), addr("submission"), g.DevPassword, addr("submissions"),
		addr("admin"), g.Config.Admin.TokenFile, delivery, resolver, addr("relay"), addr("relay"))
}
