package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/client"
)

// The failed delivery events (docs/deliverability.md#failed-events): a
// tenant admin lists the events whose sends all failed and, once its
// receiver is fixed, sends them again.
func init() {
	adminCommands = append(adminCommands,
		adminCommand{"event-webhook failed", "", "list the tenant's delivery events whose sends all failed, newest first", func(fs *flag.FlagSet) any {
			return &failedOpts{tenant: fs.Int64("tenant", 0, "tenant `id`"), limit: fs.Int("limit", 100, "list at most `n` (1 to 1000)")}
		}, (*adminClient).eventWebhookFailed},
		adminCommand{"event-webhook redeliver", "[ID...]", "send the named failed events again (--all: every one); a receiver that deduplicates on Tollgate-Event-Id sees each once", func(fs *flag.FlagSet) any {
			return &failedOpts{tenant: fs.Int64("tenant", 0, "tenant `id`"), all: fs.Bool("all", false, "redeliver every failed event of the tenant")}
		}, (*adminClient).eventWebhookRedeliver},
	)
}

type failedOpts struct {
	tenant *int64
	limit  *int
	all    *bool
}

func (c *adminClient) eventWebhookFailed(o any, args []string) error {
	opts := o.(*failedOpts)
	path, err := webhookPath(opts.tenant)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q", args[0])
	}
	if *opts.limit < 1 || *opts.limit > 1000 {
		return fmt.Errorf("--limit %d: want 1 to 1000", *opts.limit)
	}
	var list client.FailedEvents
	if err := c.get(path+"/failed?limit="+strconv.Itoa(*opts.limit), &list); err != nil {
		return printed(err)
	}
	tw := c.table("ID\tKIND\tRECIPIENT\tFAILED\tSENDS\tERROR")
	for _, f := range list.Events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", f.ID, f.Kind, f.Recipient, f.FailedAt.UTC().Format(time.RFC3339), f.Sends, f.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "%d failed event(s)", list.Total)
	if list.Total > len(list.Events) {
		fmt.Fprintf(c.out, ", %d shown", len(list.Events))
	}
	fmt.Fprintln(c.out)
	return nil
}

func (c *adminClient) eventWebhookRedeliver(o any, args []string) error {
	opts := o.(*failedOpts)
	path, err := webhookPath(opts.tenant)
	if err != nil {
		return err
	}
	switch {
	case *opts.all && len(args) > 0:
		return errors.New("give event ids or --all, not both")
	case !*opts.all && len(args) == 0:
		return errors.New("give the ids of the events to redeliver (see event-webhook failed), or --all")
	}
	var r client.Redelivery
	if err := c.do("POST", path+"/failed/redeliver", client.RedeliverRequest{IDs: args}, &r); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "%d event(s) queued for redelivery\n", r.Redelivered)
	return nil
}
