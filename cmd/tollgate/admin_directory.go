package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The directory commands: tenants, domains, connectors, users, audit.
func init() {
	tenantFlag := func(fs *flag.FlagSet) any {
		return fs.Int64("tenant", 0, "tenant `id` (see tollgate admin tenants)")
	}
	adminCommands = append(adminCommands,
		adminCommand{"tenants", "", "list tenants (a tenant admin sees its own)", nil, (*adminClient).tenants},
		adminCommand{"tenant-create", "NAME", "create a tenant (operators)", func(fs *flag.FlagSet) any {
			return &tenantOpts{license: fs.String("license", "trial", "licence: trial, licensed or expired"), seats: fs.Int("seats", 0, "purchased seats")}
		}, (*adminClient).tenantCreate},
		adminCommand{"tenant-licence", "", "set a tenant's licence state and seats (operators)", func(fs *flag.FlagSet) any {
			return &licenceOpts{tenant: fs.Int64("tenant", 0, "tenant `id`"), license: fs.String("license", "", "trial, licensed or expired"), seats: fs.Int("seats", 0, "purchased seats"),
				expires: fs.String("expires", "", "last `date` of a licensed subscription, YYYY-MM-DD (UTC); empty: open-ended")}
		}, (*adminClient).tenantLicence},
		adminCommand{"domains", "", "list a tenant's accepted domains and the TXT record each needs", tenantFlag, (*adminClient).domains},
		adminCommand{"domain-add", "NAME", "add an accepted domain and print the TXT record to publish", tenantFlag, (*adminClient).domainAdd},
		adminCommand{"domain-verify", "NAME", "look the domain's TXT record up now and say what was found", tenantFlag, (*adminClient).domainVerify},
		adminCommand{"connectors", "", "list a tenant's connectors, deleted ones included, with creator and time", tenantFlag, (*adminClient).connectors},
		adminCommand{"connector-create", "[RANGE...]", "create a connector for IP addresses or CIDR ranges, or (--cert-domain) for a TLS client certificate", func(fs *flag.FlagSet) any {
			return &connectorOpts{tenant: fs.Int64("tenant", 0, "tenant `id`"), name: fs.String("name", "", "connector `name`"),
				cert: fs.String("cert-domain", "", "the `domain` the server's client certificate names (\"*.\" allowed)")}
		}, (*adminClient).connectorCreate},
		adminCommand{"connector-confirm", "ID", "end a connector's probation: needs an admin session token (--token from POST /api/v1/signin) and a fresh TOTP code", func(fs *flag.FlagSet) any {
			return &confirmOpts{tenant: fs.Int64("tenant", 0, "tenant `id`"), code: fs.String("code", "", "a fresh TOTP `code` from your authenticator")}
		}, (*adminClient).connectorConfirm},
		adminCommand{"connector-delete", "ID", "delete a connector (its record and history are kept)", tenantFlag, (*adminClient).connectorDelete},
		adminCommand{"users", "", "list a tenant's users", tenantFlag, (*adminClient).users},
		adminCommand{"user-create", "ADDRESS", "create a user; the password is read from standard input, or generated and printed", func(fs *flag.FlagSet) any {
			return &userOpts{tenant: fs.Int64("tenant", 0, "tenant `id`"), stdin: fs.Bool("password-stdin", false, "read the password from the first line of standard input")}
		}, (*adminClient).userCreate},
		adminCommand{"audit", "[verify]", "search the audit log, newest first; \"audit verify\" checks its hash chain", func(fs *flag.FlagSet) any {
			return &auditOpts{tenant: fs.Int64("tenant", 0, "only this tenant's entries"), action: fs.String("action", "", "exact action, e.g. connector.create"),
				actor: fs.String("actor", "", "exact actor"), days: fs.Int("days", 0, "only the last `N` days"), limit: fs.Int("limit", 100, "at most `N` entries")}
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

func (c *adminClient) connectorConfirm(o any, args []string) error {
	opts := o.(*confirmOpts)
	base, err := tenantPath(opts.tenant)
	if err != nil {
		return err
	}
	id, err := oneArg(args, "connector ID")
	if err != nil {
		return err
	}
	if *opts.code == "" {
		return errors.New("give --code with a fresh TOTP code")
	}
	var k connectorRow
	if err := c.do("POST", base+"/connectors/"+id+"/confirm", map[string]any{"code": *opts.code}, &k); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "connector %d %q confirmed; it is off probation\n", k.ID, k.Name)
	return nil
}

type licenceOpts struct {
	tenant           *int64
	license, expires *string
	seats            *int
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
	body := map[string]any{"license": *opts.license, "seats": *opts.seats}
	if *opts.expires != "" {
		day, err := time.Parse("2006-01-02", *opts.expires)
		if err != nil {
			return fmt.Errorf("--expires %q is not a date like 2027-01-31", *opts.expires)
		}
		body["license_expires"] = day.Add(24 * time.Hour) // the subscription runs through that day
	}
	var t tenantRow
	if err := c.do("PUT", base+"/licence", body, &t); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "tenant %d %q is now %s with %d seats\n", t.ID, t.Name, t.License, t.Seats)
	return nil
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
	days, limit   *int
}

// tenantPath is /api/v1/tenants/<id>; a missing --tenant is an error that
// says so.
func tenantPath(id *int64) (string, error) {
	if id == nil || *id <= 0 {
		return "", errors.New("give --tenant ID (see tollgate admin tenants)")
	}
	return fmt.Sprintf("/api/v1/tenants/%d", *id), nil
}

func oneArg(args []string, what string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("give exactly one %s", what)
	}
	return args[0], nil
}

func (c *adminClient) table(header string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	return tw
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

type tenantRow struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	License   string    `json:"license"`
	Seats     int       `json:"seats"`
	CreatedAt time.Time `json:"created_at"`
}

func (c *adminClient) tenants(_ any, args []string) error {
	var r struct{ Tenants []tenantRow }
	if err := c.get("/api/v1/tenants", &r); err != nil {
		return printed(err)
	}
	tw := c.table("ID\tNAME\tLICENCE\tSEATS\tCREATED")
	for _, t := range r.Tenants {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", t.ID, t.Name, t.License, t.Seats, when(t.CreatedAt))
	}
	return tw.Flush()
}

func (c *adminClient) tenantCreate(o any, args []string) error {
	opts := o.(*tenantOpts)
	name, err := oneArg(args, "tenant NAME")
	if err != nil {
		return err
	}
	var t tenantRow
	if err := c.do("POST", "/api/v1/tenants", map[string]any{"name": name, "license": *opts.license, "seats": *opts.seats}, &t); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "created tenant %d %q (%s)\n", t.ID, t.Name, t.License)
	return nil
}

type domainRow struct {
	Name     string `json:"name"`
	Verified bool   `json:"verified"`
	Record   string `json:"record"`
}

func (c *adminClient) domains(o any, args []string) error {
	base, err := tenantPath(o.(*int64))
	if err != nil {
		return err
	}
	var r struct{ Domains []domainRow }
	if err := c.get(base+"/domains", &r); err != nil {
		return printed(err)
	}
	tw := c.table("DOMAIN\tSTATUS\tRECORD TO PUBLISH")
	for _, d := range r.Domains {
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
	var d domainRow
	if err := c.do("POST", base+"/domains", map[string]any{"name": name}, &d); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "added %s (pending). Publish this DNS record, then run tollgate admin domain-verify --tenant %d %s:\n\n  %s\n",
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
	var r struct {
		Verified bool
		Detail   string
		Found    []string
	}
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

type connectorRow struct {
	ID                int64      `json:"id"`
	Name              string     `json:"name"`
	IPRanges          []string   `json:"ip_ranges"`
	CertificateDomain string     `json:"certificate_domain"`
	CreatedBy         string     `json:"created_by"`
	CreatedAt         time.Time  `json:"created_at"`
	Live              bool       `json:"live"`
	DeletedAt         *time.Time `json:"deleted_at"`
	Messages          int64      `json:"messages"`
	LastTraffic       *time.Time `json:"last_traffic"`
	Probation         bool       `json:"probation"`
	MessagesToday     int64      `json:"messages_today"`
}

func (c *adminClient) connectors(o any, args []string) error {
	base, err := tenantPath(o.(*int64))
	if err != nil {
		return err
	}
	var r struct{ Connectors []connectorRow }
	if err := c.get(base+"/connectors", &r); err != nil {
		return printed(err)
	}
	tw := c.table("ID\tNAME\tMATCHES\tCREATED BY\tCREATED\tMESSAGES\tLAST TRAFFIC\tSTATE")
	for _, k := range r.Connectors {
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
	body := map[string]any{"name": *opts.name, "ip_ranges": args}
	if *opts.cert != "" {
		body = map[string]any{"name": *opts.name, "certificate_domain": *opts.cert}
	}
	var k connectorRow
	if err := c.do("POST", base+"/connectors", body, &k); err != nil {
		return printed(err)
	}
	what := strings.Join(k.IPRanges, ", ")
	if k.CertificateDomain != "" {
		what = "client certificates naming " + k.CertificateDomain
	}
	fmt.Fprintf(c.out, "created connector %d %q for %s\n", k.ID, k.Name, what)
	return nil
}

func (c *adminClient) connectorDelete(o any, args []string) error {
	base, err := tenantPath(o.(*int64))
	if err != nil {
		return err
	}
	id, err := oneArg(args, "connector ID")
	if err != nil {
		return err
	}
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return fmt.Errorf("connector ID %q is not a number", id)
	}
	if err := c.do("DELETE", base+"/connectors/"+id, nil, nil); err != nil {
		return printed(err)
	}
	fmt.Fprintf(c.out, "deleted connector %s (its record stays in tollgate admin connectors and the audit log)\n", id)
	return nil
}

func (c *adminClient) users(o any, args []string) error {
	base, err := tenantPath(o.(*int64))
	if err != nil {
		return err
	}
	var r struct {
		Users []struct {
			ID        int64     `json:"id"`
			Address   string    `json:"address"`
			Disabled  bool      `json:"disabled"`
			CreatedAt time.Time `json:"created_at"`
		}
	}
	if err := c.get(base+"/users", &r); err != nil {
		return printed(err)
	}
	tw := c.table("ID\tADDRESS\tSTATE\tCREATED")
	for _, u := range r.Users {
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
	pw, generated, err := newPassword(*opts.stdin)
	if err != nil {
		return err
	}
	if err := c.do("POST", base+"/users", map[string]any{"address": addr, "password": pw}, nil); err != nil {
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
	q := []string{fmt.Sprintf("limit=%d", *opts.limit)}
	if *opts.tenant > 0 {
		q = append(q, fmt.Sprintf("tenant=%d", *opts.tenant))
	}
	if *opts.action != "" {
		q = append(q, "action="+*opts.action)
	}
	if *opts.actor != "" {
		q = append(q, "actor="+*opts.actor)
	}
	if *opts.days > 0 {
		q = append(q, fmt.Sprintf("days=%d", *opts.days))
	}
	var r struct {
		Entries []struct {
			ID       int64     `json:"id"`
			Time     time.Time `json:"time"`
			Actor    string    `json:"actor"`
			TenantID int64     `json:"tenant_id"`
			SourceIP string    `json:"source_ip"`
			Action   string    `json:"action"`
			Target   string    `json:"target"`
		}
	}
	if err := c.get("/api/v1/audit?"+strings.Join(q, "&"), &r); err != nil {
		return printed(err)
	}
	tw := c.table("ID\tTIME\tTENANT\tACTOR\tFROM\tACTION\tTARGET")
	for _, e := range r.Entries {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\n", e.ID, e.Time.Local().Format("2006-01-02 15:04:05"), e.TenantID, e.Actor, e.SourceIP, e.Action, e.Target)
	}
	return tw.Flush()
}

// printed turns the --json marker into success: the answer was printed.
func printed(err error) error {
	if err == errPrinted {
		return nil
	}
	return err
}

func (c *adminClient) auditVerify() error {
	var r struct {
		Entries  int64  `json:"entries"`
		OK       bool   `json:"ok"`
		FirstBad int64  `json:"first_bad"`
		Problem  string `json:"problem"`
		HeadID   int64  `json:"head_id"`
		HeadHash string `json:"head_hash"`
	}
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
