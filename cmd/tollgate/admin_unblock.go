package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/tollgate-mail/tollgate/client"
)

// The unblock workflow: the tenant admin asks (unblock-request), an
// operator reviews the request beside the block's evidence and the
// checklist the server computes (unblock-requests), then approves or
// denies it. The commands are registered with the other protection
// commands in admin_protection.go.

type (
	checkItem  = client.CheckItem
	requestRow = client.UnblockRequest
)

func (c *adminClient) unblockRequest(o any, args []string) error {
	opts := o.(*protOpts)
	base, pos, err := c.tenantArg(o, args, 1, "one TENANT (id or name)")
	if err != nil {
		return err
	}
	cause, fix := strings.TrimSpace(*opts.cause), strings.TrimSpace(*opts.fix)
	switch {
	case cause == "":
		return errors.New("give --cause TEXT: what let the spam out (the operator will not unblock without it)")
	case fix == "":
		return errors.New("give --fix TEXT: what you changed so that it cannot happen again")
	}
	var r requestRow
	if err := c.do("POST", base+"/unblock-requests", map[string]string{"cause": cause, "fix": fix}, &r); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "submitted unblock request %d for block %d of %s; an operator reviews it with this checklist:\n", r.ID, r.BlockID, pos[0])
	c.checklist(r.Checklist)
	fmt.Fprintf(c.out, "follow it with: tollgate admin status %s\n", pos[0])
	return nil
}

// checklist prints the server's checks, the failing ones marked so that
// an operator's eye lands on them.
func (c *adminClient) checklist(items []checkItem) {
	if len(items) == 0 {
		fmt.Fprintln(c.out, "  (no checklist: the block is no longer on record)")
	}
	for _, it := range items {
		mark := "ok"
		if !it.OK {
			mark = "CHECK"
		}
		fmt.Fprintf(c.out, "  [%-5s] %s: %s\n", mark, it.Check, it.Detail)
	}
}

func (c *adminClient) unblockRequests(o any, args []string) error {
	opts := o.(*protOpts)
	if _, err := opts.positional(args, 0, "no arguments (use --status)"); err != nil {
		return err
	}
	switch *opts.status {
	case "pending", "approved", "denied", "all":
	default:
		return fmt.Errorf("--status %q: give pending, approved, denied or all", *opts.status)
	}
	var r struct {
		Requests []requestRow `json:"unblock_requests"`
		Total    int          `json:"total"`
	}
	if err := c.get("/api/v1/unblock-requests"+opts.search.query(url.Values{"status": {*opts.status}}), &r); err != nil {
		return operatorOnly(err)
	}
	defer opts.search.footer(c, len(r.Requests), r.Total, "requests")
	for i, u := range r.Requests {
		if i > 0 {
			fmt.Fprintln(c.out)
		}
		c.review(u)
	}
	fmt.Fprintf(c.out, "%d %s request(s)\n", len(r.Requests), *opts.status)
	return nil
}

// review prints one request the way an operator needs it: who asks, the
// block and its evidence, what they say they fixed, and the checklist.
func (c *adminClient) review(u requestRow) {
	w := c.out
	fmt.Fprintf(w, "request %d  tenant %d %s  %s  submitted %s by %s\n", u.ID, u.TenantID, u.Tenant, u.Status, when(u.SubmittedAt), u.SubmittedBy)
	if b := u.Block; b != nil {
		fmt.Fprintf(w, "  block %d since %s (%s, rule %s) %s\n", b.ID, when(b.CreatedAt), b.Reason, b.Rule, figures(b.Figures))
		if ev := b.Evidence; ev.Messages > 0 {
			fmt.Fprintf(w, "  evidence: window %s, %d messages, %d spam or bulk (%.0f%%); top senders %s; top connectors %s\n",
				ev.Window, ev.Messages, ev.SpamBulk, 100*ev.Ratio, counts(ev.TopSenders), counts(ev.TopConnectors))
		}
	}
	fmt.Fprintf(w, "  cause: %s\n  fix:   %s\n", u.Cause, u.Fix)
	c.checklist(u.Checklist)
	if u.Status != "pending" {
		fmt.Fprintf(w, "  %s %s by %s: %s\n", u.Status, when(u.DecidedAt), u.DecidedBy, u.Note)
	}
}

func (c *adminClient) unblockApprove(o any, args []string) error { return c.decide(o, args, true) }
func (c *adminClient) unblockDeny(o any, args []string) error    { return c.decide(o, args, false) }

func (c *adminClient) decide(o any, args []string, approve bool) error {
	opts := o.(*protOpts)
	pos, err := opts.positional(args, 1, "one unblock request ID (see tollgate admin unblock-request list)")
	if err != nil {
		return err
	}
	if _, err := strconv.ParseInt(pos[0], 10, 64); err != nil {
		return fmt.Errorf("unblock request id %q is not a number (see tollgate admin unblock-request list)", pos[0])
	}
	verb := "deny"
	if approve {
		verb = "approve"
	}
	var u requestRow
	if err := c.do("POST", "/api/v1/unblock-requests/"+pos[0]+"/"+verb, map[string]string{"note": *opts.note}, &u); err != nil {
		return operatorOnly(err)
	}
	if !approve {
		fmt.Fprintf(c.out, "denied unblock request %d; tenant %s stays blocked and its admin may ask again\n", u.ID, u.Tenant)
		return nil
	}
	fmt.Fprintf(c.out, "approved unblock request %d; tenant %s sends again", u.ID, u.Tenant)
	if b := u.Block; b != nil && b.ProbationQuota > 0 {
		fmt.Fprintf(c.out, " on probation: %d messages per 24 hours at first, doubling each clean day for %d days", b.ProbationQuota, b.ProbationDays)
	}
	fmt.Fprintln(c.out)
	return nil
}
