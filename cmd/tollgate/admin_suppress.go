package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// The suppression-list commands (docs/deliverability.md#suppression-list):
// a tenant's list with --tenant, the operators' global one with --global.
func init() {
	listFlags := func(fs *flag.FlagSet) any {
		return &suppressOpts{tenant: fs.Int64("tenant", 0, "tenant `id`"), global: fs.Bool("global", false, "the operators' global list instead of a tenant's"),
			search: fs.String("search", "", "only addresses containing `TEXT`"), q: fs.String("q", "", "the same as --search, as on the other lists"), limit: fs.Int("limit", 100, "at most `N` entries (1..1000)"),
			sort: fs.String("sort", "", "sort by `KEY`: address, created, created_by, reason (default: newest first)"), order: fs.String("order", "", "asc (default) or desc"),
			offset: fs.Int("offset", 0, "skip the first `N` matching entries"),
			detail: fs.String("detail", "", "a `note` kept with a hand-made entry")}
	}
	adminCommands = append(adminCommands,
		adminCommand{"suppressions", "", "list a tenant's suppressed recipients (hard bounces, complaints), newest first; --global for the operators' list", listFlags, (*adminClient).suppressions},
		adminCommand{"suppression-add", "ADDRESS", "suppress a recipient by hand: mail to it is refused with 550 5.1.92", listFlags, (*adminClient).suppressionAdd},
		adminCommand{"suppression-remove", "ADDRESS", "take a recipient off the list, once the address works again", listFlags, (*adminClient).suppressionRemove},
	)
}

type suppressOpts struct {
	tenant         *int64
	global         *bool
	search, detail *string
	q, sort, order *string
	limit, offset  *int
}

func (o *suppressOpts) path() (string, error) {
	switch {
	case *o.global && *o.tenant != 0:
		return "", errors.New("give --tenant ID or --global, not both")
	case *o.global:
		return "/api/v1/suppressions", nil
	}
	base, err := tenantPath(o.tenant)
	if err != nil {
		return "", errors.New("give --tenant ID (see tollgate admin tenants), or --global for the operators' list")
	}
	return base + "/suppressions", nil
}

// entry is the list's path and the one recipient address args name.
func (o *suppressOpts) entry(args []string) (path, address string, err error) {
	if path, err = o.path(); err != nil {
		return "", "", err
	}
	if address, err = oneArg(args, "recipient ADDRESS"); err != nil {
		return "", "", err
	}
	return path, address, nil
}

type suppressionRow struct {
	Address   string    `json:"address"`
	Reason    string    `json:"reason"`
	Detail    string    `json:"detail"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func (c *adminClient) suppressions(o any, args []string) error {
	opts := o.(*suppressOpts)
	path, err := opts.path()
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q (use --search)", args[0])
	}
	text := *opts.search
	if *opts.q != "" {
		text = *opts.q
	}
	q := url.Values{"q": {text}, "limit": {strconv.Itoa(*opts.limit)}}
	if *opts.sort != "" {
		q.Set("sort", *opts.sort)
	}
	if *opts.order != "" {
		q.Set("order", *opts.order)
	}
	if *opts.offset != 0 {
		q.Set("offset", strconv.Itoa(*opts.offset))
	}
	var r struct {
		Suppressions []suppressionRow
		Total        int
	}
	if err := c.get(path+"?"+q.Encode(), &r); err != nil {
		return printed(err)
	}
	tw := c.table("ADDRESS\tREASON\tSINCE\tBY\tDETAIL")
	for _, e := range r.Suppressions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Address, e.Reason, e.CreatedAt.Format(time.RFC3339), e.CreatedBy, e.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// The total is every match: a page is never mistaken for the list.
	fmt.Fprintf(c.out, "%d of %d suppressed recipient(s)\n", len(r.Suppressions), r.Total)
	return nil
}

func (c *adminClient) suppressionAdd(o any, args []string) error {
	opts := o.(*suppressOpts)
	path, a, err := opts.entry(args)
	if err != nil {
		return err
	}
	var e suppressionRow
	if err := c.do("POST", path, map[string]any{"address": a, "detail": *opts.detail}, &e); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "%s suppressed (%s)\n", e.Address, e.Reason)
	return nil
}

func (c *adminClient) suppressionRemove(o any, args []string) error {
	opts := o.(*suppressOpts)
	path, a, err := opts.entry(args)
	if err != nil {
		return err
	}
	if err := c.do("DELETE", path+"/"+url.PathEscape(a), nil, nil); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "%s removed from the suppression list\n", a)
	return nil
}
