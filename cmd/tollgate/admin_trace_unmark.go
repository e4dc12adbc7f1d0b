package main

import (
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/tollgate-mail/tollgate/client"
)

// Listing and withdrawing corrections (GET /api/v1/corrections, DELETE
// /api/v1/corrections/{id}): a withdrawn mark stops applying on every node
// and stays as history.
func init() {
	adminCommands = append(adminCommands,
		adminCommand{"trace-marks", "[--message ID] [--active]", "list the classifier corrections (tenant admins: their own tenant's), newest first: id, message, label, who marked it, whether it was withdrawn", func(fs *flag.FlagSet) any {
			return &traceMarksOpts{fs: fs,
				message: fs.String("message", "", "only the marks of this traced message (ID as in tollgate admin trace)"),
				active:  fs.Bool("active", false, "only marks in force (leave out withdrawn ones)"),
			}
		}, (*adminClient).traceMarks},
		adminCommand{"trace-unmark", "CORRECTION_ID", "withdraw a classifier correction (its id as trace-mark printed it or trace-marks lists it): the content and words it matched get the model's verdict again; audited", nil, (*adminClient).traceUnmark},
	)
}

type traceMarksOpts struct {
	fs      *flag.FlagSet
	message *string
	active  *bool
}

func (c *adminClient) traceMarks(o any, args []string) error {
	opts := o.(*traceMarksOpts)
	if _, err := (&protOpts{fs: opts.fs}).positional(args, 0, "no arguments (--message ID selects one message's marks)"); err != nil {
		return err
	}
	q := url.Values{}
	if m := strings.TrimSpace(*opts.message); m != "" {
		q.Set("message", m)
	}
	if *opts.active {
		q.Set("active", "true")
	}
	var r client.Corrections
	if err := c.get("/api/v1/corrections?"+q.Encode(), &r); err != nil {
		return printed(err)
	}
	tw := c.table("ID\tTENANT\tMESSAGE\tLABEL\tMARKED\tBY\tSTATE")
	for _, m := range r.Corrections {
		state := "in force"
		if m.WithdrawnAt != nil {
			state = "withdrawn " + when(*m.WithdrawnAt) + " by " + m.WithdrawnBy
		}
		fmt.Fprintf(tw, "%d\t%d %s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.TenantID, m.Tenant, m.Message, strings.ReplaceAll(m.Label, "_", " "),
			when(m.MarkedAt), m.MarkedBy, state)
	}
	tw.Flush()
	fmt.Fprintf(c.out, "%d correction(s)\n", len(r.Corrections))
	return nil
}

func (c *adminClient) traceUnmark(_ any, args []string) error {
	pos, err := (*protOpts)(nil).positional(args, 1, "one correction id (as tollgate admin trace-marks lists it)")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(strings.TrimSpace(pos[0]), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("correction id %q is not a number (see tollgate admin trace-marks)", pos[0])
	}
	var r client.Correction
	if err := c.do("DELETE", "/api/v1/corrections/"+strconv.FormatInt(id, 10), nil, &r); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "withdrew correction %d (%s on message %s for tenant %d %s): that content and its words get the model's verdict again\n",
		r.ID, strings.ReplaceAll(r.Label, "_", " "), r.Message, r.TenantID, r.Tenant)
	return nil
}
