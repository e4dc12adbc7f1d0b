package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/policy"
)

// The protection commands: a tenant's standing (blocks, restrictions,
// policy overrides, daily figures) and the unblock workflow. They take the
// tenant as an argument (id or name) rather than --tenant, because every
// one of them is about exactly one tenant and reads better that way:
// `tollgate admin status acme`.
func init() {
	var plain func(fs *flag.FlagSet) any // no flags of its own: the usage then lists none
	adminCommands = append(adminCommands,
		adminCommand{"status", "TENANT", "show a tenant's standing: state, block evidence, restrictions, today's volume, pending unblock request", plain, (*adminClient).status},
		adminCommand{"stats", "TENANT", "show a tenant's daily messages, spam, bulk and refusals", func(fs *flag.FlagSet) any {
			return &protOpts{fs: fs, days: fs.Int("days", 14, "the last `N` days (1..366)")}
		}, (*adminClient).stats},
		adminCommand{"block list", "TENANT", "list a tenant's blocks, live and released, with who released them (every tenant's: blocks list)", func(fs *flag.FlagSet) any {
			return &protOpts{fs: fs, search: addListSearch(fs, blockSorts...)}
		}, (*adminClient).blockList},
		adminCommand{"block add", "TENANT", "block a tenant by hand: all its outbound mail gets 5.7.705 (operators)", func(fs *flag.FlagSet) any {
			return &protOpts{fs: fs, reason: fs.String("reason", "", "why the tenant is blocked (required; the tenant admin sees it)")}
		}, (*adminClient).block},
		adminCommand{"unblock", "TENANT", "lift a tenant's block directly, without a request: a manual block without probation, a threshold block on probation (operators)", func(fs *flag.FlagSet) any {
			return &protOpts{fs: fs, note: fs.String("note", "", "why the block is lifted (required; audited)")}
		}, (*adminClient).unblock},
		adminCommand{"policy show", "TENANT", "show a tenant's effective protection settings and its own overrides", plain, (*adminClient).policyShow},
		adminCommand{"policy set", "TENANT KEY=VALUE...", "set or (KEY= with no value) remove a tenant's policy overrides; keys as in [policy] (operators)", plain, (*adminClient).policySet},
		adminCommand{"restriction list", "TENANT", "list a tenant's restricted senders, app passwords and connectors", func(fs *flag.FlagSet) any {
			return &protOpts{fs: fs, all: fs.Bool("all", false, "include released and expired restrictions")}
		}, (*adminClient).restrictions},
		adminCommand{"restriction release", "TENANT RESTRICTION_ID", "lift a restriction at once (see tollgate admin restriction list)", plain, (*adminClient).release},
		adminCommand{"unblock-request create", "TENANT", "ask the operators to unblock a blocked tenant, saying what went wrong and what was fixed", func(fs *flag.FlagSet) any {
			return &protOpts{fs: fs, cause: fs.String("cause", "", "what let the spam out, e.g. \"phished admin password\" (required)"),
				fix: fs.String("fix", "", "what you changed, e.g. \"password reset, MFA on, rogue connector deleted\" (required)")}
		}, (*adminClient).unblockRequest},
		adminCommand{"unblock-request list", "", "the operators' review queue: requests with block evidence and checklist (operators)", func(fs *flag.FlagSet) any {
			return &protOpts{fs: fs, status: fs.String("status", "pending", "pending, approved, denied or all"),
				search: addListSearch(fs, "submitted", "tenant", "status")}
		}, (*adminClient).unblockRequests},
		adminCommand{"unblock-request approve", "ID", "approve an unblock request: the tenant sends again on a probation quota (operators)", func(fs *flag.FlagSet) any {
			return &protOpts{fs: fs, note: fs.String("note", "", "a note for the tenant admin and the audit log")}
		}, (*adminClient).unblockApprove},
		adminCommand{"unblock-request deny", "ID", "deny an unblock request; the tenant stays blocked and may ask again (operators)", func(fs *flag.FlagSet) any {
			return &protOpts{fs: fs, note: fs.String("note", "", "tell the tenant admin what is still missing")}
		}, (*adminClient).unblockDeny},
	)
}

// protOpts holds the flags of the protection commands and their flag set,
// so that flags may follow the tenant ("block acme --reason ..."): the
// standard flag package stops at the first argument that is not a flag.
type protOpts struct {
	fs                         *flag.FlagSet
	days                       *int
	all                        *bool
	reason, cause, fix, status *string
	note                       *string
	search                     *listSearch // list commands only
}

// positional parses flags wherever they stand among args and returns the
// other arguments, which must number exactly want (usage names them).
func (o *protOpts) positional(args []string, want int, usage string) ([]string, error) {
	var pos []string
	if o == nil { // a command without flags: every argument is positional
		for _, a := range args {
			if strings.HasPrefix(a, "-") && a != "-" {
				return nil, fmt.Errorf("unknown flag %s (see --help)", a)
			}
		}
		pos = args
	} else {
		for {
			if err := o.fs.Parse(args); err != nil {
				return nil, err
			}
			args = o.fs.Args()
			if len(args) == 0 {
				break
			}
			pos, args = append(pos, args[0]), args[1:]
		}
	}
	if want >= 0 && len(pos) != want {
		return nil, fmt.Errorf("give %s (got %d argument(s))", usage, len(pos))
	}
	return pos, nil
}

// quiet is the client without --json, for look-ups a command makes before
// the request whose answer --json prints.
func (c *adminClient) quiet() *adminClient {
	q := *c
	q.json = false
	return &q
}

// tenantArg is the common start of a command that takes TENANT and
// possibly more arguments: it returns the tenant's API path and all the
// positional arguments, the tenant first.
func (c *adminClient) tenantArg(o any, args []string, want int, usage string) (string, []string, error) {
	opts, _ := o.(*protOpts) // nil for a command without flags
	pos, err := opts.positional(args, want, usage)
	if err != nil {
		return "", nil, err
	}
	if len(pos) == 0 {
		return "", nil, fmt.Errorf("give %s", usage)
	}
	base, err := c.tenantPathOf(pos[0])
	return base, pos, err
}

// operatorOnly explains the API's answer to a tenant token on an operator
// endpoint: a 404 that hides the endpoint, which on its own reads like a
// wrong server version.
func operatorOnly(err error) error {
	if err != nil && strings.Contains(err.Error(), "no such endpoint") {
		return fmt.Errorf("%w; this command needs an operator token", err)
	}
	return printed(err)
}

// The protection state as the API sends it.
type (
	figure         = client.Figure
	blockRow       = client.Block
	count          = client.Count
	restrictionRow = client.Restriction
	dayRow         = client.DayStats
)

func figures(fs []figure) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Name + "=" + f.Value
	}
	return strings.Join(parts, " ")
}

func counts(cs []count) string {
	if len(cs) == 0 {
		return "-"
	}
	parts := make([]string, len(cs))
	for i, x := range cs {
		parts[i] = fmt.Sprintf("%s (%d)", x.Name, x.Count)
	}
	return strings.Join(parts, ", ")
}

func percent(part, whole int64) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

func (c *adminClient) status(o any, args []string) error {
	base, _, err := c.tenantArg(o, args, 1, "one TENANT (id or name)")
	if err != nil {
		return err
	}
	var s struct {
		Tenant         tenantRow
		State, Reason  string
		Block          *blockRow
		ProbationQuota int64 `json:"probation_quota"`
		Restrictions   []restrictionRow
		Today          dayRow
		SpamRatio      float64     `json:"spam_ratio_today"`
		Pending        *requestRow `json:"pending_unblock_request"`
	}
	if err := c.get(base+"/status", &s); err != nil {
		return printed(err)
	}
	w := c.out
	fmt.Fprintf(w, "tenant %d %s (%s, %d seats)\nstate:  %s\n", s.Tenant.ID, s.Tenant.Name, s.Tenant.License, s.Tenant.Seats, s.State)
	if s.Reason != "" {
		fmt.Fprintf(w, "reason: %s\n", s.Reason)
	}
	if b := s.Block; b != nil {
		fmt.Fprintf(w, "\nblock %d since %s (%s, rule %s)\n", b.ID, when(b.CreatedAt), b.Reason, b.Rule)
		if len(b.Figures) > 0 {
			fmt.Fprintf(w, "  figures:           %s\n", figures(b.Figures))
		}
		if ev := b.Evidence; ev.Messages > 0 || ev.Window != "" {
			fmt.Fprintf(w, "  window %-10s %d messages, %d spam or bulk (%.0f%%)\n", ev.Window+":", ev.Messages, ev.SpamBulk, 100*ev.Ratio)
		}
		fmt.Fprintf(w, "  top senders:       %s\n  top connectors:    %s\n", counts(b.Evidence.TopSenders), counts(b.Evidence.TopConnectors))
		for _, k := range b.Evidence.RecentConnectors {
			by := k.By
			if by == "" && k.Event == "created" {
				by = k.CreatedBy
			}
			fmt.Fprintf(w, "  recent connector:  %s %s %s by %s\n", k.Name, k.Event, when(k.At), by)
		}
		for _, m := range b.Evidence.Samples {
			fmt.Fprintf(w, "  sample:            %s %s from %s %q %s\n", m.Verdict, m.QueueID, m.Sender, m.Subject, m.MessageID)
		}
	}
	fmt.Fprintln(w)
	if len(s.Restrictions) == 0 {
		fmt.Fprintln(w, "restrictions: none")
	} else {
		fmt.Fprintln(w, "restrictions:")
		c.restrictionTable(s.Restrictions)
	}
	fmt.Fprintf(w, "\ntoday: %d messages, %d spam, %d bulk, %d refused; spam ratio %.1f%%\n",
		s.Today.Messages, s.Today.Spam, s.Today.Bulk, s.Today.Refused, 100*s.SpamRatio)
	name := s.Tenant.Name
	switch {
	case s.Pending != nil:
		fmt.Fprintf(w, "pending unblock request %d, submitted %s by %s: an operator reviews it\n", s.Pending.ID, when(s.Pending.SubmittedAt), s.Pending.SubmittedBy)
	case s.State == "blocked":
		fmt.Fprintf(w, "next: find and fix the cause (see the evidence above), then\n  tollgate admin unblock-request create %s --cause TEXT --fix TEXT\n", name)
	case s.State == "expired":
		fmt.Fprintln(w, "next: renew the subscription (operators: tollgate admin tenant licence); mail flows again at once")
	}
	return nil
}

func (c *adminClient) restrictionTable(rs []restrictionRow) {
	tw := c.table("ID\tKIND\tSUBJECT\tSINCE\tUNTIL\tSTATE\tREASON")
	for _, r := range rs {
		until, state := "released by an admin", "active"
		if !r.Until.IsZero() {
			until = when(r.Until)
			if time.Now().After(r.Until) {
				state = "expired"
			}
		}
		if !r.ReleasedAt.IsZero() {
			state = "released " + when(r.ReleasedAt) + " by " + r.ReleasedBy
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.Subject, when(r.Created), until, state, r.Reason)
	}
	tw.Flush()
}

func (c *adminClient) stats(o any, args []string) error {
	base, _, err := c.tenantArg(o, args, 1, "one TENANT (id or name)")
	if err != nil {
		return err
	}
	var r struct{ Days []dayRow }
	if err := c.get(fmt.Sprintf("%s/stats?days=%d", base, *o.(*protOpts).days), &r); err != nil {
		return printed(err)
	}
	tw := c.table("DAY\tMESSAGES\tSPAM\tBULK\tREFUSED\tSPAM+BULK")
	for _, d := range r.Days {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", d.Day.UTC().Format("2006-01-02"), d.Messages, d.Spam, d.Bulk, d.Refused, percent(d.Spam+d.Bulk, d.Messages))
	}
	return tw.Flush()
}

func (c *adminClient) blockList(o any, args []string) error {
	base, _, err := c.tenantArg(o, args, 1, "one TENANT (id or name)")
	if err != nil {
		return err
	}
	var r struct {
		Blocks []blockRow
		Total  int
	}
	ls := o.(*protOpts).search
	if err := c.get(base+"/blocks"+ls.query(nil), &r); err != nil {
		return printed(err)
	}
	tw := c.table("ID\tSINCE\tREASON\tRULE\tSTATE\tFIGURES")
	for _, b := range r.Blocks {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", b.ID, when(b.CreatedAt), b.Reason, b.Rule, blockState(b), figures(b.Figures))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	ls.footer(c, len(r.Blocks), r.Total, "blocks")
	return nil
}

func (c *adminClient) block(o any, args []string) error {
	base, pos, err := c.tenantArg(o, args, 1, "one TENANT (id or name)")
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(*o.(*protOpts).reason)
	if reason == "" {
		return errors.New("give --reason TEXT: the tenant admin reads it when their mail is refused")
	}
	var b blockRow
	if err := c.do("POST", base+"/blocks", map[string]string{"reason": reason}, &b); err != nil {
		return operatorOnly(err)
	}
	fmt.Fprintf(c.out, "blocked: block %d; all outbound mail of %s is refused with 550 5.7.705 until an unblock request is approved\n", b.ID, pos[0])
	return nil
}

func (c *adminClient) unblock(o any, args []string) error {
	base, pos, err := c.tenantArg(o, args, 1, "one TENANT (id or name)")
	if err != nil {
		return err
	}
	note := strings.TrimSpace(*o.(*protOpts).note)
	if note == "" {
		return errors.New("give --note TEXT: why the block is lifted (it goes to the audit log)")
	}
	var b struct {
		ID             int64 `json:"id"`
		ProbationQuota int64 `json:"probation_quota"`
		ProbationDays  int   `json:"probation_days"`
	}
	if err := c.do("POST", base+"/unblock", map[string]string{"note": note}, &b); err != nil {
		return operatorOnly(err)
	}
	if b.ProbationDays == 0 {
		fmt.Fprintf(c.out, "unblocked: block %d of %s is lifted; it sends again now, without probation\n", b.ID, pos[0])
	} else {
		fmt.Fprintf(c.out, "unblocked: block %d of %s is lifted; it sends again on probation (%d messages per 24 h, doubling each clean day, for %d days)\n",
			b.ID, pos[0], b.ProbationQuota, b.ProbationDays)
	}
	return nil
}

func (c *adminClient) release(o any, args []string) error {
	base, pos, err := c.tenantArg(o, args, 2, "TENANT and RESTRICTION_ID (see tollgate admin restriction list)")
	if err != nil {
		return err
	}
	rest := pos[1:]
	if _, err := strconv.ParseInt(rest[0], 10, 64); err != nil {
		return fmt.Errorf("restriction id %q is not a number (see tollgate admin restriction list)", rest[0])
	}
	var r restrictionRow
	if err := c.do("DELETE", base+"/restrictions/"+url.PathEscape(rest[0]), nil, &r); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "released restriction %d (%s %s); it can send again now\n", r.ID, r.Kind, r.Subject)
	return nil
}

func (c *adminClient) restrictions(o any, args []string) error {
	base, _, err := c.tenantArg(o, args, 1, "one TENANT (id or name)")
	if err != nil {
		return err
	}
	path := base + "/restrictions"
	if *o.(*protOpts).all {
		path += "?all=true"
	}
	var r struct{ Restrictions []restrictionRow }
	if err := c.get(path, &r); err != nil {
		return printed(err)
	}
	c.restrictionTable(r.Restrictions)
	return nil
}

// overrideKeys maps each key a tenant may override (the config file's
// [policy] names, from policy.Overrides' JSON tags, so the CLI can never
// drift from the server) to its value's kind.
func overrideKeys() map[string]reflect.Kind {
	keys := map[string]reflect.Kind{}
	t := reflect.TypeFor[policy.Overrides]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		keys[name] = f.Type.Elem().Kind()
	}
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// parseAssignment reads KEY=VALUE into the JSON value to store, or nil for
// KEY= (remove the override). Errors name the key and the value.
func parseAssignment(arg string, keys map[string]reflect.Kind) (string, json.RawMessage, error) {
	key, val, ok := strings.Cut(arg, "=")
	if !ok {
		return "", nil, fmt.Errorf("%q is not KEY=VALUE (KEY= removes an override)", arg)
	}
	kind, known := keys[key]
	if !known {
		return "", nil, fmt.Errorf("unknown policy key %q; a tenant can override: %s", key, strings.Join(sortedKeys(keys), ", "))
	}
	if val == "" {
		return key, nil, nil
	}
	var v any
	var err error
	switch kind {
	case reflect.Int64:
		v, err = strconv.ParseInt(val, 10, 64)
		if err != nil {
			err = fmt.Errorf("%s=%s: not a whole number", key, val)
		}
	case reflect.Float64:
		v, err = strconv.ParseFloat(val, 64)
		if err != nil {
			err = fmt.Errorf("%s=%s: not a number", key, val)
		}
	case reflect.Bool:
		v, err = strconv.ParseBool(val)
		if err != nil {
			err = fmt.Errorf("%s=%s: not true or false", key, val)
		}
	default:
		v = val
	}
	if err != nil {
		return "", nil, err
	}
	raw, err := json.Marshal(v)
	return key, raw, err
}

type policyAnswer struct {
	Overrides map[string]json.RawMessage `json:"overrides"`
	Effective map[string]json.RawMessage `json:"effective"`
}

func (c *adminClient) policyShow(o any, args []string) error {
	base, _, err := c.tenantArg(o, args, 1, "one TENANT (id or name)")
	if err != nil {
		return err
	}
	var p policyAnswer
	if err := c.get(base+"/policy", &p); err != nil {
		return printed(err)
	}
	c.policyTable(p)
	return nil
}

func (c *adminClient) policyTable(p policyAnswer) {
	tw := c.table("KEY\tEFFECTIVE\tSOURCE")
	for _, k := range sortedKeys(p.Effective) {
		src := "default"
		if _, ok := p.Overrides[k]; ok {
			src = "tenant override"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k, strings.Trim(string(p.Effective[k]), `"`), src)
	}
	tw.Flush()
}

// policySet reads the tenant's overrides, changes the named keys and
// writes them all back: the API replaces the whole overrides object, so a
// change to one key must carry the others along.
func (c *adminClient) policySet(o any, args []string) error {
	base, pos, err := c.tenantArg(o, args, -1, "TENANT and at least one KEY=VALUE")
	if err != nil {
		return err
	}
	rest := pos[1:]
	if len(rest) == 0 {
		return errors.New("give at least one KEY=VALUE after the tenant (KEY= removes an override)")
	}
	keys := overrideKeys()
	changes := map[string]json.RawMessage{}
	for _, a := range rest {
		k, v, err := parseAssignment(a, keys)
		if err != nil {
			return err
		}
		changes[k] = v
	}
	var cur policyAnswer
	if err := c.quiet().get(base+"/policy", &cur); err != nil {
		return err
	}
	if cur.Overrides == nil {
		cur.Overrides = map[string]json.RawMessage{}
	}
	for k, v := range changes {
		if v == nil {
			delete(cur.Overrides, k)
		} else {
			cur.Overrides[k] = v
		}
	}
	var out policyAnswer
	if err := c.do("PUT", base+"/policy", cur.Overrides, &out); err != nil {
		return operatorOnly(err)
	}
	fmt.Fprintf(c.out, "policy of %s updated; it applies to new mail at once\n", pos[0])
	c.policyTable(out)
	return nil
}
