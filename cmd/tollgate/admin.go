package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"time"

	"github.com/tollgate-mail/tollgate/password"
)

// adminClient speaks the admin API of a running gateway.
type adminClient struct {
	server string
	token  string
	json   bool
	out    io.Writer
}

// adminCommand is one `tollgate admin` command; its flags are set up by
// flags, its positional arguments described by args.
type adminCommand struct {
	name, args, summary string
	flags               func(fs *flag.FlagSet) any
	run                 func(c *adminClient, opts any, args []string) error
}

var adminCommands = []adminCommand{
	{"messages", "", "list the messages the dev capture sink received", nil, func(c *adminClient, _ any, a []string) error { return c.messages(a) }},
	{"queue", "", "list the messages waiting in the spool", nil, func(c *adminClient, _ any, a []string) error { return c.queue(a) }},
}

func adminUsage(fs *flag.FlagSet) func() {
	return func() {
		fmt.Fprint(fs.Output(), `Usage: tollgate admin [flags] <command>

Speaks the admin API of a running gateway. In dev mode it finds the token in
./tollgate-data by itself; otherwise give --token or set TOLLGATE_TOKEN.

Commands:
`)
		for _, c := range adminCommands {
			fmt.Fprintf(fs.Output(), "  %-17s %s\n", c.name, c.summary)
		}
		fmt.Fprint(fs.Output(), "\nFlags:\n")
		fs.PrintDefaults()
	}
}

func runAdmin(args []string) error {
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.Usage = adminUsage(fs)
	server := fs.String("server", envOr("TOLLGATE_SERVER", "http://127.0.0.1:8025"), "admin API base `URL`")
	token := fs.String("token", os.Getenv("TOLLGATE_TOKEN"), "API `token` (default: read from the data directory)")
	dataDir := fs.String("data-dir", "tollgate-data", "data `directory` to find the dev token in")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("missing command")
	}
	name := fs.Arg(0)
	for _, c := range adminCommands {
		if c.name != name {
			continue
		}
		sub := flag.NewFlagSet("admin "+name, flag.ContinueOnError)
		var opts any
		if c.flags != nil {
			opts = c.flags(sub)
		}
		sub.Usage = func() {
			fmt.Fprintf(sub.Output(), "Usage: tollgate admin [--server URL] [--token T] [--json] %s [flags] %s\n\n%s.\n",
				name, c.args, strings.ToUpper(c.summary[:1])+c.summary[1:])
			if c.flags != nil {
				fmt.Fprint(sub.Output(), "\nFlags:\n")
				sub.PrintDefaults()
			}
		}
		if err := sub.Parse(fs.Args()[1:]); err != nil {
			return err
		}
		tok := *token
		if tok == "" {
			b, err := os.ReadFile(filepath.Join(*dataDir, "admin-token"))
			if err != nil {
				return fmt.Errorf("no API token: give --token, set TOLLGATE_TOKEN, or run in the directory that holds tollgate-data (%v)", err)
			}
			tok = strings.TrimSpace(string(b))
		}
		cl := &adminClient{server: strings.TrimSuffix(*server, "/"), token: tok, json: *asJSON, out: os.Stdout}
		return c.run(cl, opts, sub.Args())
	}
	return fmt.Errorf("unknown admin command %q (see tollgate admin --help)", name)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// get fetches path and decodes the JSON answer into v; with --json it also
// prints the raw answer and returns errPrinted.
func (c *adminClient) get(path string, v any) error { return c.do(http.MethodGet, path, nil, v) }

// do sends a request (body, if not nil, as JSON) and decodes the answer into
// v. API errors come back as errors that carry the API's message and code.
func (c *adminClient) do(method, path string, body, v any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.server+path, rd)
	if err != nil {
		return fmt.Errorf("bad --server %q: %w", c.server, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the admin API at %s (is tollgate serve running?): %w", c.server, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Field, Message string }
		}
		if json.Unmarshal(answer, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s: %s (%s)", resp.Status, e.Error.Message, e.Error.Code)
		}
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(answer)))
	}
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

func (c *adminClient) messages(args []string) error {
	var r struct {
		Messages []struct {
			ID         string    `json:"id"`
			From       string    `json:"from"`
			To         []string  `json:"to"`
			Subject    string    `json:"subject"`
			Size       int       `json:"size"`
			ReceivedAt time.Time `json:"received_at"`
		} `json:"messages"`
	}
	if err := c.get("/api/v1/dev/messages", &r); err != nil {
		if err == errPrinted {
			return nil
		}
		return err
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
		Messages []struct {
			ID          string    `json:"id"`
			From        string    `json:"from"`
			Tenant      string    `json:"tenant"`
			Attempts    int       `json:"attempts"`
			NextAttempt time.Time `json:"next_attempt"`
			LastError   string    `json:"last_error"`
			Recipients  []struct{ Addr, Status string }
		} `json:"messages"`
	}
	if err := c.get("/api/v1/queue", &r); err != nil {
		if err == errPrinted {
			return nil
		}
		return err
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
func newPassword(fromStdin bool) (pw string, generated bool, err error) {
	if !fromStdin {
		return randomPassword(), true, nil
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", false, fmt.Errorf("read the password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}
