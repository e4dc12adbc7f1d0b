package main

import (
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
	dataDir := fs.String("data-dir", "tollgate-data", "data `directory` to find the dev token in")
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
	body := map[string]any{"settings": map[string]any(set)}
	if *until != "" {
		body["until"] = *until
	}
	if *tenant != "" {
		body["tenant"] = *tenant
	}
	if _, err := time.Parse(time.RFC3339, *since); err == nil {
		body["since"] = *since
	} else if d, err := time.ParseDuration(*since); err == nil && d > 0 {
		body["last"] = *since
	} else {
		return fmt.Errorf("--since %q: give a duration (168h) or an RFC 3339 time", *since)
	}
	tok := *token
	if tok == "" {
		b, err := os.ReadFile(filepath.Join(*dataDir, "admin-token"))
		if err != nil {
			return fmt.Errorf("no API token: give --token, set TOLLGATE_TOKEN, or run in the directory that holds tollgate-data (%v)", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	answer, err := postDryRun(strings.TrimSuffix(*server, "/"), tok, body)
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
