package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"

	"github.com/tollgate-mail/tollgate/client"
)

// Corrections: an admin marks a traced message "not spam" or "spam", and
// the built-in classifier gives that verdict to the same content from the
// message's tenant from then on (POST /api/v1/trace/{id}/correction).
func init() {
	adminCommands = append(adminCommands,
		adminCommand{"trace-mark", "ID --not-spam|--spam", "correct the classifier: mark a traced message (ID as in tollgate admin trace) not spam or spam; later mail with the same content from its tenant gets that verdict, with the correction as the reason; audited", func(fs *flag.FlagSet) any {
			return &traceMarkOpts{fs: fs,
				notSpam: fs.Bool("not-spam", false, "the message is legitimate: the same content from its tenant is clean from now on"),
				spam:    fs.Bool("spam", false, "the message is spam: the same content from its tenant is spam from now on"),
			}
		}, (*adminClient).traceMark},
	)
}

type traceMarkOpts struct {
	fs            *flag.FlagSet
	notSpam, spam *bool
}

func (c *adminClient) traceMark(o any, args []string) error {
	opts := o.(*traceMarkOpts)
	pos, err := (&protOpts{fs: opts.fs}).positional(args, 1, "one message ID (as tollgate admin trace lists it)")
	if err != nil {
		return err
	}
	label := ""
	switch {
	case *opts.notSpam && *opts.spam:
		return errors.New("give --not-spam or --spam, not both")
	case *opts.notSpam:
		label = "not_spam"
	case *opts.spam:
		label = "spam"
	default:
		return errors.New("give --not-spam or --spam: what the message is")
	}
	id := strings.TrimSpace(pos[0])
	var r client.Correction
	if err := c.do("POST", "/api/v1/trace/"+url.PathEscape(id)+"/correction", map[string]string{"label": label}, &r); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "marked message %s %s for tenant %d %s (correction %d by %s)\n",
		r.Message, strings.ReplaceAll(r.Label, "_", " "), r.TenantID, r.Tenant, r.ID, r.MarkedBy)
	fmt.Fprintf(c.out, "later mail from %s with the same content (fingerprint %s) gets that verdict; see it with: tollgate admin trace --sender ...\n",
		r.Tenant, r.Fingerprint)
	if len(r.Tokens) > 0 {
		fmt.Fprintf(c.out, "its words move towards %s for %s (bounded): %s\n", strings.ReplaceAll(r.Label, "_", " "), r.Tenant, strings.Join(r.Tokens, " "))
	}
	fmt.Fprintf(c.out, "withdraw it with: tollgate admin trace-unmark %d\n", r.ID)
	return nil
}
