package main

import (
	"flag"
	"fmt"

	"github.com/tollgate-mail/tollgate/client"
)

// The delivery-event webhook commands (docs/deliverability.md#configuration):
// a tenant admin points its tenant's delivery events at its own receiver,
// reads the signing secret, rotates it and stops the events.
func init() {
	tenantOnly := func(fs *flag.FlagSet) any { return fs.Int64("tenant", 0, "tenant `id`") }
	adminCommands = append(adminCommands,
		adminCommand{"event-webhook show", "", "show the tenant's delivery-event webhook and the secret that signs its requests", tenantOnly, (*adminClient).eventWebhookShow},
		adminCommand{"event-webhook set", "URL", "send the tenant's delivery events to URL (https); prints the signing secret", tenantOnly, (*adminClient).eventWebhookSet},
		adminCommand{"event-webhook rotate-secret", "", "give the webhook a new signing secret (printed); requests are signed with it from now on", tenantOnly, (*adminClient).eventWebhookRotate},
		adminCommand{"event-webhook clear", "", "stop sending the tenant's delivery events", tenantOnly, (*adminClient).eventWebhookClear},
	)
}

func webhookPath(o any) (string, error) {
	base, err := tenantPath(o.(*int64))
	if err != nil {
		return "", err
	}
	return base + "/event-webhook", nil
}

func (c *adminClient) eventWebhookShow(o any, _ []string) error {
	path, err := webhookPath(o)
	if err != nil {
		return err
	}
	var wh client.EventWebhook
	if err := c.get(path, &wh); err != nil {
		return printed(err)
	}
	return c.printWebhook(wh)
}

func (c *adminClient) eventWebhookSet(o any, args []string) error {
	path, err := webhookPath(o)
	if err != nil {
		return err
	}
	u, err := oneArg(args, "the webhook URL")
	if err != nil {
		return err
	}
	var wh client.EventWebhook
	if err := c.do("PUT", path, client.EventWebhookRequest{URL: u}, &wh); err != nil {
		return printed(err)
	}
	return c.printWebhook(wh)
}

func (c *adminClient) eventWebhookRotate(o any, _ []string) error {
	path, err := webhookPath(o)
	if err != nil {
		return err
	}
	var wh client.EventWebhook
	if err := c.do("POST", path+"/rotate-secret", nil, &wh); err != nil {
		return printed(err)
	}
	return c.printWebhook(wh)
}

func (c *adminClient) eventWebhookClear(o any, _ []string) error {
	path, err := webhookPath(o)
	if err != nil {
		return err
	}
	if err := c.do("DELETE", path, nil, nil); err != nil {
		return printed(err)
	}
	fmt.Fprintln(c.out, "event webhook cleared: no more delivery events are sent")
	return nil
}

func (c *adminClient) printWebhook(wh client.EventWebhook) error {
	fmt.Fprintf(c.out, "url:     %s\n", wh.URL)
	if wh.Secret != "" {
		fmt.Fprintf(c.out, "secret:  %s\n", wh.Secret)
	}
	fmt.Fprintf(c.out, "source:  %s\n", wh.Source)
	if wh.UpdatedBy != "" {
		by := wh.UpdatedBy
		if wh.UpdatedAt != nil {
			by += " at " + wh.UpdatedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(c.out, "set by:  %s\n", by)
	}
	return nil
}
