package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/simulate"
)

// tenantFlags collects repeated --tenant values.
type tenantFlags []simulate.Tenant

func (t *tenantFlags) String() string { return fmt.Sprint(len(*t)) }
func (t *tenantFlags) Set(s string) error {
	tn, err := simulate.ParseTenant(s)
	if err != nil {
		return err
	}
	*t = append(*t, tn)
	return nil
}

// runSimulate is `tollgate simulate`: a dry run of the protection on
// simulated tenants, through a real node on a virtual clock.
func runSimulate(args []string) error {
	if len(args) > 0 && args[0] == "policy" {
		return runSimulatePolicy(args[1:])
	}
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(os.Stdout)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: tollgate simulate [--config FILE] [--duration D] [--tenant NAME:KIND:RATE ...] [flags]
       tollgate simulate policy --set KEY=VALUE [--since 168h]   (a dry run on the stored trace; see its --help)

Plays hours of tenants' traffic in seconds through a Tollgate node started in
this process — its own listeners, attribution, checks, counters and content
classifier, over SMTP on loopback — with a virtual clock standing in for the
time between messages, and prints for each tenant whether it was stopped,
when, with which code and on which evidence, how much spam a compromised
tenant got through first, and how much legitimate mail was refused.

Use it to try a policy change before it goes live: put the change in a copy
of your configuration and give it with --config. Only the protection,
classifier, queue and SMTP settings are used; the run keeps its own embedded
store and counters (never your database or Redis) in a temporary directory.

Without --tenant it plays the efficacy scenario: five tenants relaying their
users' own mail and five list servers at 165 messages an hour each, a SaaS
platform relaying 300 transactional messages (invoices with PDFs, receipts,
password resets, sign-in codes, shipping notices, alerts), and a tenant whose
connector turns to spam after an hour; its admin fixes it 20 minutes after it
is stopped and an operator approves the unblock.

Tenant kinds for --tenant NAME:KIND:RATE (RATE is messages an hour, or the
total for saas; a compromised tenant takes its spam rate as a fourth field):
  users        an office server relaying people's mail to known correspondents
  list         a list server: list posts and newsletters, one copy per subscriber
  saas         transactional mail to customers, mostly new addresses
  compromised  like users, then spam to strangers from a third of the run on

The legitimate mail is written for the purpose by package mailgen and is never
classifier training data.

Exit status: 0, or 1 with --check when a legitimate tenant was stopped or had
more than 0.5 % of its mail refused, or a compromised tenant got more than 20
spam through, was not held until its unblock, or could not send after it.

Flags:
`)
		fs.PrintDefaults()
	}
	cfgFile := fs.String("config", "", "TOML configuration `file` whose protection settings to try (default: the defaults)")
	duration := fs.Duration("duration", 2*time.Hour, "virtual `time` the traffic spans")
	seed := fs.Uint64("seed", 1, "random `seed`: the same seed sends the same mail at the same virtual times")
	unblock := fs.Duration("unblock-after", 20*time.Minute, "how long after a compromised tenant is stopped its unblock is approved (0: never)")
	redisURL := fs.String("redis", "", "try the fleet's counters in the Redis at `URL` (a private key prefix; nothing else is touched)")
	check := fs.Bool("check", false, "exit 1 when the run misses the efficacy criteria")
	var tenants tenantFlags
	fs.Var(&tenants, "tenant", "a simulated tenant `NAME:KIND:RATE` (repeat; see above)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see tollgate simulate --help)", fs.Arg(0))
	}
	cfg := config.Default()
	if *cfgFile != "" {
		if err := cfg.LoadFile(*cfgFile); err != nil {
			return err
		}
	}
	sc := simulate.Default(*duration)
	sc.Seed, sc.UnblockAfter = *seed, *unblock
	if len(tenants) > 0 {
		for i := range tenants {
			if tenants[i].Kind == simulate.Compromised {
				tenants[i].CompromisedAt = *duration / 3
				tenants[i].SpamRecipients = max(tenants[i].SpamRecipients, 1)
			}
		}
		sc.Tenants = tenants
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := simulate.Run(ctx, sc, simulate.Options{Config: cfg, RedisURL: *redisURL})
	if err != nil {
		return err
	}
	res.Print(os.Stdout)
	problems := res.Check(simulate.DefaultCriteria)
	if len(problems) == 0 {
		fmt.Println("\nefficacy criteria: met")
		return nil
	}
	fmt.Println("\nefficacy criteria: missed\n  " + strings.Join(problems, "\n  "))
	if *check {
		return fmt.Errorf("%d criteria missed", len(problems))
	}
	return nil
}
