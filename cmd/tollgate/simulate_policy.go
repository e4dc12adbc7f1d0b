package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/dryrun"
)

// settingFlags collects repeated --set KEY=VALUE values as the JSON object
// policy-set takes: a number or true/false as such, anything else (a
// duration, an action) as a string.
type settingFlags map[string]any

func (s settingFlags) String() string { return fmt.Sprint(map[string]any(s)) }
func (s settingFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return fmt.Errorf("%q: want KEY=VALUE (e.g. tenant_spam_ratio=0.2)", v)
	}
	var x any
	if err := json.Unmarshal([]byte(val), &x); err != nil {
		x = val
	}
	s[k] = x
	return nil
}

// runSimulatePolicy is `tollgate simulate policy`: the operators' dry run
// of a policy change on the stored trace, through the running gateway's
// POST /api/v1/simulate/policy.
func runSimulatePolicy(args []string) error {
	fs := flag.NewFlagSet("simulate policy", flag.ContinueOnError)
	fs.SetOutput(os.Stdout)
	set := settingFlags{}
	fs.Var(set, "set", "a setting to try, `KEY=VALUE` with policy-set's keys (repeat for more)")
	server := fs.String("server", envOr("TOLLGATE_SERVER", "http://127.0.0.1:8025"), "admin API base `URL`")
	token := fs.String("token", os.Getenv("TOLLGATE_TOKEN"), "operator API `token` (default: read from the data directory)")
	dataDir := fs.String("data-dir", "", "run on this node's embedded store `directory` itself, read-only, without the API or a token (the node may be running or stopped)")
	configFile := fs.String("config", "", "with --data-dir: the node's config `file`, for the policy defaults in force (default: the built-in defaults)")
	since := fs.String("since", "24h", "start of the span: a `duration` back from --until (168h) or an RFC 3339 time")
	until := fs.String("until", "", "end of the span, an RFC 3339 `time` (default: now)")
	tenant := fs.String("tenant", "", "only this tenant (`name` or id)")
	asJSON := fs.Bool("json", false, "print the API's JSON report")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: tollgate simulate policy --set KEY=VALUE [--since 168h] [--tenant NAME] [flags]

Answers "what would tenant_spam_ratio = 0.2 have blocked last week, and when?"
The running gateway replays the span of its message trace, oldest first,
through its protection checks with the settings changed — fresh counters and
blocks, a virtual clock at each message's recorded time, the verdicts the
classifier gave then — and says per tenant whether it would have been blocked
or restricted, at which message, with which code and on which evidence,
beside what actually happened. Nothing live is changed.

On the node itself, without an API token, read its data directory (a
consistent read-only copy is taken, so the node may keep running):
  tollgate simulate policy --data-dir /var/lib/tollgate --config /etc/tollgate/tollgate.toml --set tenant_spam_ratio=0.2

Example:
  tollgate simulate policy --set tenant_spam_ratio=0.2 --since 168h

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see tollgate simulate policy --help)", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["config"] && !given["data-dir"] {
		return errors.New("--config is read only with --data-dir (over the API the node's own settings are used)")
	}
	if given["data-dir"] && (given["server"] || given["token"]) {
		return errors.New("--data-dir reads the store directly: give it or --server/--token, not both")
	}
	body := map[string]any{"settings": map[string]any(set)}
	if *until != "" {
		body["until"] = *until
	}
	if *tenant != "" {
		body["tenant"] = *tenant
	}
	var err error
	if _, err := time.Parse(time.RFC3339, *since); err == nil {
		body["since"] = *since
	} else if d, err := time.ParseDuration(*since); err == nil && d > 0 {
		body["last"] = *since
	} else {
		return fmt.Errorf("--since %q: give a duration (168h) or an RFC 3339 time", *since)
	}
	var answer []byte
	if *dataDir != "" {
		l := localDryRun{dataDir: *dataDir, configFile: *configFile, tenant: *tenant}
		if l.change, err = json.Marshal(map[string]any(set)); err != nil {
			return err
		}
		if l.since, l.until, err = localSpan(*since, *until); err != nil {
			return err
		}
		rep, err := l.run(context.Background())
		if err != nil {
			return err
		}
		if !*asJSON {
			rep.Print(os.Stdout)
			return nil
		}
		if answer, err = json.MarshalIndent(rep, "", "  "); err != nil {
			return err
		}
		_, err = os.Stdout.Write(append(answer, '\n'))
		return err
	}
	tok := *token
	if tok == "" {
		b, err := os.ReadFile(filepath.Join("tollgate-data", "admin-token"))
		if err != nil {
			return fmt.Errorf("no API token: give --token, set TOLLGATE_TOKEN, or run in the directory that holds tollgate-data (%v)", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	answer, err = postDryRun(strings.TrimSuffix(*server, "/"), tok, body)
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := os.Stdout.Write(answer)
		return err
	}
	var rep dryrun.Report
	if err := json.Unmarshal(answer, &rep); err != nil {
		return fmt.Errorf("read the report: %w", err)
	}
	rep.Print(os.Stdout)
	return nil
}

// postDryRun sends the request; the run may take minutes (the API allows
// five), so the client waits longer than the admin commands do.
func postDryRun(server, token string, body any) ([]byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, server+"/api/v1/simulate/policy", bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("bad --server %q: %w", server, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 6 * time.Minute}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the admin API at %s (is tollgate serve running?): %w", server, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Field, Message string }
		}
		if json.Unmarshal(answer, &e) == nil && e.Error.Message != "" {
			return nil, fmt.Errorf("%s: %s (%s)", resp.Status, e.Error.Message, e.Error.Code)
		}
		return nil, errors.New(resp.Status + ": " + strings.TrimSpace(string(answer)))
	}
	return answer, nil
}

// localSpan is the span --since and --until name, as the API reads them:
// since is an RFC 3339 time or a duration back from until (default now).
func localSpan(since, until string) (from, to time.Time, err error) {
	to = time.Now()
	if until != "" {
		if to, err = time.Parse(time.RFC3339, until); err != nil {
			return from, to, fmt.Errorf("--until %q: give an RFC 3339 time (2026-12-01T00:00:00Z)", until)
		}
	}
	if from, err = time.Parse(time.RFC3339, since); err == nil {
		return from, to, nil
	}
	d, err := time.ParseDuration(since)
	if err != nil || d <= 0 {
		return from, to, fmt.Errorf("--since %q: give a duration (168h) or an RFC 3339 time", since)
	}
	return to.Add(-d), to, nil
}
