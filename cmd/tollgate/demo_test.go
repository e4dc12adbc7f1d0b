package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDemo plays the whole demo in-process and checks each scenario's
// outcome against the story in the issue, independently of the demo's own
// expectations: the codes each sender got, in order, the classifier's
// verdicts, the table, and, while the gateway still runs, that the links
// work and the tenants' status agrees with the replies.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	linksChecked := false
	o := demoOptions{Timeout: 3 * time.Minute, Stay: func(admin, tokenFile string) {
		linksChecked = true
		checkDemoLinks(t, admin, tokenFile, out.String())
	}}
	res, err := playDemo(ctx, o, &out)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	t.Logf("demo output:\n%s", out.String())
	if !linksChecked {
		t.Error("the demo never called Stay with the gateway up")
	}

	// 1: five spam from three acme mailboxes (none over its own limit of
	// 3): the fifth blocks the tenant, and then its CEO is refused too;
	// bluebird sends before and after.
	wantCodes(t, res, 1, "sales@acme.example", "2.0.0", "2.0.0")
	wantCodes(t, res, 1, "support@acme.example", "2.0.0", "5.7.705")
	wantCodes(t, res, 1, "billing@acme.example", "2.0.0")
	wantCodes(t, res, 1, "ceo@acme.example", "2.0.0", "5.7.705")
	wantCodes(t, res, 1, "anna@bluebird.example", "2.0.0", "2.0.0")
	// 2: the trial tenant's new IP is refused, then passes after the
	// operator's exception.
	wantCodes(t, res, 2, "hello@freshstart.example", "5.7.708", "2.0.0")
	if op := stepsOf(res, 2, "operator"); len(op) != 1 || op[0].Err != nil {
		t.Errorf("scenario 2: want one successful operator step, got %+v", op)
	}
	// 3: three foreign-domain messages pass, the fourth is refused; the
	// tenant's own domain still sends.
	wantCodes(t, res, 3, "news@globex-offers.example", "2.0.0", "2.0.0", "2.0.0", "5.7.750")
	wantCodes(t, res, 3, "info@globex.example", "2.0.0")
	// 4: peter's third spam restricts him, and his next (clean) message
	// is refused at MAIL FROM; michael keeps sending.
	wantCodes(t, res, 4, "peter@initech.example", "2.0.0", "2.0.0", "5.1.8", "5.1.8")
	wantCodes(t, res, 4, "michael@initech.example", "2.0.0")

	// The real classifier judged the texts as written: every spam text
	// that reached DATA is spam, every clean one clean.
	for _, s := range res.Steps {
		if s.Verdict == "" {
			continue
		}
		want := "clean"
		if strings.HasPrefix(s.Message, "URGENT") {
			want = "spam"
		}
		if s.Verdict != want {
			t.Errorf("scenario %d, %s %q: classifier says %s (%s), want %s", s.Scenario, s.Sender, s.Message, s.Verdict, s.Score, want)
		}
	}
	// Refusals at MAIL FROM were never classified; the ones at DATA were.
	if v := stepsOf(res, 1, "ceo@acme.example")[1].Verdict; v != "" {
		t.Errorf("the blocked CEO's message was refused at MAIL FROM but has verdict %q", v)
	}
	if v := stepsOf(res, 4, "peter@initech.example")[2].Verdict; v != "spam" {
		t.Errorf("peter's third spam was refused at DATA after classification, but has verdict %q", v)
	}
	for _, a := range []string{"tenant-blocked: acme", "limit-exceeded: globex", "user-restricted: initech (sender peter@initech.example)"} {
		if !slices.ContainsFunc(res.Alerts, func(s string) bool { return strings.HasPrefix(s, a) }) {
			t.Errorf("no alert %q in %q", a, res.Alerts)
		}
	}
	for _, line := range []string{
		"550 5.7.705 Access denied, tenant has exceeded threshold",
		"550 5.7.708 Access denied, traffic not accepted from this IP",
		"550 5.7.750 Client blocked from sending from unregistered domain",
		"550 5.1.8 Access denied, bad outbound sender",
		"http://" + res.Admin + "/ndr/5.7.705",
		"All four scenarios ended as expected.",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q", line)
		}
	}
	if strings.Contains(out.String(), "NOT AS EXPECTED") {
		t.Error("output flags a step as not as expected")
	}
	// The temporary data directory is gone without --keep.
	if _, err := os.Stat(res.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data directory %s left behind: %v", res.DataDir, err)
	}
}

// checkDemoLinks follows the table's links while the gateway runs: each
// help page answers, and each tenant's status agrees with the replies.
func checkDemoLinks(t *testing.T, admin, tokenFile, out string) {
	t.Helper()
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	get := func(url string, auth bool) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth {
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, code := range []string{"5.7.705", "5.7.708", "5.7.750", "5.1.8"} {
		url := "http://" + admin + "/ndr/" + code
		if !strings.Contains(out, url) {
			t.Errorf("table has no link %s", url)
		}
		if st, body := get(url, false); st != 200 || !strings.Contains(body, code) {
			t.Errorf("GET %s: %d %.200s", url, st, body)
		}
	}
	// The trace of an accepted message, by the Message-ID the table links.
	traceURL := ""
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "http://"+admin+"/api/v1/trace?message_id=demo-") {
			traceURL = f
			break
		}
	}
	if traceURL == "" {
		t.Error("the table links no message trace")
	} else if st, body := get(traceURL, true); st != 200 || !strings.Contains(body, "demo-1@tollgate.demo") {
		t.Errorf("GET %s: %d %.300s", traceURL, st, body)
	}
	status := func(tenant string) (s struct {
		State        string `json:"state"`
		Restrictions []struct {
			Subject string `json:"subject"`
		} `json:"restrictions"`
	}) {
		t.Helper()
		// The status link printed under the table.
		var url string
		for _, line := range strings.Split(out, "\n") {
			if i := strings.Index(line, "http://"+admin+"/api/v1/tenants/"); i >= 0 && strings.Contains(line, "  "+tenant+" ") {
				url = strings.Fields(line[i:])[0]
				break
			}
		}
		if url == "" {
			t.Fatalf("no status link for %s in the table", tenant)
		}
		st, body := get(url, true)
		if st != 200 {
			t.Fatalf("GET %s: %d %s", url, st, body)
		}
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, body)
		}
		return s
	}
	if s := status("acme"); s.State != "blocked" {
		t.Errorf("acme: state %q, want blocked", s.State)
	}
	if s := status("bluebird"); s.State != "sending" {
		t.Errorf("bluebird: state %q, want sending", s.State)
	}
	s := status("initech")
	if s.State != "sending" || len(s.Restrictions) != 1 || s.Restrictions[0].Subject != "peter@initech.example" {
		t.Errorf("initech: want sending with peter restricted, got %+v", s)
	}
}

// stepsOf is the scenario's steps by one sender, in order.
func stepsOf(res *demoResult, scenario int, sender string) []demoStep {
	var out []demoStep
	for _, s := range res.Steps {
		if s.Scenario == scenario && s.Sender == sender {
			out = append(out, s)
		}
	}
	return out
}

func wantCodes(t *testing.T, res *demoResult, scenario int, sender string, want ...string) {
	t.Helper()
	var got []string
	for _, s := range stepsOf(res, scenario, sender) {
		if s.Err != nil {
			got = append(got, "error: "+s.Err.Error())
			continue
		}
		got = append(got, s.Enhanced)
	}
	if !slices.Equal(got, want) {
		t.Errorf("scenario %d, %s: replies %q, want %q", scenario, sender, got, want)
	}
}

// TestDemoStepProblems: a step that did not end as the story says, or a
// verdict the classifier disagrees on, is a problem (and so exit 1).
func TestDemoStepProblems(t *testing.T) {
	ok := demoStep{Want: "2.0.0", WantVerdict: "spam", Code: 250, Enhanced: "2.0.0", Verdict: "spam"}
	refused := demoStep{Want: "2.0.0", Code: 550, Enhanced: "5.7.705", Text: "Access denied, tenant has exceeded threshold"}
	disagrees := demoStep{Want: "2.0.0", WantVerdict: "spam", Code: 250, Enhanced: "2.0.0", Verdict: "clean", Score: "-1.00"}
	broken := demoStep{Want: "5.7.708", Err: errors.New("connect from 127.0.0.21: refused")}
	operator := demoStep{Sender: "operator"}
	notClassified := demoStep{Want: "5.1.8", WantVerdict: "spam", Code: 550, Enhanced: "5.1.8"}
	for _, c := range []struct {
		s    demoStep
		want string
	}{
		{ok, ""}, {operator, ""}, {notClassified, ""},
		{refused, "got 550 5.7.705 Access denied, tenant has exceeded threshold, want 2.0.0"},
		{disagrees, "the classifier disagrees: it says clean (score -1.00) for a text written as spam"},
		{broken, "connect from 127.0.0.21: refused"},
	} {
		if got := c.s.Problem(); got != c.want {
			t.Errorf("Problem(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
	r := &demoResult{Steps: []demoStep{ok, refused, operator, disagrees}}
	if p := r.Problems(); len(p) != 2 || !strings.HasPrefix(p[0], "scenario 0, step 2") {
		t.Errorf("Problems = %q", p)
	}
}

// TestDemoFlags: --help is not an error, and stray arguments are refused
// before anything starts.
func TestDemoFlags(t *testing.T) {
	if err := runDemo([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	if err := runDemo([]string{"now"}); err == nil || !strings.Contains(err.Error(), `unexpected argument "now"`) {
		t.Errorf("stray argument: %v", err)
	}
}

// TestDemoDataDirInUse: the demo creates its tenants from scratch, so a
// data directory that already has them is refused with a clear error
// rather than mixed into the story.
func TestDemoDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/tollgate.db", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := playDemo(context.Background(), demoOptions{DataDir: dir}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Fatalf("demo in a used data directory: %v", err)
	}
}
