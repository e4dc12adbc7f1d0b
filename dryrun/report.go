package dryrun

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/policy"
)

// Report is a dry run's answer.
type Report struct {
	Since        time.Time       `json:"since"`
	Until        time.Time       `json:"until"`
	TenantID     int64           `json:"tenant_id,omitempty"`
	Change       json.RawMessage `json:"settings"`
	Events       int             `json:"events"`
	Transactions int             `json:"transactions"`
	// Truncated: the trace held more events than the run reads; the
	// report covers the oldest ones.
	Truncated bool            `json:"truncated"`
	Tenants   []*TenantReport `json:"tenants"`
	Limits    []string        `json:"limits"`
	Took      string          `json:"took"`
}

// TenantReport is one tenant: what happened and what would have.
type TenantReport struct {
	TenantID     int64  `json:"tenant_id"`
	Tenant       string `json:"tenant"`
	Transactions int    `json:"transactions"`
	Actual       Side   `json:"actual"`
	DryRun       Side   `json:"dry_run"`
	// Unjudged are transactions the gateway refused before DATA (so the
	// trace has no verdict) that the dry run let through to DATA: they are
	// counted accepted without a content check.
	Unjudged int `json:"unjudged"`
	// Outcome sums it up: "unchanged", "would be stopped", "would not be
	// stopped", "stopped earlier", "stopped later".
	Outcome string `json:"outcome"`
}

// Side is one account of a tenant's transactions.
type Side struct {
	Accepted int            `json:"accepted"`
	Refused  int            `json:"refused"`
	Refusals map[string]int `json:"refusals"` // by enhanced code ("" when the trace gave none)
	// Stopped is the first refusal that stopped the tenant or one of its
	// senders (5.7.705, 5.7.711, 5.1.8); nil for none.
	Stopped *Stop `json:"stopped,omitempty"`
}

// Stop is the message at which a tenant or sender was stopped.
type Stop struct {
	At time.Time `json:"at"`
	// Message is the tenant's transaction number in the run, from 1.
	Message   int    `json:"message"`
	MessageID string `json:"message_id,omitempty"`
	Sender    string `json:"sender,omitempty"`
	Stage     string `json:"stage"`
	Code      string `json:"code"`
	Rule      string `json:"rule,omitempty"`
	Text      string `json:"text,omitempty"`
	// Figures are the decision's; Signals the block's evidence beyond the
	// verdicts (the dry run's stops only).
	Figures []policy.Figure `json:"figures,omitempty"`
	Signals []blocks.Signal `json:"signals,omitempty"`
}

func (s *Side) note(a answer, t transaction, n int, b *blocks.Block) {
	if !a.refused {
		s.Accepted++
		return
	}
	s.Refused++
	s.Refusals[a.code]++
	if s.Stopped != nil || !a.stops() {
		return
	}
	s.Stopped = &Stop{At: t.at.UTC(), Message: n, MessageID: t.msg.MessageID, Sender: t.env.Sender(), Stage: a.stage,
		Code: a.code, Rule: a.rule, Text: a.text, Figures: a.figures}
	if b != nil {
		s.Stopped.Signals = b.Evidence.Signals
	}
}

// limits are what a replay cannot reproduce, said in every report.
var limits = []string{
	"messages the gateway refused before DATA have no recorded verdict: where the dry run would let them through, they count as accepted without a content check (unjudged)",
	"the run starts with no blocks, restrictions or counts: windows and baselines build up from the first message of the span, so give the span a day or a week before the period in question",
	"operators' actions during the span (blocks, unblocks, releases, policy changes) are not replayed: a dry-run stop lasts to the end of the span, and a tenant an operator blocked shows as refused by the block in the actual column only",
	"delivery feedback and complaints are not replayed (the counts kept are today's, not the span's): decisions rest on the other evidence",
	"only the protection checks run (tenant, restrictions, sender domains, sender binding, unregistered domains, sending limits, verdicts); attribution, connector probation and IP reputation are as recorded",
	"header fields are judged as the trace keeps them (the first 320 bytes); traces written before this version lack the list, bulk and fingerprint fields",
}

func newReport(req Request, change policy.Overrides) *Report {
	raw, _ := json.Marshal(change)
	return &Report{Since: req.Since.UTC(), Until: req.Until.UTC(), TenantID: req.TenantID, Change: raw, Limits: limits, Tenants: []*TenantReport{}}
}

// finish sums up each tenant and orders them: those the change affects
// first, then by name.
func (r *Report) finish(took time.Duration) {
	for _, t := range r.Tenants {
		t.Outcome = outcome(t.Actual.Stopped, t.DryRun.Stopped)
	}
	rank := func(t *TenantReport) int {
		if t.Outcome == "unchanged" {
			return 1
		}
		return 0
	}
	sort.SliceStable(r.Tenants, func(i, j int) bool {
		a, b := r.Tenants[i], r.Tenants[j]
		if rank(a) != rank(b) {
			return rank(a) < rank(b)
		}
		return a.Tenant < b.Tenant
	})
	r.Took = took.Round(time.Millisecond).String()
}

func outcome(actual, dry *Stop) string {
	switch {
	case actual == nil && dry == nil:
		return "unchanged"
	case actual == nil:
		return "would be stopped"
	case dry == nil:
		return "would not be stopped"
	case dry.Message < actual.Message:
		return "stopped earlier"
	case dry.Message > actual.Message:
		return "stopped later"
	}
	return "unchanged"
}

// Print writes the report as a table, then each dry-run stop's evidence.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "Dry run of %s over %s to %s: %d transactions (%d trace events)%s\n\n", r.Change,
		r.Since.Format(time.RFC3339), r.Until.Format(time.RFC3339), r.Transactions, r.Events,
		map[bool]string{true: ", TRUNCATED: the trace held more", false: ""}[r.Truncated])
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tMESSAGES\tACTUAL\tDRY RUN\tOUTCOME\tREFUSED (ACTUAL → DRY RUN)\tUNJUDGED")
	for _, t := range r.Tenants {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d → %d\t%d\n", t.Tenant, t.Transactions, stopText(t.Actual.Stopped),
			stopText(t.DryRun.Stopped), t.Outcome, t.Actual.Refused, t.DryRun.Refused, t.Unjudged)
	}
	tw.Flush()
	for _, t := range r.Tenants {
		s := t.DryRun.Stopped
		if s == nil || t.Outcome == "unchanged" {
			continue
		}
		fmt.Fprintf(w, "\n%s would be stopped at message %d (%s, %s), %s %s: %s\n", t.Tenant, s.Message, s.At.Format(time.RFC3339),
			orDash(s.MessageID), s.Code, s.Rule, s.Text)
		for _, sg := range s.Signals {
			var fs []string
			for _, f := range sg.Figures {
				fs = append(fs, f.Name+" "+f.Value)
			}
			mark := "–"
			if sg.Met {
				mark = "✓"
			}
			fmt.Fprintf(w, "  %s %-18s %s\n", mark, sg.Name, strings.Join(fs, ", "))
		}
	}
	fmt.Fprintln(w, "\nWhat a dry run cannot reproduce:")
	for _, l := range r.Limits {
		fmt.Fprintln(w, "  - "+l)
	}
}

func stopText(s *Stop) string {
	if s == nil {
		return "not stopped"
	}
	return fmt.Sprintf("%s at #%d %s", s.Code, s.Message, s.At.Format("01-02 15:04"))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
