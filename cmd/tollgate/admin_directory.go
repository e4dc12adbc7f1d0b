package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-mail/tollgate/client"
)

// The directory commands: tenants, domains, connectors, users, audit.
func init() {
	tenantFlag := func(fs *flag.FlagSet) any {
		return fs.Int64("tenant", 0, "the tenant, by `name or id` (see tollgate admin tenant list)")
	}
	adminCommands = append(adminCommands,
		adminCommand{"tenant list", "", "list tenants (a tenant admin sees its own); --q searches names and ids", func(fs *flag.FlagSet) any {
			return addListSearch(fs, "name", "id", "created", "license")
		}, (*adminClient).tenants},
		adminCommand{"tenant create", "NAME", "create a tenant (operators)", func(fs *flag.FlagSet) any {
			return &tenantOpts{license: fs.String("license", "trial", "licence: trial, licensed or expired"), seats: fs.Int("seats", 0, "purchased seats")}
		}, (*adminClient).tenantCreate},
		adminCommand{"tenant licence", "", "set a tenant's licence state and seats (operators)", func(fs *flag.FlagSet) any {
			return &licenceOpts{tenant: fs.Int64("tenant", 0, "the tenant, by `name or id`"), license: fs.String("license", "", "trial, licensed or expired"), seats: fs.Int("seats", 0, "purchased seats"),
				expires: fs.String("expires", "", "last `date` of a licensed subscription, YYYY-MM-DD (UTC); empty: open-ended")}
		}, (*adminClient).tenantLicence},
		adminCommand{"domain list", "", "list a tenant's accepted domains and the TXT record each needs", tenantFlag, (*adminClient).domains},
		adminCommand{"domain add", "NAME", "add an accepted domain and print the TXT record to publish", tenantFlag, (*adminClient).domainAdd},
		adminCommand{"domain verify", "NAME", "look the domain's TXT record up now and say what was found", tenantFlag, (*adminClient).domainVerify},
		adminCommand{"connector list", "", "list a tenant's connectors, deleted ones included, with creator and time", tenantFlag, (*adminClient).connectors},
		adminCommand{"connector create", "[RANGE...]", "create a connector for IP addresses or CIDR ranges, or (--cert-domain) for a TLS client certificate", func(fs *flag.FlagSet) any {
			return &connectorOpts{tenant: fs.Int64("tenant", 0, "the tenant, by `name or id`"), name: fs.String("name", "", "connector `name`"),
				cert: fs.String("cert-domain", "", "the `domain` the server's client certificate names (\"*.\" allowed)")}
		}, (*adminClient).connectorCreate},
		adminCommand{"connector confirm", "ID", "end a connector's probation: needs an admin session (tollgate admin login) and a fresh TOTP code", func(fs *flag.FlagSet) any {
			return &confirmOpts{tenant: fs.Int64("tenant", 0, "the tenant, by `name or id`"), code: fs.String("code", "", "a fresh TOTP `code` from your authenticator")}
		}, (*adminClient).connectorConfirm},
		adminCommand{"connector delete", "ID", "delete a connector (its record and history are kept)", tenantFlag, (*adminClient).connectorDelete},
		adminCommand{"user list", "", "list a tenant's users", tenantFlag, (*adminClient).users},
		adminCommand{"user create", "ADDRESS", "create a user; the password is read from standard input, or generated and printed", func(fs *flag.FlagSet) any {
			return &userOpts{tenant: fs.Int64("tenant", 0, "the tenant, by `name or id`"), stdin: fs.Bool("password-stdin", false, "read the password from the first line of standard input")}
		}, (*adminClient).userCreate},
		adminCommand{"audit", "[verify]", "search the audit log, newest first; \"audit verify\" checks its hash chain", func(fs *flag.FlagSet) any {
			return &auditOpts{tenant: fs.Int64("tenant", 0, "only this tenant's entries (`name or id`)"), action: fs.String("action", "", "exact action, e.g. connector.create"),
				actor: fs.String("actor", "", "exact actor"), q: fs.String("q", "", "entries whose actor, action, target or source address contains `TEXT` (any case)"), days: fs.Int("days", 0, "only the last `N` days"), limit: fs.Int("limit", 100, "at most `N` entries")}
		}, (*adminClient).audit},
	)
}

type tenantOpts struct {
	license *string
	seats   *int
}

type confirmOpts struct {
	tenant *int64
	code   *string
}

type licenceOpts struct {
	tenant           *int64
	license, expires *string
	seats            *int
}

type connectorOpts struct {
	tenant     *int64
	name, cert *string
}

type userOpts struct {
	tenant *int64
	stdin  *bool
}

type auditOpts struct {
	tenant        *int64
	action, actor *string
	q             *string
	days, limit   *int
}

func oneArg(args []string, what string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("give exactly one %s", what)
	}
	return args[0], nil
}

// idArg is the one argument, a positive number.
func idArg(args []string, what string) (int64, error) {
	s, err := oneArg(args, what)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s %q is not a number", what, s)
	}
	return id, nil
}

// tenantOf is the tenant id a --tenant flag gave (by name or id).
func tenantOf(id *int64) (int64, error) {
	if _, err := tenantPath(id); err != nil {
		return 0, err
	}
	return *id, nil
}

func (c *adminClient) table(header string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	return tw
}

// tenantRow is the tenant as the tables read it.
type tenantRow = client.Tenant

func (c *adminClient) tenants(o any, args []string) error {
	ls, _ := o.(*listSearch)
	var r struct {
		Tenants []client.Tenant `json:"tenants"`
		Total   int             `json:"total"`
	}
	if err := c.get("/api/v1/tenants"+ls.query(nil), &r); err != nil {
		return printed(err)
	}
	tw := c.table("ID\tNAME\tLICENCE\tSEATS\tCREATED")
	for _, t := range r.Tenants {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", t.ID, t.Name, t.License, t.Seats, when(t.CreatedAt))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	ls.footer(c, len(r.Tenants), r.Total, "tenants")
	return nil
}

func (c *adminClient) tenantCreate(o any, args []string) error {
	opts := o.(*tenantOpts)
	name, err := oneArg(args, "tenant NAME")
	if err != nil {
		return err
	}
	var t client.Tenant
	if err := c.do("POST", "/api/v1/tenants", client.TenantCreate{Name: name, License: *opts.license, Seats: *opts.seats}, &t); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "created tenant %d %q (%s)\n", t.ID, t.Name, t.License)
	return nil
}

func (c *adminClient) tenantLicence(o any, _ []string) error {
	opts := o.(*licenceOpts)
	base, err := tenantPath(opts.tenant)
	if err != nil {
		return err
	}
	if *opts.license == "" {
		return errors.New("give --license trial, licensed or expired")
	}
	req := client.LicenceSet{License: *opts.license, Seats: *opts.seats}
	if *opts.expires != "" {
		day, err := time.Parse("2006-01-02", *opts.expires)
		if err != nil {
			return fmt.Errorf("--expires %q is not a date like 2027-01-31", *opts.expires)
		}
		end := day.Add(24 * time.Hour) // the subscription runs through that day
		req.Expires = &end
	}
	var t client.Tenant
	if err := c.do("PUT", base+"/licence", req, &t); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "tenant %d %q is now %s with %d seats\n", t.ID, t.Name, t.License, t.Seats)
	return nil
}

func (c *adminClient) domains(o any, args []string) error {
	items, err := getTenantList[client.Domain](c, o.(*int64), "/domains", "domains")
	if err != nil {
		return printed(err)
	}
	tw := c.table("DOMAIN\tSTATUS\tRECORD TO PUBLISH")
	for _, d := range items {
		status := "pending"
		if d.Verified {
			status = "verified"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Name, status, d.Record)
	}
	return tw.Flush()
}

func (c *adminClient) domainAdd(o any, args []string) error {
	base, err := tenantPath(o.(*int64))
	if err != nil {
		return err
	}
	name, err := oneArg(args, "domain NAME")
	if err != nil {
		return err
	}
	var d client.Domain
	if err := c.do("POST", base+"/domains", client.DomainAdd{Name: name}, &d); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "added %s (pending). Publish this DNS record, then run tollgate admin domain verify --tenant %d %s:\n\n  %s\n",
		d.Name, *o.(*int64), d.Name, d.Record)
	return nil
}

func (c *adminClient) domainVerify(o any, args []string) error {
	base, err := tenantPath(o.(*int64))
	if err != nil {
		return err
	}
	name, err := oneArg(args, "domain NAME")
	if err != nil {
		return err
	}
	var r client.Verification
	if err := c.do("POST", base+"/domains/"+name+"/verify", nil, &r); err != nil {
		return printed(err)
	}
	if r.Verified {
		fmt.Fprintf(c.out, "%s is verified: %s\n", name, r.Detail)
		return nil
	}
	fmt.Fprintf(c.out, "%s is not verified yet: %s\n", name, r.Detail)
	for _, f := range r.Found {
		fmt.Fprintf(c.out, "  found TXT %q\n", f)
	}
	return errors.New("not verified")
}

func (c *adminClient) connectors(o any, args []string) error {
	items, err := getTenantList[client.Connector](c, o.(*int64), "/connectors", "connectors")
	if err != nil {
		return printed(err)
	}
	tw := c.table("ID\tNAME\tMATCHES\tCREATED BY\tCREATED\tMESSAGES\tLAST TRAFFIC\tSTATE")
	for _, k := range items {
		state := "live"
		if k.Probation {
			state = fmt.Sprintf("probation (%d today)", k.MessagesToday)
		}
		if !k.Live && k.DeletedAt != nil {
			state = "deleted " + when(*k.DeletedAt)
		}
		last := "-"
		if k.LastTraffic != nil {
			last = when(*k.LastTraffic)
		}
		match := strings.Join(k.IPRanges, ",")
		if k.CertificateDomain != "" {
			match = "cert:" + k.CertificateDomain
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", k.ID, k.Name, match, k.CreatedBy, when(k.CreatedAt), k.Messages, last, state)
	}
	return tw.Flush()
}

func (c *adminClient) connectorCreate(o any, args []string) error {
	opts := o.(*connectorOpts)
	base, err := tenantPath(opts.tenant)
	if err != nil {
		return err
	}
	if *opts.name == "" || (len(args) == 0) == (*opts.cert == "") {
		return errors.New("give --name NAME and either IP addresses or CIDR ranges, or --cert-domain DOMAIN")
	}
	req := client.ConnectorCreate{Name: *opts.name, IPRanges: args, CertificateDomain: *opts.cert}
	var k client.Connector
	if err := c.do("POST", base+"/connectors", req, &k); err != nil {
		return printed(err)
	}
	what := strings.Join(k.IPRanges, ", ")
	if k.CertificateDomain != "" {
		what = "client certificates naming " + k.CertificateDomain
	}
	fmt.Fprintf(c.out, "created connector %d %q for %s\n", k.ID, k.Name, what)
	return nil
}

func (c *adminClient) connectorConfirm(o any, args []string) error {
	opts := o.(*confirmOpts)
	tenant, err := tenantOf(opts.tenant)
	if err != nil {
		return err
	}
	id, err := idArg(args, "connector ID")
	if err != nil {
		return err
	}
	if *opts.code == "" {
		return errors.New("give --code with a fresh TOTP code")
	}
	var k client.Connector
	if err := c.do("POST", fmt.Sprintf("/api/v1/tenants/%d/connectors/%d/confirm", tenant, id), client.ConnectorConfirm{Code: *opts.code}, &k); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "connector %d %q confirmed; it is off probation\n", k.ID, k.Name)
	return nil
}

func (c *adminClient) connectorDelete(o any, args []string) error {
	tenant, err := tenantOf(o.(*int64))
	if err != nil {
		return err
	}
	id, err := idArg(args, "connector ID")
	if err != nil {
		return err
	}
	if err := c.api.DeleteConnector(c.ctx, tenant, id); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "deleted connector %d (its record stays in tollgate admin connector list and the audit log)\n", id)
	return nil
}

func (c *adminClient) users(o any, args []string) error {
	items, err := getTenantList[client.User](c, o.(*int64), "/users", "users")
	if err != nil {
		return printed(err)
	}
	tw := c.table("ID\tADDRESS\tSTATE\tCREATED")
	for _, u := range items {
		state := "active"
		if u.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", u.ID, u.Address, state, when(u.CreatedAt))
	}
	return tw.Flush()
}

func (c *adminClient) userCreate(o any, args []string) error {
	opts := o.(*userOpts)
	base, err := tenantPath(opts.tenant)
	if err != nil {
		return err
	}
	addr, err := oneArg(args, "user ADDRESS")
	if err != nil {
		return err
	}
	pw, generated, err := c.newPassword(*opts.stdin)
	if err != nil {
		return err
	}
	if err := c.do("POST", base+"/users", client.UserCreate{Address: addr, Password: pw}, nil); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "created user %s\n", addr)
	if generated {
		fmt.Fprintf(c.out, "password (shown once): %s\n", pw)
	}
	return nil
}

func (c *adminClient) audit(o any, args []string) error {
	opts := o.(*auditOpts)
	if len(args) == 1 && args[0] == "verify" {
		return c.auditVerify()
	}
	if len(args) > 0 {
		return fmt.Errorf("unexpected %q (the only sub-command is verify)", args[0])
	}
	f := client.AuditFilter{Tenant: *opts.tenant, Action: *opts.action, Actor: *opts.actor, Text: *opts.q, Days: *opts.days, Limit: *opts.limit}
	if !c.json {
		entries, err := c.api.Audit(c.ctx, f)
		if err != nil {
			return err
		}
		tw := c.table("ID\tTIME\tTENANT\tACTOR\tFROM\tACTION\tTARGET")
		for _, e := range entries {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\n", e.ID, e.Time.Local().Format("2006-01-02 15:04:05"), e.TenantID, e.Actor, e.SourceIP, e.Action, e.Target)
		}
		return tw.Flush()
	}
	var raw []byte
	if err := c.api.Do(c.ctx, "GET", "/api/v1/audit?"+auditQuery(f), nil, &raw); err != nil {
		return err
	}
	c.out.Write(raw)
	return nil
}

// auditQuery is the query string of an audit search, for --json.
func auditQuery(f client.AuditFilter) string {
	q := []string{fmt.Sprintf("limit=%d", f.Limit)}
	if f.Tenant > 0 {
		q = append(q, fmt.Sprintf("tenant=%d", f.Tenant))
	}
	if f.Action != "" {
		q = append(q, "action="+f.Action)
	}
	if f.Actor != "" {
		q = append(q, "actor="+f.Actor)
	}
	if f.Days > 0 {
		q = append(q, fmt.Sprintf("days=%d", f.Days))
	}
	return strings.Join(q, "&")
}

func (c *adminClient) auditVerify() error {
	var r client.AuditReport
	if err := c.get("/api/v1/audit/verify", &r); err != nil {
		return printed(err)
	}
	if !r.OK {
		fmt.Fprintf(c.out, "audit log TAMPERED: entry %d: %s (%d entries checked)\n", r.FirstBad, r.Problem, r.Entries)
		return errors.New("audit log verification failed")
	}
	fmt.Fprintf(c.out, "audit log intact: %d entries, head %d %s\nRecord the head somewhere else; a later check of it proves nothing was rewritten.\n",
		r.Entries, r.HeadID, r.HeadHash)
	return nil
}
