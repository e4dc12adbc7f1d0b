package classify

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Rspamd classifies with an rspamd server over its HTTP protocol (POST
// /checkv2 with the raw message, a JSON answer). It is safe for concurrent
// use. Wrap it in Fallback so an rspamd outage falls back to the built-in
// engine instead of leaving mail unclassified.
type Rspamd struct {
	// URL is the normal worker's base URL, e.g. http://127.0.0.1:11333.
	URL string
	// Password is sent in the Password header when set (rspamd asks for it
	// only on its controller, but a proxy in front may).
	Password string
	// Timeout bounds each request (default 2 s): the SMTP client is waiting.
	Timeout time.Duration
	// Client is the HTTP client (default: a client with no timeout of its
	// own; Timeout applies).
	Client *http.Client
	// BulkThreshold is the bulk level from which a message rspamd does not
	// call spam gets the bulk verdict (default 5); the bulk level is
	// computed from the headers as the built-in engine does.
	BulkThreshold int
	// Caps bound the header parsing for the bulk level (default DefaultCaps).
	Caps Caps
}

// rspamdReply is the part of rspamd's /checkv2 answer the gateway uses.
type rspamdReply struct {
	IsSkipped     bool    `json:"is_skipped"`
	Score         float64 `json:"score"`
	RequiredScore float64 `json:"required_score"`
	Action        string  `json:"action"`
	Symbols       map[string]struct {
		Name  string  `json:"name"`
		Score float64 `json:"score"`
	} `json:"symbols"`
}

// maxReplyBytes bounds rspamd's answer: a few hundred symbols at most.
const maxReplyBytes = 4 << 20

// Classify asks rspamd. Errors (connection refused, timeout, a non-200
// status, a skipped message, an unreadable answer) are returned wrapped
// with the URL, for Fallback to log.
func (r *Rspamd) Classify(ctx context.Context, in Input) (Result, error) {
	if len(in.Raw) == 0 {
		return Result{}, errors.New("rspamd: empty message")
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(r.Timeout, 2*time.Second))
	defer cancel()
	url := strings.TrimRight(r.URL, "/") + "/checkv2"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(in.Raw))
	if err != nil {
		return Result{}, fmt.Errorf("rspamd %s: %w", url, err)
	}
	if r.Password != "" {
		req.Header.Set("Password", r.Password)
	}
	// Every message Tollgate relays comes from an authenticated tenant
	// (SMTP AUTH or a connector): say so, as an outbound MTA does, so
	// rspamd applies its rules for authenticated senders. Without it
	// rspamd judges the mail as inbound from an unknown host, and its
	// hostname filter (HFILTER_HOSTNAME_UNKNOWN, +2.5) fires on every
	// message, ordinary mail included.
	req.Header.Set("User", cmp.Or(in.Tenant, "tollgate"))
	// No Rcpt headers: the envelope addresses are not in Input, and
	// stand-ins would trip rspamd's FORGED_RECIPIENTS; it reads To and Cc.
	// The recipient count feeds the bulk level, computed here.
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("rspamd %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		return Result{}, fmt.Errorf("rspamd %s: reading answer: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Result{}, fmt.Errorf("rspamd %s: %s: %s", url, resp.Status, bytes.TrimSpace(body[:min(len(body), 200)]))
	}
	var rep rspamdReply
	if err := json.Unmarshal(body, &rep); err != nil {
		return Result{}, fmt.Errorf("rspamd %s: decoding answer: %w", url, err)
	}
	if rep.IsSkipped {
		return Result{}, fmt.Errorf("rspamd %s: message skipped (too big, or a settings rule)", url)
	}
	switch rep.Action {
	case "no action", "greylist", "add header", "rewrite subject", "soft reject", "reject":
	default:
		// {} or null from a proxy or a wrong path would otherwise read as
		// "clean": an answer without a known action is no answer.
		return Result{}, fmt.Errorf("rspamd %s: answer has no known action (%q): is rspamd_url rspamd's normal worker?", url, rep.Action)
	}
	return r.result(in, rep), nil
}

// result maps rspamd's action to a verdict: reject, rewrite subject and add
// header are spam; no action, greylist and soft reject (rate limits,
// greylisting, which say nothing about content) are clean or bulk.
func (r *Rspamd) result(in Input, rep rspamdReply) Result {
	res := Result{Score: rep.Score, Engine: "rspamd", Verdict: Clean}
	switch rep.Action {
	case "reject", "rewrite subject", "add header":
		res.Verdict = Spam
	}
	for name, s := range rep.Symbols {
		if s.Score != 0 {
			res.Reasons = append(res.Reasons, Reason{Name: name, Weight: s.Score})
		}
	}
	slices.SortFunc(res.Reasons, func(a, b Reason) int {
		return cmp.Or(cmp.Compare(math.Abs(b.Weight), math.Abs(a.Weight)), strings.Compare(a.Name, b.Name))
	})
	if len(res.Reasons) > maxReasons {
		res.Reasons = res.Reasons[:maxReasons]
	}
	var d document
	d.reset()
	d.parse(in.Raw, r.Caps.withDefaults())
	d.extract(discard{}, nil)
	bulk, bulkReasons := bulkLevel(d.header, in.Recipients, &d, false)
	res.Bulk = bulk
	res.Reasons = append(res.Reasons, bulkReasons...)
	if bands := d.fp.bands(); bands != nil {
		res.Fingerprint = joinBands(bands)
	}
	res.IsBulk = bulk >= cmp.Or(r.BulkThreshold, 5)
	return res
}

// discard is a featureSink that keeps nothing (the bulk level needs the
// parse, not the features).
type discard struct{}

func (discard) feature(byte, []byte) {}
