package console_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-smtp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/policy"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// step bounds one browser action: a page load or a wait for an element.
const actionTimeout = 20 * time.Second

func testLogger() *slog.Logger {
	if os.Getenv("TOLLGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startGateway runs a real gateway in-process (the relay port, which the
// configuration requires, and the admin port), on
// loopback ports the kernel picks, asking resolver for DNS.
func startGateway(t testing.TB, resolver string) *gateway.Gateway {
	t.Helper()
	return startGatewayWith(t, resolver, gateway.Options{}, nil)
}

// startGatewayWith is startGateway with plug-ins, once tune (if not nil)
// has changed the configuration.
func startGatewayWith(t testing.TB, resolver string, opts gateway.Options, tune func(c *config.Config)) *gateway.Gateway {
	t.Helper()
	c := config.Default()
	c.DataDir = t.TempDir()
	c.Hostname = "gw.test"
	c.Listen = config.Listen{Relay: "127.0.0.1:0", Admin: "127.0.0.1:0"}
	c.Delivery.Resolver = resolver
	if tune != nil {
		tune(c)
	}
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	g, err := gateway.StartWith(context.Background(), c, testLogger(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func baseURL(g *gateway.Gateway) string { return "http://" + g.Addrs["admin"].String() }

// fixture is the directory the browser tests start from.
type fixture struct {
	g            *gateway.Gateway
	alpha, beta  directory.Tenant
	alphaAdmin   account
	betaAdmin    account
	operator     account
	legit, rogue directory.Connector
}

type account struct{ email, password string }

const testPassword = "correct horse battery staple"

func newFixture(t testing.TB, g *gateway.Gateway) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{g: g,
		alphaAdmin: account{"boss@alpha.test", testPassword},
		betaAdmin:  account{"boss@beta.test", testPassword},
		operator:   account{"ops@provider.test", testPassword}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	f.alpha, err = g.Directory.CreateTenant(ctx, directory.By{}, "alpha", directory.License("licensed"), 25)
	must(err)
	f.beta, err = g.Directory.CreateTenant(ctx, directory.By{}, "beta", directory.License("trial"), 0)
	must(err)
	_, err = g.Directory.CreateAdmin(ctx, directory.By{}, f.alpha.ID, f.alphaAdmin.email, f.alphaAdmin.password, directory.TenantAdmin)
	must(err)
	_, err = g.Directory.CreateAdmin(ctx, directory.By{}, f.beta.ID, f.betaAdmin.email, f.betaAdmin.password, directory.TenantAdmin)
	must(err)
	_, err = g.Directory.CreateAdmin(ctx, directory.By{}, 0, f.operator.email, f.operator.password, directory.Operator)
	must(err)
	return f
}

// seedProtection gives alpha a history of daily volume, a block for
// crossing the spam threshold with the evidence a real one carries (the
// rogue connector among it), and a restricted sender.
func (f *fixture) seedProtection(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	g := f.g
	today := time.Now().UTC().Truncate(24 * time.Hour)
	// Past days go straight into the store (the stats API only counts
	// today's mail in memory); today's through the store's own counting.
	err := g.DB.Tx(ctx, func(tx *sql.Tx) error {
		for i := 13; i >= 1; i-- {
			msgs := int64(180 + 15*(i%4))
			spam := int64(2 + i%3)
			if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_stats (tenant_id, day, messages, spam, bulk, refused) VALUES ($1, $2, $3, $4, $5, $6)`,
				f.alpha.ID, today.AddDate(0, 0, -i).Unix(), msgs, spam, int64(i%2), int64(0)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed daily stats: %v", err)
	}
	for i := 0; i < 530; i++ {
		v := policy.ClassClean
		if i%9 != 0 {
			v = "spam"
		}
		g.Blocks.NoteVerdict(f.alpha.ID, v)
	}
	if err := g.Blocks.FlushStats(ctx); err != nil {
		t.Fatal(err)
	}
	_, created, err := g.Blocks.BlockTenant(ctx, blocks.Block{TenantID: f.alpha.ID, Reason: blocks.ReasonThreshold, Rule: "tenant_spam_ratio",
		Figures: []policy.Figure{{Name: "messages", Value: "530"}, {Name: "spam_bulk", Value: "471"}, {Name: "ratio", Value: "0.89"}, {Name: "threshold", Value: "0.3"}},
		Evidence: blocks.Evidence{Window: "1h0m0s", Messages: 530, SpamBulk: 471, Ratio: 0.889,
			TopSenders:       []blocks.Count{{Name: "invoice@alpha.test", Count: 466}, {Name: "ann@alpha.test", Count: 5}},
			TopConnectors:    []blocks.Count{{Name: "relay-x", Count: 466}},
			RecentConnectors: []blocks.ConnectorEvent{{ID: f.rogue.ID, Name: "relay-x", Event: "created", At: f.rogue.CreatedAt, CreatedBy: f.rogue.CreatedBy}},
			Samples:          []blocks.Sample{{Sender: "invoice@alpha.test", Subject: "Your invoice is overdue", Verdict: "spam", MessageID: "<x1@relay-x>"}},
		}}, "system")
	if err != nil || !created {
		t.Fatalf("block alpha: created %v, %v", created, err)
	}
	_, _, err = g.Blocks.Restrict(ctx, blocks.Restriction{TenantID: f.alpha.ID, Kind: blocks.KindSender, Subject: "ann@alpha.test",
		Reason: "sent more spam than the outbound spam policy allows", Rule: "user_spam_per_hour",
		Figures: []policy.Figure{{Name: "spam_last_hour", Value: "11"}, {Name: "limit", Value: "10"}}}, "system")
	if err != nil {
		t.Fatalf("restrict ann: %v", err)
	}
}

// browser is one headless Chromium with a fresh profile, on the gateway's
// admin port.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	// secrets and steps: each admin's TOTP secret (read from the
	// enrolment page) and the last time step used.
	secrets map[string]string
	steps   map[string]int64
}

// newBrowser starts Chromium, or skips the test where it is not installed.
// The flags keep it off the network: no background fetches, no component
// or sync traffic, no QUIC.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test skipped: %s is not installed (apt-get install chromium; .ci/run does)", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it must not carry a deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	dir := os.Getenv("TOLLGATE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ctx: ctx, base: base, shots: dir, secrets: map[string]string{}, steps: map[string]int64{}}
}

// run runs browser actions with a deadline.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	run(b, what, chromedp.Steps(steps...))
}

// open loads a console path and returns the HTTP status of the page.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	resp := run(b, "open "+path, chromedp.NavigateResponse(b.base+path))
	return resp.Status
}

// submit clicks a button or link (by id) that loads a page, and returns
// that page's HTTP status after any redirect.
func (b *browser) submit(id string) int64 {
	b.t.Helper()
	return b.follow("#" + id)
}

// follow clicks the element css selects, waits for the page it loads and
// returns its HTTP status.
func (b *browser) follow(css string) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("click %s: %v", css, err)
	}
	return resp.Status
}

// fill sets form fields by id.
func (b *browser) fill(fields map[string]string) {
	b.t.Helper()
	for id, v := range fields {
		b.do("fill #"+id, chromedp.SetValue(chromedp.ID(id), v))
	}
}

func (b *browser) text(css string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, "text of "+css, chromedp.Text(chromedp.CSS(css))))
}

func (b *browser) path() string {
	b.t.Helper()
	loc := run(b, "location", chromedp.Location())
	return strings.TrimPrefix(loc, b.base)
}

// wantText fails unless the element's text contains every part.
func (b *browser) wantText(css string, parts ...string) {
	b.t.Helper()
	got := b.text(css)
	for _, p := range parts {
		if !strings.Contains(got, p) {
			b.t.Fatalf("%s on %s: want %q in %q", css, b.path(), p, got)
		}
	}
}

// shot saves a full-page screenshot as NAME.png and checks the page keeps
// the console's rules: every field labelled, no inline script or style.
func (b *browser) shot(name string) {
	b.t.Helper()
	png := run(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.checkPage()
}

// checkPage asserts what every console page must hold: a label for every
// form field, and nothing the Content-Security-Policy would have to block.
func (b *browser) checkPage() {
	b.t.Helper()
	unlabelled := run(b, "find unlabelled fields", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
		   .filter(e => !e.labels || e.labels.length === 0).map(e => e.id || e.name)`))
	if len(unlabelled) > 0 {
		b.t.Errorf("%s: fields without a label: %v", b.path(), unlabelled)
	}
	inline := run(b, "find inline script or style", chromedp.Evaluate[int](
		`document.querySelectorAll('[style], script:not([src]), [onclick], [onsubmit]').length`))
	if inline > 0 {
		b.t.Errorf("%s: %d elements with inline script or style", b.path(), inline)
	}
}

// code hands out a TOTP code for the admin, for a time step later than the
// last one used: sign-in and a step-up minutes apart in real life run
// within one 30-second step here, and each code is accepted once. It never
// goes beyond the one step of clock drift the server accepts.
func (b *browser) code(email string) string {
	b.t.Helper()
	now := time.Now().Unix() / 30
	s := max(b.steps[email]+1, now)
	if s > now+1 {
		b.t.Fatalf("TOTP: step %d is beyond the accepted window (now %d): too many codes for one admin in one test", s, now)
	}
	b.steps[email] = s
	code, err := totp.GenerateCodeCustom(b.secrets[email], time.Unix(s*30, 0),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		b.t.Fatal(err)
	}
	return code
}

// signIn signs in through the pages. On the first sign-in it checks the QR
// code, enrols with the secret shown beside it and checks the recovery
// codes; shots names the screenshots to take on the way ("" for none).
func (b *browser) signIn(a account, shots bool) {
	b.t.Helper()
	if st := b.open("/console/signin"); st != 200 {
		b.t.Fatalf("sign-in page: status %d", st)
	}
	if shots {
		b.shot("signin")
	}
	b.fill(map[string]string{"email": a.email, "password": a.password})
	if st := b.submit("signin"); st != 200 || b.path() != "/console/signin/totp" {
		b.t.Fatalf("after the password: status %d at %s: %s", st, b.path(), b.text("main"))
	}
	first := b.secrets[a.email] == ""
	if first {
		w := run(b, "QR code", chromedp.Evaluate[int](`document.getElementById('qr').naturalWidth`))
		if w < 100 {
			b.t.Fatalf("the enrolment QR code did not load (width %d)", w)
		}
		b.secrets[a.email] = b.text("#secret")
		if shots {
			b.shot("totp-enrol")
		}
	}
	b.fill(map[string]string{"code": b.code(a.email)})
	if st := b.submit("verify"); st != 200 {
		b.t.Fatalf("after the TOTP code: status %d at %s: %s", st, b.path(), b.text("main"))
	}
	if first {
		n := run(b, "count recovery codes", chromedp.Evaluate[int](`document.querySelectorAll('#recovery-codes li').length`))
		if n != 10 {
			b.t.Fatalf("want 10 recovery codes shown, got %d: %s", n, b.text("main"))
		}
		if shots {
			b.shot("recovery-codes")
		}
		b.submit("continue")
	}
	b.wantText("#me", a.email)
}

// sendMail sends one message over SMTP and returns the server's refusal,
// if any.
func sendMail(addr, from, to, subject string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return transact(c, from, to, subject, "Hello.")
}

// transact sends one message with body on an open client, ending at the
// answer to its data.
func transact(c *smtp.Client, from, to, subject, body string) error {
	c.CommandTimeout = actionTimeout
	if err := c.Hello("lab.alpha.test"); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "From: "+from+"\r\nTo: "+to+"\r\nSubject: "+subject+"\r\n\r\n"+body+"\r\n"); err != nil {
		return err
	}
	return w.Close()
}
