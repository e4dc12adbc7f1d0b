package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/client"

	"github.com/tollgate-mail/tollgate/reputation"
)

// The IP reputation commands (operators): rate an IP, the allow and deny
// lists, and the per-tenant exceptions that let a trial tenant send from
// an IP of low reputation (5.7.708) until they expire.
func init() {
	reasonFlag := func(what string) func(fs *flag.FlagSet) any {
		return func(fs *flag.FlagSet) any {
			return &repOpts{fs: fs, reason: fs.String("reason", "", what+" (required; kept with the entry and in the audit log)")}
		}
	}
	adminCommands = append(adminCommands,
		adminCommand{"ip show", "IP", "rate a source IP: level, whether trial tenants are refused from it (5.7.708), its record, list entry and exception (operators)", func(fs *flag.FlagSet) any {
			return &repOpts{fs: fs, tenant: fs.String("tenant", "", "rate it for this `tenant` (id or name): its exceptions apply")}
		}, (*adminClient).ipShow},
		adminCommand{"ip list", "", "list the operator allow and deny lists (operators)", nil, (*adminClient).ipLists},
		adminCommand{"ip allow", "PREFIX", "put an IP or CIDR on the allow list: good reputation for every tenant (operators)", reasonFlag("why it is trusted"), func(c *adminClient, o any, a []string) error {
			return c.ipList(o, a, "allow")
		}},
		adminCommand{"ip deny", "PREFIX", "put an IP or CIDR on the deny list: trial tenants are refused from it with 5.7.708 (operators)", reasonFlag("why it is denied"), func(c *adminClient, o any, a []string) error {
			return c.ipList(o, a, "deny")
		}},
		adminCommand{"ip unlist", "PREFIX", "take an IP or CIDR off the allow or deny list (operators)", nil, (*adminClient).ipUnlist},
		adminCommand{"exception list", "", "list the live reputation exceptions, newest first (operators)", func(fs *flag.FlagSet) any {
			return &repOpts{fs: fs, tenant: fs.String("tenant", "", "only this `tenant`'s (id or name)"),
				all: fs.Bool("all", false, "include expired and revoked exceptions")}
		}, (*adminClient).exceptions},
		adminCommand{"exception grant", "TENANT PREFIX", "let a tenant send from an IP or CIDR despite its reputation until the exception expires (operators)", func(fs *flag.FlagSet) any {
			return &repOpts{fs: fs, ttl: fs.String("ttl", "", "expire after this `duration`, such as 72h or 3d"),
				expires: fs.String("expires", "", "expire at this RFC 3339 `time`, such as 2026-11-30T00:00:00Z"),
				reason:  fs.String("reason", "", "why the exception is granted (required; kept with it and in the audit log)")}
		}, (*adminClient).exceptionGrant},
		adminCommand{"exception revoke", "ID", "end an exception at once (operators; the IDs are in tollgate admin exception list)", nil, (*adminClient).exceptionRevoke},
	)
}

type repOpts struct {
	fs                           *flag.FlagSet
	tenant, reason, ttl, expires *string
	all                          *bool
}

// The reputation state as the API sends it.
type (
	listEntryRow = client.ListEntry
	exceptionRow = client.Exception
)

// repArgs parses flags wherever they stand and returns exactly want
// positional arguments (usage names them).
func repArgs(o any, args []string, want int, usage string) ([]string, error) {
	var p *protOpts
	if r, ok := o.(*repOpts); ok {
		p = &protOpts{fs: r.fs}
	}
	return p.positional(args, want, usage)
}

// prefixArg checks an IP or CIDR the way the server does, so that a typo
// is an error naming it before anything is sent.
func prefixArg(s string) (string, error) {
	p, err := reputation.ParsePrefix(s)
	if err != nil {
		return "", fmt.Errorf("prefix %s", strings.TrimPrefix(err.Error(), "invalid: "))
	}
	return p.String(), nil
}

func requireReason(o any) (string, error) {
	r := strings.TrimSpace(*o.(*repOpts).reason)
	if r == "" {
		return "", errors.New("give --reason TEXT: it is kept with the entry and in the audit log")
	}
	return r, nil
}

func (c *adminClient) ipShow(o any, args []string) error {
	pos, err := repArgs(o, args, 1, "one IP address")
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(pos[0])
	if err != nil || ip.Zone() != "" {
		return fmt.Errorf("%q is not an IP address", pos[0])
	}
	path := "/api/v1/reputation/ips/" + url.PathEscape(ip.Unmap().String())
	var tenantName string
	if t := *o.(*repOpts).tenant; t != "" {
		id, err := c.tenantIDOf(t)
		if err != nil {
			return err
		}
		path += "?tenant=" + strconv.FormatInt(id, 10)
		tenantName = fmt.Sprintf("%d %s", id, t)
		if strconv.FormatInt(id, 10) == t {
			tenantName = t
		}
	}
	var a client.Assessment
	if err := c.get(path, &a); err != nil {
		return operatorOnly(err)
	}
	w := c.out
	if tenantName != "" {
		fmt.Fprintf(w, "ip %s for tenant %s\n", a.IP, tenantName)
	} else {
		fmt.Fprintf(w, "ip %s (no tenant: exceptions not considered; give --tenant to include them)\n", a.IP)
	}
	low := "no: trial tenants may send from it"
	if a.Low {
		low = "yes: trial tenants sending from it are refused with 550 5.7.708"
	}
	fmt.Fprintf(w, "  level:      %s\n  low:        %s\n", a.Level, low)
	if a.Messages == 0 && a.FirstSeen.IsZero() {
		fmt.Fprintf(w, "  record:     never seen\n")
	} else {
		fmt.Fprintf(w, "  record:     first seen %s, last seen %s, %d messages, %d spam (%s)\n",
			when(a.FirstSeen), when(a.LastSeen), a.Messages, a.Spam, percent(a.Spam, a.Messages))
	}
	fmt.Fprintf(w, "  figures:    %s\n", figures(a.Figures))
	if e := a.Entry; e != nil {
		fmt.Fprintf(w, "  list entry: %s %s (%s) by %s %s\n", e.Kind, e.Prefix, e.Reason, e.CreatedBy, when(e.CreatedAt))
	}
	if e := a.Exception; e != nil {
		fmt.Fprintf(w, "  exception:  #%d %s for tenant %d until %s (%s) by %s\n", e.ID, e.Prefix, e.TenantID, when(e.ExpiresAt), e.Reason, e.CreatedBy)
	}
	return nil
}

func (c *adminClient) ipLists(o any, args []string) error {
	if _, err := repArgs(o, args, 0, "no arguments"); err != nil {
		return err
	}
	var r struct{ Entries []listEntryRow }
	if err := c.get("/api/v1/reputation/lists", &r); err != nil {
		return operatorOnly(err)
	}
	tw := c.table("ID\tKIND\tPREFIX\tSINCE\tBY\tREASON")
	for _, e := range r.Entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Kind, e.Prefix, when(e.CreatedAt), e.CreatedBy, e.Reason)
	}
	return tw.Flush()
}

func (c *adminClient) ipList(o any, args []string, kind string) error {
	pos, err := repArgs(o, args, 1, "one PREFIX (an IP address or CIDR range)")
	if err != nil {
		return err
	}
	prefix, err := prefixArg(pos[0])
	if err != nil {
		return err
	}
	reason, err := requireReason(o)
	if err != nil {
		return err
	}
	var e listEntryRow
	if err := c.do("POST", "/api/v1/reputation/lists", map[string]string{"kind": kind, "prefix": prefix, "reason": reason}, &e); err != nil {
		return operatorOnly(err)
	}
	effect := "good reputation for every tenant"
	if kind == "deny" {
		effect = "trial tenants sending from it are refused with 550 5.7.708"
	}
	fmt.Fprintf(c.out, "%s list: added %s (entry %d); %s\n", kind, e.Prefix, e.ID, effect)
	return nil
}

func (c *adminClient) ipUnlist(o any, args []string) error {
	pos, err := repArgs(o, args, 1, "one PREFIX as listed (see tollgate admin ip list)")
	if err != nil {
		return err
	}
	prefix, err := prefixArg(pos[0])
	if err != nil {
		return err
	}
	if err := c.do("DELETE", "/api/v1/reputation/lists?prefix="+url.QueryEscape(prefix), nil, nil); err != nil {
		return operatorOnly(err)
	}
	if !c.json {
		fmt.Fprintf(c.out, "unlisted %s; its reputation comes from its record again\n", prefix)
	}
	return nil
}

func (c *adminClient) exceptions(o any, args []string) error {
	opts := o.(*repOpts)
	if _, err := repArgs(o, args, 0, "no arguments (--tenant T selects a tenant)"); err != nil {
		return err
	}
	q := url.Values{}
	if *opts.tenant != "" {
		id, err := c.tenantIDOf(*opts.tenant)
		if err != nil {
			return err
		}
		q.Set("tenant", strconv.FormatInt(id, 10))
	}
	if *opts.all {
		q.Set("all", "true")
	}
	var r struct{ Exceptions []exceptionRow }
	if err := c.get("/api/v1/reputation/exceptions?"+q.Encode(), &r); err != nil {
		return operatorOnly(err)
	}
	names := c.tenantNames()
	tw := c.table("ID\tTENANT\tPREFIX\tGRANTED\tBY\tEXPIRES\tSTATE\tREASON")
	now := time.Now()
	for _, e := range r.Exceptions {
		state := "active"
		switch {
		case !e.RevokedAt.IsZero():
			state = "revoked " + when(e.RevokedAt) + " by " + e.RevokedBy
		case !e.ExpiresAt.After(now):
			state = "expired"
		}
		tenant := strconv.FormatInt(e.TenantID, 10)
		if n := names[e.TenantID]; n != "" {
			tenant += " " + n
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, tenant, e.Prefix, when(e.CreatedAt), e.CreatedBy, when(e.ExpiresAt), state, e.Reason)
	}
	tw.Flush()
	what := "live"
	if *opts.all {
		what = "(expired and revoked included)"
	}
	fmt.Fprintf(c.out, "%d exception(s) %s\n", len(r.Exceptions), what)
	return nil
}

// tenantNames maps tenant ids to names for display; on any error it is
// empty and the tables show ids alone.
func (c *adminClient) tenantNames() map[int64]string {
	var r struct{ Tenants []tenantRow }
	names := map[int64]string{}
	if c.quiet().get("/api/v1/tenants", &r) == nil {
		for _, t := range r.Tenants {
			names[t.ID] = t.Name
		}
	}
	return names
}

func (c *adminClient) exceptionGrant(o any, args []string) error {
	opts := o.(*repOpts)
	pos, err := repArgs(o, args, 2, "TENANT (id or name) and PREFIX (an IP address or CIDR range)")
	if err != nil {
		return err
	}
	prefix, err := prefixArg(pos[1])
	if err != nil {
		return err
	}
	body := map[string]any{"prefix": prefix}
	ttl, expires := strings.TrimSpace(*opts.ttl), strings.TrimSpace(*opts.expires)
	switch {
	case ttl != "" && expires != "":
		return errors.New("give --ttl or --expires, not both")
	case ttl != "":
		d, err := parseDuration(ttl)
		if err != nil || d <= 0 {
			return fmt.Errorf("--ttl %q: give a positive duration such as 72h, 90m or 3d", ttl)
		}
		body["ttl"] = d.String()
	case expires != "":
		t, err := time.Parse(time.RFC3339, expires)
		if err != nil {
			return fmt.Errorf("--expires %q: give an RFC 3339 time such as 2026-11-30T00:00:00Z", expires)
		}
		if !t.After(time.Now()) {
			return fmt.Errorf("--expires %s is in the past: an exception must expire in the future", expires)
		}
		body["expires_at"] = t
	default:
		return errors.New("give --ttl DURATION (such as 72h) or --expires TIME: every exception expires")
	}
	if body["reason"], err = requireReason(o); err != nil {
		return err
	}
	id, err := c.tenantIDOf(pos[0])
	if err != nil {
		return err
	}
	body["tenant_id"] = id
	var e exceptionRow
	if err := c.do("POST", "/api/v1/reputation/exceptions", body, &e); err != nil {
		return operatorOnly(err)
	}
	fmt.Fprintf(c.out, "granted exception %d: tenant %s may send from %s until %s, whatever its reputation\n",
		e.ID, pos[0], e.Prefix, e.ExpiresAt.Local().Format("2006-01-02 15:04 MST"))
	return nil
}

func (c *adminClient) exceptionRevoke(o any, args []string) error {
	pos, err := repArgs(o, args, 1, "one exception ID (see tollgate admin exception list)")
	if err != nil {
		return err
	}
	if n, err := strconv.ParseInt(pos[0], 10, 64); err != nil || n <= 0 {
		return fmt.Errorf("exception id %q is not a number (see tollgate admin exception list)", pos[0])
	}
	var e exceptionRow
	if err := c.do("DELETE", "/api/v1/reputation/exceptions/"+url.PathEscape(pos[0]), nil, &e); err != nil {
		return operatorOnly(err)
	}
	fmt.Fprintf(c.out, "revoked exception %d (tenant %d, %s); the IP's own reputation applies again (at once on the node that took the request, within 30 seconds on the others)\n", e.ID, e.TenantID, e.Prefix)
	return nil
}
