package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/password"
)

// adminClient speaks the admin API of a running gateway through the typed
// client; json prints the API's answers as they are.
type adminClient struct {
	ctx    context.Context
	api    *client.Client
	server string
	token  string
	json   bool
	out    io.Writer
	in     *bufio.Reader // standard input, read line by line by the commands that take secrets there
}

// adminCommand is one `tollgate admin` command. name is "noun verb"
// ("connector create") or a single word ("trace"); its flags are set up by
// flags, its positional arguments described by args.
//
// A new command joins with one line in its own file's init:
//
//	adminCommands = append(adminCommands, adminCommand{"dkim rotate", "DOMAIN", "…", flags, run})
//
// and the dispatcher gives it the rest: flags anywhere, the global flags,
// --tenant by name or id (for an int64 "tenant" flag, or an args that
// starts with TENANT), --help on stdout, and a place in the help listing
// under its noun.
type adminCommand struct {
	name, args, summary string
	flags               func(fs *flag.FlagSet) any
	run                 func(c *adminClient, opts any, args []string) error
}

var adminCommands = []adminCommand{
	{"messages", "", "list the messages the dev capture sink received", nil, func(c *adminClient, _ any, a []string) error { return c.messages(a) }},
	{"queue", "", "list the messages waiting in the spool", nil, func(c *adminClient, _ any, a []string) error { return c.queue(a) }},
}

// adminGlobals are the flags every admin command takes, before or after
// its name.
type adminGlobals struct {
	server, token, dataDir string
	json                   bool
}

func (g *adminGlobals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.server, "server", envOr("TOLLGATE_SERVER", "http://127.0.0.1:8025"), "admin API base `URL` (or set TOLLGATE_SERVER)")
	fs.StringVar(&g.token, "token", "", "API or session `token` (default: $TOLLGATE_TOKEN, then the token of tollgate admin login, then the dev token in --data-dir)")
	fs.StringVar(&g.dataDir, "data-dir", "tollgate-data", "data `directory` to find the dev token in")
	fs.BoolVar(&g.json, "json", false, "print the API's JSON answer instead of a table")
}

// isGlobalFlag reports whether name is one of adminGlobals' flags, which
// every command's flag set holds too.
func isGlobalFlag(name string) bool {
	switch name {
	case "server", "token", "data-dir", "json":
		return true
	}
	return false
}

func runAdmin(args []string) error {
	pre := flag.NewFlagSet("admin", flag.ContinueOnError)
	pre.SetOutput(io.Discard)
	var g0 adminGlobals
	g0.register(pre)
	if err := pre.Parse(args); errors.Is(err, flag.ErrHelp) {
		adminUsage(os.Stdout)
		return flag.ErrHelp
	} else if err != nil {
		return fmt.Errorf("%v (see tollgate admin --help)", err)
	}
	rest := pre.Args()
	preFlags := args[:len(args)-len(rest)]
	if len(rest) == 0 {
		return errors.New("missing command (see tollgate admin --help)")
	}
	if rest[0] == "help" {
		adminUsage(os.Stdout)
		return nil
	}
	cmd, words := lookupAdmin(rest)
	if cmd == nil {
		return fmt.Errorf("unknown admin command %q (see tollgate admin --help)", rest[0])
	}
	return runAdminCommand(cmd, append(append([]string{}, preFlags...), rest[words:]...))
}

// lookupAdmin finds the command args start with: a two-word name first,
// then one word, then a deprecated old name. words is how many it took.
func lookupAdmin(args []string) (cmd *adminCommand, words int) {
	find := func(name string) *adminCommand {
		if n, ok := deprecatedAdminNames[name]; ok {
			name = n
		}
		for i := range adminCommands {
			if adminCommands[i].name == name {
				return &adminCommands[i]
			}
		}
		return nil
	}
	if len(args) >= 2 {
		if c := find(args[0] + " " + args[1]); c != nil {
			return c, 2
		}
	}
	if c := find(args[0]); c != nil {
		return c, 1
	}
	return nil, 0
}

func runAdminCommand(cmd *adminCommand, args []string) error {
	fs := flag.NewFlagSet("admin "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var g adminGlobals
	g.register(fs)
	var opts any
	if cmd.flags != nil {
		opts = cmd.flags(fs)
	}
	tenant := tenantFlagOf(fs, cmd)
	user := userFlagOf(fs)
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(os.Stdout, cmd)
		return flag.ErrHelp
	}
	if name, ok := strings.CutPrefix(fmt.Sprint(err), "flag provided but not defined: "); ok {
		return fmt.Errorf("unknown flag -%s (see tollgate admin %s --help)", name, cmd.name)
	}
	if err != nil {
		return fmt.Errorf("%v (see tollgate admin %s --help)", err, cmd.name)
	}
	if cmd.args == "" && len(pos) > 0 {
		if fs.Lookup("tenant") != nil && len(pos) == 1 {
			return fmt.Errorf("unexpected argument %q: give the tenant as --tenant %s (see tollgate admin %s --help)", pos[0], pos[0], cmd.name)
		}
		return fmt.Errorf("unexpected argument %q: %s takes none (see tollgate admin %s --help)", pos[0], cmd.name, cmd.name)
	}
	c, err := newAdminClient(g, cmd.name)
	if err != nil {
		return err
	}
	if pos, err = tenant.resolve(c, pos); err != nil {
		return err
	}
	if err := user.resolve(c, fs); err != nil {
		return err
	}
	return cmd.run(c, opts, pos)
}

// newAdminClient finds the token: --token, $TOLLGATE_TOKEN, the session of
// tollgate admin login for this server, then the dev token.
func newAdminClient(g adminGlobals, name string) (*adminClient, error) {
	server := strings.TrimSuffix(g.server, "/")
	tok := g.token
	if tok == "" {
		tok = os.Getenv("TOLLGATE_TOKEN")
	}
	if tok == "" {
		tok = storedToken(server)
	}
	if tok == "" && !tokenless[name] {
		b, err := os.ReadFile(g.dataDir + "/admin-token")
		if err != nil {
			return nil, fmt.Errorf("no API token: run tollgate admin login, give --token or set TOLLGATE_TOKEN, or run in the directory that holds %s (%v)", g.dataDir, err)
		}
		tok = strings.TrimSpace(string(b))
	}
	return &adminClient{ctx: context.Background(), api: client.New(server, tok), server: server, token: tok, json: g.json, out: os.Stdout,
		in: bufio.NewReader(os.Stdin)}, nil
}

// tokenless are the commands that work without a token.
var tokenless = map[string]bool{"login": true, "logout": true}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// get fetches path and decodes the JSON answer into v; with --json it also
// prints the raw answer and returns errPrinted.
func (c *adminClient) get(path string, v any) error { return c.do("GET", path, nil, v) }

// do sends a request (body, if not nil, as JSON) and decodes the answer into
// v. API errors come back as *client.Error: one line with the API's
// message and the status.
func (c *adminClient) do(method, path string, body, v any) error {
	var answer []byte
	if err := c.api.Do(c.ctx, method, path, body, &answer); err != nil {
		return err
	}
	return c.decode(answer, v)
}

// decode prints the answer with --json (and returns errPrinted), or
// decodes it into v.
func (c *adminClient) decode(answer []byte, v any) error {
	if c.json {
		c.out.Write(answer)
		return errPrinted
	}
	if v == nil || len(answer) == 0 {
		return nil
	}
	return json.Unmarshal(answer, v)
}

var errPrinted = errors.New("printed")

// printed turns the --json marker into success: the answer was printed.
func printed(err error) error {
	if err == errPrinted {
		return nil
	}
	return err
}

func (c *adminClient) messages(args []string) error {
	var r struct {
		Messages []client.CapturedMessage `json:"messages"`
	}
	if err := c.get("/api/v1/dev/messages", &r); err != nil {
		return printed(err)
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED\tFROM\tTO\tSIZE\tSUBJECT")
	for _, m := range r.Messages {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", m.ID, m.ReceivedAt.Local().Format("15:04:05"), orNull(m.From),
			strings.Join(m.To, ","), m.Size, m.Subject)
	}
	tw.Flush()
	fmt.Fprintf(c.out, "%d message(s)\n", len(r.Messages))
	return nil
}

func (c *adminClient) queue(args []string) error {
	var r struct {
		Messages []client.QueuedMessage `json:"messages"`
	}
	if err := c.get("/api/v1/queue", &r); err != nil {
		return printed(err)
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTENANT\tFROM\tPENDING\tATTEMPTS\tNEXT\tLAST ERROR")
	for _, m := range r.Messages {
		pending := 0
		for _, rc := range m.Recipients {
			if rc.Status == "pending" {
				pending++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", m.ID, m.Tenant, orNull(m.From), pending, m.Attempts,
			m.NextAttempt.Local().Format("15:04:05"), m.LastError)
	}
	tw.Flush()
	fmt.Fprintf(c.out, "%d message(s) in the queue\n", len(r.Messages))
	return nil
}

func orNull(s string) string {
	if s == "" {
		return "<>"
	}
	return s
}

// randomPassword makes a password for a new user or admin.
func randomPassword() string { return password.Random(20) }

// newPassword reads a password from the first line of standard input when
// fromStdin is set, and otherwise generates one (generated says so: the
// caller prints it, once).
func (c *adminClient) newPassword(fromStdin bool) (pw string, generated bool, err error) {
	if !fromStdin {
		return randomPassword(), true, nil
	}
	line, err := c.stdinLine()
	return line, false, err
}

// stdinLine reads one line of standard input, without its line end.
func (c *adminClient) stdinLine() (string, error) {
	line, err := c.in.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// when is a time for a table, "-" for none.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}
