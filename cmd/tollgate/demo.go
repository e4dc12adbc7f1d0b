package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/password"
	"github.com/tollgate-mail/tollgate/protect"
	"github.com/tollgate-mail/tollgate/reputation"
)

// runDemo is `tollgate demo`: it starts a dev gateway in this process, plays
// the four protection scenarios over real SMTP and prints what happened.
// It fails (exit 1) when a scenario does not end as the story says, so the
// demo doubles as a smoke test of the protection checks with the real
// classifier.
func runDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(os.Stdout) // --help goes to stdout
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: tollgate demo [flags]

Starts a dev gateway in this process on free loopback ports, with demo-sized
thresholds, and plays four scenarios over real SMTP with the built-in content
classifier:

  1. a compromised tenant sprays spam and is blocked (550 5.7.705) while a
     neighbour tenant keeps sending;
  2. a trial tenant relaying from a new IP is refused (550 5.7.708) until an
     operator grants an exception for that IP;
  3. a tenant over its daily allowance for unregistered domains is refused
     (550 5.7.750) while its own domain still sends;
  4. a user sending spam is restricted (550 5.1.8) while colleagues keep
     sending.

It prints a table of every message: scenario, tenant, sender, message, the
classifier's verdict, the SMTP reply, and a link to the help page of a
refusal or to the message's trace, then each tenant's status link and the
alerts raised. It exits 1 when a scenario does not end
as expected (or the classifier disagrees with the demo's texts).

Connectors send from 127.0.0.11-127.0.0.31; Linux routes all of 127.0.0.0/8
to the loopback interface, on macOS add the aliases first
(sudo ifconfig lo0 alias 127.0.0.21 up, and so on).

Flags:
`)
		fs.PrintDefaults()
	}
	dataDir := fs.String("data-dir", "", "data `directory` (default: a fresh temporary directory, removed at the end unless --keep)")
	keep := fs.Bool("keep", false, "keep the data directory (database, spool, capture sink, demo.log with the message trace)")
	admin := fs.String("admin-listen", "127.0.0.1:0", "admin HTTP listener `HOST:PORT` (help pages, API); port 0 picks a free one")
	stay := fs.Bool("stay", false, "keep the gateway running after the table until interrupted, so the links work")
	timeout := fs.Duration("timeout", 3*time.Minute, "give up if the scenarios take longer than this")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see tollgate demo --help)", fs.Arg(0))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := demoOptions{DataDir: *dataDir, Keep: *keep, AdminListen: *admin, Timeout: *timeout}
	if *stay {
		opts.Stay = func(admin, tokenFile string) {
			fmt.Printf("\nThe gateway keeps running: help pages at http://%s/ndr/<code>; the API links need\n"+
				"the token in %s (Authorization: Bearer). Ctrl-C to stop.\n", admin, tokenFile)
			<-ctx.Done()
		}
	}
	_, err := playDemo(ctx, opts, os.Stdout)
	return err
}

// demoOptions are the demo's flags; tests set them directly.
type demoOptions struct {
	DataDir     string // "" for a temporary directory
	Keep        bool   // keep a temporary data directory
	AdminListen string // "" or port 0: a free loopback port
	Timeout     time.Duration
	// Stay, if set, is called after the table with the gateway still up.
	Stay func(admin, tokenFile string)
}

// demoResult is what the demo did, for the table and for tests.
type demoResult struct {
	Admin   string // admin HTTP address
	DataDir string
	Steps   []demoStep
	Alerts  []string // alerts the checks raised, in order
	Tenants []directory.Tenant
}

// demoStep is one row of the table: an SMTP transaction, or an operator's
// action between two of them.
type demoStep struct {
	Scenario int
	Tenant   string
	Sender   string // envelope sender, or "operator"
	Via      string // listener and source address
	Message  string // subject, or the operator's action
	// Want is the enhanced code the story expects ("2.0.0" for accepted);
	// "" for an operator action.
	Want string
	// WantVerdict is the class the demo's text is written to get from the
	// classifier ("spam", "clean"); Verdict is what the gateway's
	// classifier said (with its score), "" when the message was refused
	// before DATA and never classified.
	WantVerdict string
	Verdict     string
	Score       string
	Pool        string // delivery pool of an accepted message
	Code        int    // SMTP reply code, 0 if no reply
	Enhanced    string // enhanced status code of the reply
	Text        string // reply text without the help link
	Link        string // help page of a refusal, or the message's trace
	TraceURL    string // the message's trace (its Message-ID) over the API
	Err         error  // a failure to talk SMTP or to act, not a reply
}

// Problem says why the step did not go as the story expects, or "".
func (s demoStep) Problem() string {
	switch {
	case s.Err != nil:
		return s.Err.Error()
	case s.Want != "" && s.Enhanced != s.Want:
		return fmt.Sprintf("got %s, want %s", s.reply(), s.Want)
	case s.WantVerdict != "" && s.Verdict != "" && s.Verdict != s.WantVerdict:
		return fmt.Sprintf("the classifier disagrees: it says %s (score %s) for a text written as %s", s.Verdict, s.Score, s.WantVerdict)
	}
	return ""
}

func (s demoStep) reply() string {
	if s.Code == 0 {
		return "(no reply)"
	}
	return fmt.Sprintf("%d %s %s", s.Code, s.Enhanced, s.Text)
}

// Problems lists every step that did not go as expected.
func (r *demoResult) Problems() []string {
	var out []string
	for i, s := range r.Steps {
		if p := s.Problem(); p != "" {
			out = append(out, fmt.Sprintf("scenario %d, step %d (%s, %s): %s", s.Scenario, i+1, s.Tenant, s.Message, p))
		}
	}
	return out
}

// Demo thresholds: small enough that a few messages cross them.
const (
	demoTenantSpamCount    = 5
	demoTenantSpamRatio    = 0.5
	demoUnregisteredPerDay = 3
	demoUserSpamPerHour    = 3
)

// Source addresses of the demo's connectors. 127.0.0.1 stays trusted (the
// submission users send from it); the trial tenant's address is outside
// reputation.trusted_ranges, so it is a new IP with no reputation.
const (
	demoNeighbourIP    = "127.0.0.11"
	demoTrialIP        = "127.0.0.21"
	demoUnregisteredIP = "127.0.0.31"
)

// playDemo runs the whole demo and writes the table to w. The error is
// non-nil when the gateway could not be set up or a scenario did not end
// as expected; the result is returned either way once the scenarios ran.
func playDemo(ctx context.Context, o demoOptions, w io.Writer) (*demoResult, error) {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	dir := o.DataDir
	if dir != "" {
		// The demo's tenants are created from scratch, and the dev seed's
		// loopback connector it removes would come back on a second start.
		if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
			return nil, fmt.Errorf("data directory %s is not empty: the demo sets up its tenants from scratch; use an empty --data-dir", dir)
		}
	} else {
		var err error
		if dir, err = os.MkdirTemp("", "tollgate-demo-"); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		if !o.Keep {
			defer os.RemoveAll(dir)
		}
	}
	d, err := startDemo(ctx, dir, o.AdminListen)
	if err != nil {
		return nil, err
	}
	defer d.close()
	res := &demoResult{Admin: d.admin, DataDir: dir}
	fmt.Fprintf(w, "Tollgate demo: gateway on submission %s, relay %s, admin http://%s\n", d.addr("submission"), d.addr("relay"), d.admin)
	fmt.Fprintf(w, "Thresholds: tenant_spam_count %d, tenant_spam_ratio %.1f, unregistered_per_day %d, user_spam_per_hour %d; classifier: built-in\n\n",
		demoTenantSpamCount, demoTenantSpamRatio, demoUnregisteredPerDay, demoUserSpamPerHour)
	if err := d.setUp(ctx); err != nil {
		return nil, err
	}
	for _, dt := range demoTenants {
		res.Tenants = append(res.Tenants, d.tenants[dt.name])
	}
	for _, play := range []func(context.Context) error{d.scenarioTenantBlock, d.scenarioNewIP, d.scenarioUnregistered, d.scenarioRestrictedUser} {
		if err := play(ctx); err != nil {
			// A refusal is a row, not an error: only the deadline, an
			// interrupt or a failed operator action end the demo early.
			res.Steps, res.Alerts = d.steps, d.alertList()
			printDemo(w, res)
			return res, fmt.Errorf("scenarios stopped: %w", err)
		}
	}
	res.Steps, res.Alerts = d.steps, d.alertList()
	printDemo(w, res)
	if o.Keep || o.DataDir != "" {
		fmt.Fprintf(w, "\nData directory: %s (trace lines in %s)\n", dir, filepath.Join(dir, "demo.log"))
	}
	problems := res.Problems()
	if len(problems) > 0 {
		fmt.Fprintf(w, "\nNOT AS EXPECTED:\n  %s\n", strings.Join(problems, "\n  "))
	} else {
		fmt.Fprintf(w, "\nAll four scenarios ended as expected.\n")
	}
	if o.Stay != nil && ctx.Err() == nil {
		o.Stay(d.admin, d.g.Config.Admin.TokenFile)
	} else {
		fmt.Fprintf(w, "The gateway stopped with the demo: run it with --stay to follow the links.\n")
	}
	if len(problems) > 0 {
		return res, fmt.Errorf("%d step(s) did not end as expected; the first: %s", len(problems), problems[0])
	}
	return res, nil
}

// demo is a running demo gateway and what the scenarios share.
type demo struct {
	g        *gateway.Gateway
	admin    string
	logFile  *os.File
	trace    *demoTrace
	tenants  map[string]directory.Tenant
	pw       map[string]string // user address -> password
	steps    []demoStep
	msgSeq   int
	cleanSeq int

	mu     sync.Mutex // guards alerts: they arrive on SMTP goroutines
	alerts []string
}

// startDemo starts the gateway: dev mode (capture sink, self-signed
// certificate, the built-in classifier) on free loopback ports.
func startDemo(ctx context.Context, dir, adminListen string) (*demo, error) {
	if adminListen == "" {
		adminListen = "127.0.0.1:0"
	}
	// The reply texts link to Admin.PublicURL, which config derives from
	// the listen address: with port 0 the links would say ":0". Pick the
	// port here so the replies and the table agree.
	if host, port, err := net.SplitHostPort(adminListen); err == nil && port == "0" {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("admin listener %s: %w", adminListen, err)
		}
		adminListen = ln.Addr().String()
		ln.Close()
	}
	cfg := config.Default()
	cfg.ApplyDev()
	cfg.DataDir = dir
	cfg.Listen = config.Listen{Relay: "127.0.0.1:0", Submission: "127.0.0.1:0", Submissions: "127.0.0.1:0", Admin: adminListen}
	cfg.Classify.Engine = "builtin"
	cfg.Policy.TenantSpamCount = demoTenantSpamCount
	cfg.Policy.TenantSpamRatio = demoTenantSpamRatio
	cfg.Policy.UnregisteredPerDay = demoUnregisteredPerDay
	cfg.Policy.UserSpamPerHour = demoUserSpamPerHour
	// Dev mode trusts all of loopback; the demo trusts only 127.0.0.1, so
	// the trial tenant's 127.0.0.21 is a new IP with no reputation.
	cfg.Reputation.TrustedRanges = config.Prefixes{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	cfg.Log.Level = "debug"
	if err := cfg.Finish(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	logFile, err := os.Create(filepath.Join(dir, "demo.log"))
	if err != nil {
		return nil, fmt.Errorf("demo log: %w", err)
	}
	d := &demo{logFile: logFile, trace: &demoTrace{byMessageID: map[string]demoVerdict{}},
		tenants: map[string]directory.Tenant{}, pw: map[string]string{}}
	log := slog.New(&demoLogHandler{Handler: slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}), t: d.trace})
	g, err := gateway.StartWith(ctx, cfg, log, gateway.Options{Alert: d.onAlert})
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start the gateway: %w", err)
	}
	d.g, d.admin = g, g.Addrs["admin"].String()
	return d, nil
}

func (d *demo) close() {
	d.g.Close()
	d.logFile.Close()
}

func (d *demo) addr(kind string) string { return d.g.Addrs[kind].String() }

func (d *demo) onAlert(a protect.Alert) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.alerts = append(d.alerts, fmt.Sprintf("%s: %s (%s) — %s", a.Kind, a.Tenant, a.Subject, a.Code))
}

func (d *demo) alertList() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.alerts...)
}

// demoTenant describes one tenant of the demo.
type demoTenant struct {
	name    string
	license directory.License
	domain  string
	users   []string // local parts
	connIP  string   // "" for no connector
}

var demoTenants = []demoTenant{
	{name: "acme", license: directory.Licensed, domain: "acme.example", users: []string{"ceo", "sales", "support", "billing"}},
	{name: "bluebird", license: directory.Licensed, domain: "bluebird.example", connIP: demoNeighbourIP},
	{name: "freshstart", license: directory.Trial, domain: "freshstart.example", connIP: demoTrialIP},
	{name: "globex", license: directory.Licensed, domain: "globex.example", connIP: demoUnregisteredIP},
	{name: "initech", license: directory.Licensed, domain: "initech.example", users: []string{"peter", "michael", "samir"}},
}

// setUp creates the demo tenants through the directory, as an operator and
// the tenants' admins would over the API.
func (d *demo) setUp(ctx context.Context) error {
	dir := d.g.Directory
	// The dev seed's connector claims all of 127.0.0.0/8 for tenant
	// "demo"; the demo's tenants each relay from their own address.
	if t, err := dir.TenantByName(ctx, directory.DemoTenant); err == nil {
		conns, err := dir.Connectors(ctx, t.ID)
		if err != nil {
			return fmt.Errorf("set up: %w", err)
		}
		for _, c := range conns {
			if c.Live() {
				if err := dir.DeleteConnector(ctx, directory.By{}, t.ID, c.ID); err != nil {
					return fmt.Errorf("set up: remove the dev seed's loopback connector: %w", err)
				}
			}
		}
	}
	for _, dt := range demoTenants {
		seats := 0
		if dt.license == directory.Licensed {
			seats = 25
		}
		t, err := dir.CreateTenant(ctx, directory.By{}, dt.name, dt.license, seats)
		if err != nil {
			return fmt.Errorf("set up tenant %s: %w", dt.name, err)
		}
		d.tenants[dt.name] = t
		if _, err := dir.AddDomain(ctx, directory.By{}, t.ID, dt.domain); err != nil {
			return fmt.Errorf("set up tenant %s: %w", dt.name, err)
		}
		if err := dir.MarkDomainVerified(ctx, directory.By{}, t.ID, dt.domain); err != nil {
			return fmt.Errorf("set up tenant %s: %w", dt.name, err)
		}
		for _, u := range dt.users {
			addr, pw := u+"@"+dt.domain, password.Random(20)
			if _, err := dir.CreateUser(ctx, directory.By{}, t.ID, addr, pw); err != nil {
				return fmt.Errorf("set up tenant %s: %w", dt.name, err)
			}
			d.pw[addr] = pw
		}
		if dt.connIP != "" {
			c, err := dir.CreateConnector(ctx, directory.By{Actor: "demo"}, t.ID, "mailserver", []netip.Prefix{netip.PrefixFrom(netip.MustParseAddr(dt.connIP), 32)})
			if err != nil {
				return fmt.Errorf("set up tenant %s: %w", dt.name, err)
			}
			// Skip the connector's probation quota: not what the demo shows.
			if _, err := dir.ConfirmConnector(ctx, directory.By{Actor: "demo"}, t.ID, c.ID); err != nil {
				return fmt.Errorf("set up tenant %s: %w", dt.name, err)
			}
		}
	}
	return nil
}

// Texts written for the built-in classifier: the spam one is scored far
// above its threshold, the clean ones far below (check a change with
// `tollgate classify FILE`). The table shows the verdict the gateway got.
const (
	demoSpamSubject = "URGENT: Claim your $5,000,000 prize now!!!"
	demoSpamBody    = "Congratulations WINNER! You have been selected to receive $5,000,000 USD.\r\n" +
		"Click here http://bit.ly/claim-now to claim your prize. Act now, limited time offer!\r\n" +
		"Cheap viagra, cialis, replica watches, casino bonus. 100% free, no risk, guaranteed!\r\n" +
		"Send your bank account details and password to verify. Unsubscribe here.\r\n"
)

// demoClean are ordinary business mails, taken in turn so the rows differ.
// (Not every business mail is safe: the built-in model scores some
// invoices and shipping notices as spam, so these were checked.)
var demoClean = []struct{ subject, body string }{
	{"Re: lunch on Thursday?", "Hi Alex,\r\n\r\nThursday works for me. Shall we meet at the Italian place near the office at\r\n" +
		"half past twelve? I can book a table for three if Chris is coming too.\r\n\r\nSee you then,\r\nJo\r\n"},
	{"Draft contract for review", "Hi Priya,\r\n\r\nI have updated the draft contract with the changes legal asked for in\r\n" +
		"sections 4 and 7. Could you read it before our call on Monday and mark\r\nanything that still looks unclear?\r\n\r\nThanks,\r\nMichael\r\n"},
	{"Re: agenda for the team meeting", "Hi Sam,\r\n\r\nThanks for the agenda. Could we add ten minutes on the hiring plan before\r\n" +
		"the roadmap item? I will bring the notes from last week's review.\r\n\r\nSee you on Monday,\r\nDana\r\n"},
	{"Re: the draft report", "Hi Chris,\r\n\r\nI read the draft report last night. The second section looks good; I left a\r\n" +
		"few comments on the figures in the appendix. Could we talk it through on\r\nWednesday after the call?\r\n\r\nThanks,\r\nAnna\r\n"},
}

// clean returns the next clean text.
func (d *demo) clean() (subject, body string) {
	c := demoClean[d.cleanSeq%len(demoClean)]
	d.cleanSeq++
	return c.subject, c.body
}

// demoVia is how a message reaches the gateway: submission with a login,
// or relay from a connector's source address.
type demoVia struct {
	submission bool
	user       string // login for submission
	src        string // source IP for relay
}

// send plays one SMTP transaction and records it as a step.
func (d *demo) send(ctx context.Context, scenario int, tenant string, via demoVia, from, subject, body, wantVerdict, want string) demoStep {
	d.msgSeq++
	msgID := fmt.Sprintf("demo-%d@tollgate.demo", d.msgSeq)
	// Clean mail goes to a partner the tenant writes to; the spam of a
	// compromised account goes to strangers, as real spam does (mail to
	// known recipients is not taken for abuse).
	rcpt := "partner@example.net"
	if wantVerdict == "spam" {
		rcpt = fmt.Sprintf("prospect%d@example.org", d.msgSeq)
	}
	raw := "From: " + from + "\r\nTo: " + rcpt + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + msgID + ">\r\n" +
		"Date: " + time.Now().Format(time.RFC1123Z) + "\r\n\r\n" + body
	st := demoStep{Scenario: scenario, Tenant: tenant, Sender: from, Message: subject, Want: want, WantVerdict: wantVerdict}
	if via.submission {
		st.Via = "submission 127.0.0.1"
	} else {
		st.Via = "relay " + via.src
	}
	var reply *smtp.SMTPError
	reply, st.Err = d.transact(ctx, via, from, rcpt, raw)
	if reply != nil {
		st.Code, st.Enhanced = reply.Code, fmt.Sprintf("%d.%d.%d", reply.EnhancedCode[0], reply.EnhancedCode[1], reply.EnhancedCode[2])
		st.Text = reply.Message
		if i := strings.Index(st.Text, "; see http"); i >= 0 {
			st.Link, st.Text = st.Text[i+len("; see "):], st.Text[:i]
		}
	}
	if v, ok := d.trace.get(msgID); ok {
		st.Verdict, st.Score, st.Pool = v.verdict, v.score, v.pool
	}
	st.TraceURL = fmt.Sprintf("http://%s/api/v1/trace?message_id=%s", d.admin, msgID)
	if st.Link == "" {
		st.Link = st.TraceURL
	}
	d.steps = append(d.steps, st)
	return st
}

// transact dials, says hello, logs in or not, and sends one message. It
// returns the server's final reply (an accepting one too) or an error when
// no reply was had: an unreachable source address, TLS, a failed login.
func (d *demo) transact(ctx context.Context, via demoVia, from, to, raw string) (*smtp.SMTPError, error) {
	dialer := net.Dialer{Timeout: 5 * time.Second}
	target := d.addr("relay")
	if via.submission {
		target = d.addr("submission")
	} else {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(via.src)}
	}
	conn, err := dialer.DialContext(ctx, "tcp", target)
	if err != nil {
		if via.src != "" {
			return nil, fmt.Errorf("connect from %s: %w (on macOS: sudo ifconfig lo0 alias %s up)", via.src, err, via.src)
		}
		return nil, fmt.Errorf("connect: %w", err)
	}
	// A context that ends mid-transaction cuts the connection, so the demo
	// never outlives its deadline.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	// The greeting and STARTTLS run before the client's own timeouts apply.
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	var c *smtp.Client
	if via.submission {
		// The dev certificate is self-signed; the demo talks to itself.
		if c, err = smtp.NewClientStartTLS(conn, &tls.Config{InsecureSkipVerify: true}); err != nil {
			conn.Close()
			return nil, fmt.Errorf("STARTTLS: %w", err)
		}
		c.CommandTimeout, c.SubmissionTimeout = 15*time.Second, 30*time.Second
	} else {
		c = smtp.NewClient(conn)
		c.CommandTimeout, c.SubmissionTimeout = 15*time.Second, 30*time.Second
		if err := c.Hello("client.demo"); err != nil {
			c.Close()
			return asReply(err)
		}
	}
	defer c.Close()
	if via.submission {
		if err := c.Auth(sasl.NewPlainClient("", via.user, d.pw[via.user])); err != nil {
			return nil, fmt.Errorf("AUTH as %s: %w", via.user, err)
		}
	}
	if err := c.Mail(from, nil); err != nil {
		return asReply(err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		return asReply(err)
	}
	wc, err := c.Data()
	if err != nil {
		return asReply(err)
	}
	if _, err := io.WriteString(wc, raw); err != nil {
		return nil, fmt.Errorf("DATA: %w", err)
	}
	resp, err := wc.CloseWithResponse()
	if err != nil {
		return asReply(err)
	}
	c.Quit()
	// go-smtp hands back the text after the code; split off the enhanced
	// code it starts with.
	ok := &smtp.SMTPError{Code: 250, Message: resp.StatusText}
	if code, rest, found := strings.Cut(resp.StatusText, " "); found && strings.Count(code, ".") == 2 {
		fmt.Sscanf(code, "%d.%d.%d", &ok.EnhancedCode[0], &ok.EnhancedCode[1], &ok.EnhancedCode[2])
		ok.Message = rest
	}
	return ok, nil
}

// asReply turns a refusal into the reply it is, and anything else into an
// error.
func asReply(err error) (*smtp.SMTPError, error) {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se, nil
	}
	return nil, err
}

func (d *demo) statusURL(tenant string) string {
	t, ok := d.tenants[tenant]
	if !ok {
		return ""
	}
	return fmt.Sprintf("http://%s/api/v1/tenants/%d/status", d.admin, t.ID)
}

func (d *demo) operator(scenario int, tenant, action string, err error) {
	d.steps = append(d.steps, demoStep{Scenario: scenario, Tenant: tenant, Sender: "operator", Via: "-", Message: action,
		Err: err, Link: d.statusURL(tenant)})
}

func submitAs(user string) demoVia { return demoVia{submission: true, user: user} }
func relayFrom(ip string) demoVia  { return demoVia{src: ip} }

// scenarioTenantBlock: acme's mailboxes are compromised and spray spam.
// No one mailbox crosses the per-user limit (3 an hour), but the tenant's
// window does (5 spam, ratio ≥ 0.5): the fifth spam is refused with
// 5.7.705, and from then on everything acme sends, its CEO's clean mail
// too. Bluebird, on the same gateway, keeps sending.
func (d *demo) scenarioTenantBlock(ctx context.Context) error {
	const sc = 1
	subj, body := d.clean()
	d.send(ctx, sc, "acme", submitAs("ceo@acme.example"), "ceo@acme.example", subj, body, "clean", "2.0.0")
	subj, body = d.clean()
	d.send(ctx, sc, "bluebird", relayFrom(demoNeighbourIP), "anna@bluebird.example", subj, body, "clean", "2.0.0")
	spammers := []string{"sales@acme.example", "support@acme.example", "billing@acme.example"}
	for i := range demoTenantSpamCount {
		want := "2.0.0"
		if i == demoTenantSpamCount-1 {
			want = "5.7.705"
		}
		who := spammers[i%len(spammers)]
		d.send(ctx, sc, "acme", submitAs(who), who, demoSpamSubject, demoSpamBody, "spam", want)
	}
	subj, body = d.clean()
	d.send(ctx, sc, "acme", submitAs("ceo@acme.example"), "ceo@acme.example", subj, body, "", "5.7.705")
	subj, body = d.clean()
	d.send(ctx, sc, "bluebird", relayFrom(demoNeighbourIP), "anna@bluebird.example", subj, body, "clean", "2.0.0")
	return ctx.Err()
}

// scenarioNewIP: freshstart is a trial tenant whose server relays from an
// address the gateway has never seen: 5.7.708. An operator grants the
// tenant an exception for that address for an hour, and the same message
// goes through.
func (d *demo) scenarioNewIP(ctx context.Context) error {
	const sc = 2
	subj, body := d.clean()
	from := "hello@freshstart.example"
	d.send(ctx, sc, "freshstart", relayFrom(demoTrialIP), from, subj, body, "", "5.7.708")
	_, err := d.g.Reputation.GrantException(ctx, reputation.Exception{TenantID: d.tenants["freshstart"].ID,
		Prefix: netip.MustParsePrefix(demoTrialIP + "/32"), Reason: "demo: new server checked by the operator",
		CreatedBy: "operator", ExpiresAt: time.Now().Add(time.Hour)})
	d.operator(sc, "freshstart", fmt.Sprintf("exception for %s, 1h", demoTrialIP), err)
	if err != nil {
		return fmt.Errorf("grant the exception: %w", err)
	}
	d.send(ctx, sc, "freshstart", relayFrom(demoTrialIP), from, subj, body, "clean", "2.0.0")
	return ctx.Err()
}

// scenarioUnregistered: globex's server relays a newsletter for a domain
// globex never registered. The daily allowance (3) lets the first three
// through; the fourth gets 5.7.750. Mail from globex's own verified domain
// still goes.
func (d *demo) scenarioUnregistered(ctx context.Context) error {
	const sc = 3
	subj, body := d.clean()
	foreign := "news@globex-offers.example"
	for i := range demoUnregisteredPerDay + 1 {
		want := "2.0.0"
		wantVerdict := "clean"
		if i == demoUnregisteredPerDay {
			want, wantVerdict = "5.7.750", ""
		}
		d.send(ctx, sc, "globex", relayFrom(demoUnregisteredIP), foreign, subj, body, wantVerdict, want)
	}
	subj, body = d.clean()
	d.send(ctx, sc, "globex", relayFrom(demoUnregisteredIP), "info@globex.example", subj, body, "clean", "2.0.0")
	return ctx.Err()
}

// scenarioRestrictedUser: peter at initech sends spam. His third within the
// hour crosses the per-user limit: 5.1.8, and he stays restricted (a clean
// message of his is refused too), while michael keeps sending.
func (d *demo) scenarioRestrictedUser(ctx context.Context) error {
	const sc = 4
	peter := "peter@initech.example"
	for i := range demoUserSpamPerHour {
		want := "2.0.0"
		if i == demoUserSpamPerHour-1 {
			want = "5.1.8"
		}
		d.send(ctx, sc, "initech", submitAs(peter), peter, demoSpamSubject, demoSpamBody, "spam", want)
	}
	subj, body := d.clean()
	d.send(ctx, sc, "initech", submitAs(peter), peter, subj, body, "", "5.1.8")
	subj, body = d.clean()
	d.send(ctx, sc, "initech", submitAs("michael@initech.example"), "michael@initech.example", subj, body, "clean", "2.0.0")
	return ctx.Err()
}

// printDemo writes the table, then the alerts.
func printDemo(w io.Writer, r *demoResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tSCENARIO\tTENANT\tSENDER\tMESSAGE\tVERDICT\tSMTP REPLY\tHELP OR TRACE")
	names := map[int]string{1: "1 tenant threshold", 2: "2 new IP, trial", 3: "3 unregistered domain", 4: "4 spamming user"}
	for i, s := range r.Steps {
		verdict := "-"
		if s.Verdict != "" {
			verdict = s.Verdict + " " + s.Score
			if s.Pool != "" && s.Pool != "normal" {
				verdict += " → " + s.Pool
			}
		}
		reply := s.reply()
		if s.Sender == "operator" {
			reply = "-"
		}
		mark := ""
		if s.Problem() != "" {
			mark = "  <-- NOT AS EXPECTED"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s%s\n", i+1, names[s.Scenario], s.Tenant, s.Sender,
			clip(s.Message, 32), verdict, clip(reply, 66), s.Link, mark)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nEvery message's trace: http://%s/api/v1/trace?message_id=ID (IDs demo-1@tollgate.demo on).\n", r.Admin)
	fmt.Fprintf(w, "Each tenant's state, block evidence and restrictions:\n")
	for _, t := range r.Tenants {
		fmt.Fprintf(w, "  %-10s http://%s/api/v1/tenants/%d/status\n", t.Name, r.Admin, t.ID)
	}
	if len(r.Alerts) > 0 {
		fmt.Fprintf(w, "\nAlerts raised:\n")
		for _, a := range r.Alerts {
			fmt.Fprintf(w, "  %s\n", a)
		}
	}
}

// demoVerdict is what the gateway's trace said about one message.
type demoVerdict struct{ verdict, score, pool string }

// demoTrace collects, by Message-ID, the verdicts the gateway recorded in
// its trace: the table shows the classifier's real answer, not the one the
// demo hoped for.
type demoTrace struct {
	mu          sync.Mutex
	byMessageID map[string]demoVerdict
}

func (t *demoTrace) get(id string) (demoVerdict, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.byMessageID[id]
	return v, ok
}

// demoLogHandler writes the gateway's log and picks the verdicts out of its
// trace lines. The trace of a message is recorded before the reply is
// sent, so by the time the demo has the reply the verdict is here.
type demoLogHandler struct {
	slog.Handler
	t *demoTrace
}

func (h *demoLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "trace" {
		var stage, id, verdict, score, pool string
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "stage":
				stage = a.Value.String()
			case "message_id":
				id = strings.Trim(a.Value.String(), "<>")
			case "verdict":
				verdict = a.Value.String()
			case "score":
				score = a.Value.String()
			case "pool":
				pool = a.Value.String()
			}
			return true
		})
		if id != "" && (stage == "data" || stage == "queued") {
			h.t.mu.Lock()
			v := h.t.byMessageID[id]
			if verdict != "" {
				v.verdict = verdict
			}
			if score != "" {
				v.score = score
			}
			if pool != "" {
				v.pool = pool
			}
			h.t.byMessageID[id] = v
			h.t.mu.Unlock()
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h *demoLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &demoLogHandler{Handler: h.Handler.WithAttrs(as), t: h.t}
}

func (h *demoLogHandler) WithGroup(name string) slog.Handler {
	return &demoLogHandler{Handler: h.Handler.WithGroup(name), t: h.t}
}
