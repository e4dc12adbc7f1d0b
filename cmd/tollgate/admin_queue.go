package main

import (
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/client"
)

// The queue controls (docs/operations.md#queue-controls), after Postfix's
// postqueue/postsuper: list and filter the live queue, hold and release,
// retry now, bounce with a DSN, drop without one, move to a pool. With
// --tenant the tenant-scoped routes are used (a tenant admin's token works
// there for hold, release, bounce and drop on its own messages).
func init() {
	listFlags := func(fs *flag.FlagSet) any {
		return &queueOpts{tenant: fs.Int64("tenant", 0, "only this tenant's messages (`NAME or ID`)"),
			sender: fs.String("sender", "", "only this envelope `SENDER`"), domain: fs.String("domain", "", "only messages with a recipient at `DOMAIN`"),
			minAge: fs.Duration("min-age", 0, "only messages queued at least this `long` ago (30m, 2h)"),
			pool:   fs.String("pool", "", "only this `pool` (normal, high-risk)"), held: fs.String("held", "", "only held (true) or not held (false)"),
			limit: fs.Int("limit", 1000, "at most `N` messages")}
	}
	actFlags := func(fs *flag.FlagSet) any {
		return &queueOpts{tenant: fs.Int64("tenant", 0, "act through this tenant's routes (`NAME or ID`), as its admin may"),
			reason: fs.String("reason", "", "why: kept with a hold, said in a bounce's DSN"),
			pool:   fs.String("pool", "high-risk", "the `pool` to move to (normal, high-risk)")}
	}
	act := func(action string) func(*adminClient, any, []string) error {
		return func(c *adminClient, o any, args []string) error { return c.queueAct(action, o.(*queueOpts), args) }
	}
	adminCommands = append(adminCommands,
		adminCommand{"queue list", "", "list the live queue, oldest first, filtered by tenant, sender, recipient domain, age, pool, hold", listFlags, (*adminClient).queueList},
		adminCommand{"queue hold", "ID", "hold a queued message: no attempt until released (survives a restart)", actFlags, act("hold")},
		adminCommand{"queue release", "ID", "release a held message back onto its retry schedule", actFlags, act("release")},
		adminCommand{"queue retry", "ID", "attempt delivery of a queued message now (operators)", actFlags, act("retry")},
		adminCommand{"queue bounce", "ID", "fail a queued message now and send its sender a DSN with --reason", actFlags, act("bounce")},
		adminCommand{"queue drop", "ID", "remove a queued message without a DSN", actFlags, act("drop")},
		adminCommand{"queue move", "ID", "move a queued message to --pool (default high-risk; operators)", actFlags, act("move")},
	)
}

type queueOpts struct {
	tenant                             *int64
	sender, domain, pool, held, reason *string
	minAge                             *time.Duration
	limit                              *int
}

// base is the queue's path: the operators' or the tenant's.
func (o *queueOpts) base() (string, error) {
	if *o.tenant == 0 {
		return "/api/v1/queue", nil
	}
	p, err := tenantPath(o.tenant)
	return p + "/queue", err
}

func (c *adminClient) queueList(o any, args []string) error {
	opts := o.(*queueOpts)
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q (filter with --sender, --domain, --min-age, --pool, --held)", args[0])
	}
	base, err := opts.base()
	if err != nil {
		return err
	}
	q := url.Values{"limit": {strconv.Itoa(*opts.limit)}}
	for k, v := range map[string]string{"sender": *opts.sender, "domain": *opts.domain, "pool": *opts.pool, "held": *opts.held} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if *opts.minAge > 0 {
		q.Set("min_age", opts.minAge.String())
	}
	var r struct{ Messages []client.QueuedMessage }
	if err := c.get(base+"?"+q.Encode(), &r); err != nil {
		return printed(err)
	}
	tw := c.table("ID\tTENANT\tFROM\tPENDING\tPOOL\tSTATE\tATTEMPTS\tAGE\tLAST ERROR")
	for _, m := range r.Messages {
		pending := 0
		for _, rc := range m.Recipients {
			if rc.Status == "pending" {
				pending++
			}
		}
		state := "next " + m.NextAttempt.Local().Format("15:04:05")
		if m.Held {
			state = "held " + m.HeldReason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\n", m.ID, m.Tenant, orNull(m.From), pending, m.Pool, state,
			m.Attempts, time.Since(m.ReceivedAt).Round(time.Second), m.LastError)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "%d message(s) in the queue\n", len(r.Messages))
	return nil
}

func (c *adminClient) queueAct(action string, opts *queueOpts, args []string) error {
	id, err := oneArg(args, "queue ID (see tollgate admin queue list)")
	if err != nil {
		return err
	}
	base, err := opts.base()
	if err != nil {
		return err
	}
	body := client.QueueAction{Reason: *opts.reason}
	if action == "move" {
		body.Pool = *opts.pool
	}
	var m client.QueuedMessage
	if err := c.do("POST", base+"/"+url.PathEscape(id)+"/"+action, body, &m); err != nil {
		return printed(err)
	}
	switch action {
	case "bounce":
		fmt.Fprintf(c.out, "%s bounced; its sender %s gets a DSN\n", id, orNull(m.From))
	case "drop":
		fmt.Fprintf(c.out, "%s dropped (no DSN)\n", id)
	case "move":
		fmt.Fprintf(c.out, "%s moved to the %s pool\n", id, m.Pool)
	case "retry":
		fmt.Fprintf(c.out, "%s handed to a delivery worker\n", id)
	case "hold":
		fmt.Fprintf(c.out, "%s held\n", id)
	case "release":
		fmt.Fprintf(c.out, "%s released; next attempt %s\n", id, m.NextAttempt.Local().Format("15:04:05"))
	}
	return nil
}
