package simulate

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// Result is what a run did, per tenant.
type Result struct {
	Scenario Scenario
	Tenants  []TenantResult
	Wall     time.Duration // real time the traffic took
	// Delivered is how many messages the next hop had received when the
	// traffic ended (delivery runs on behind it).
	Delivered int
}

// TenantResult is one tenant's side of a run. Times are virtual offsets
// from the start.
type TenantResult struct {
	Name string
	Kind Kind
	// Legitimate mail: sent, accepted, refused (by any code).
	Legit, LegitAccepted int
	// Spam: sent, accepted before the tenant was first stopped, and
	// accepted after (before its unblock: a stop that does not hold).
	Spam, SpamBeforeStop, SpamAfterStop int
	// Refused counts refusals by enhanced code; Errors are failures that
	// were not SMTP answers.
	Refused map[string]int
	Errors  int
	// StoppedAt is the first stop (5.7.705, 5.7.711 or 5.1.8), -1 if none;
	// StopCode and StopRule its code and text, Evidence the block's or
	// restriction's figures then.
	StoppedAt time.Duration
	StopCode  string
	StopRule  string
	Evidence  []policy.Figure
	// UnblockedAt is when an operator approved the unblock (0 if never);
	// AfterUnblock and AfterUnblockAccepted count the legitimate mail sent
	// from then on.
	UnblockedAt                        time.Duration
	AfterUnblock, AfterUnblockAccepted int
	Problems                           []string

	fixAt time.Duration
	fixed bool
}

func (tr *TenantResult) record(ev event, out outcome) {
	switch {
	case out.err != nil:
		tr.Errors++
	case !out.accepted:
		tr.Refused[out.enhanced]++
	}
	if ev.spam {
		tr.Spam++
		if out.accepted {
			if tr.StoppedAt < 0 {
				tr.SpamBeforeStop++
			} else if !tr.fixed {
				tr.SpamAfterStop++
			}
		}
		return
	}
	tr.Legit++
	if out.accepted {
		tr.LegitAccepted++
	}
	if tr.fixed {
		tr.AfterUnblock++
		if out.accepted {
			tr.AfterUnblockAccepted++
		}
	}
}

// LegitRefusedShare is the share of the tenant's legitimate mail refused.
func (tr TenantResult) LegitRefusedShare() float64 {
	if tr.Legit == 0 {
		return 0
	}
	return float64(tr.Legit-tr.LegitAccepted) / float64(tr.Legit)
}

// Criteria are what a run must show (the efficacy issue's bar).
type Criteria struct {
	MaxLegitRefused   float64 // share of a legitimate tenant's mail, e.g. 0.005
	MaxSpamBeforeStop int     // spam a compromised tenant gets through, e.g. 20
	// MinAfterUnblock is the share of a released tenant's legitimate mail
	// that must be accepted after its unblock.
	MinAfterUnblock float64
}

// DefaultCriteria: no legitimate tenant stopped, at most 0.5 % of its mail
// refused; a compromised tenant stopped after at most 20 spam, held until
// its unblock, and sending again after it.
var DefaultCriteria = Criteria{MaxLegitRefused: 0.005, MaxSpamBeforeStop: 20, MinAfterUnblock: 0.99}

// Check lists every way the run falls short of c; none means it passed.
func (r *Result) Check(c Criteria) []string {
	var out []string
	for _, tr := range r.Tenants {
		bad := func(format string, a ...any) { out = append(out, tr.Name+": "+fmt.Sprintf(format, a...)) }
		for _, p := range tr.Problems {
			bad("%s", p)
		}
		if tr.Errors > 0 {
			bad("%d messages failed without an SMTP answer", tr.Errors)
		}
		if tr.Kind != Compromised {
			if tr.StoppedAt >= 0 {
				bad("a legitimate tenant was stopped at %v with %s (%s)", tr.StoppedAt.Round(time.Second), tr.StopCode, tr.StopRule)
			}
			if s := tr.LegitRefusedShare(); s > c.MaxLegitRefused {
				bad("%.2f%% of its legitimate mail was refused (at most %.2f%%): %s", 100*s, 100*c.MaxLegitRefused, codes(tr.Refused))
			}
			continue
		}
		if tr.Spam == 0 {
			continue
		}
		if tr.StoppedAt < 0 {
			bad("never stopped: %d spam accepted of %d", tr.SpamBeforeStop, tr.Spam)
			continue
		}
		if tr.SpamBeforeStop > c.MaxSpamBeforeStop {
			bad("stopped only after %d spam accepted (at most %d)", tr.SpamBeforeStop, c.MaxSpamBeforeStop)
		}
		if tr.SpamAfterStop > 0 {
			bad("the stop did not hold: %d spam accepted after it", tr.SpamAfterStop)
		}
		if tr.AfterUnblock > 0 && float64(tr.AfterUnblockAccepted) < c.MinAfterUnblock*float64(tr.AfterUnblock) {
			bad("after its unblock only %d of %d legitimate messages were accepted", tr.AfterUnblockAccepted, tr.AfterUnblock)
		}
	}
	return out
}

func codes(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// Print writes the per-tenant table and, for each stopped tenant, the
// evidence its stop rested on.
func (r *Result) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tKIND\tLEGIT\tREFUSED\tSPAM\tSPAM ACCEPTED\tSTOPPED\tCODE\tAFTER UNBLOCK\tREFUSALS")
	for _, tr := range r.Tenants {
		stopped, after := "-", "-"
		if tr.StoppedAt >= 0 {
			stopped = "at " + tr.StoppedAt.Round(time.Second).String()
		}
		if tr.UnblockedAt > 0 {
			after = fmt.Sprintf("%d/%d", tr.AfterUnblockAccepted, tr.AfterUnblock)
		}
		spamAcc := "-"
		if tr.Spam > 0 {
			spamAcc = fmt.Sprintf("%d before stop, %d after", tr.SpamBeforeStop, tr.SpamAfterStop)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f%%\t%d\t%s\t%s\t%s\t%s\t%s\n", tr.Name, tr.Kind, tr.Legit, 100*tr.LegitRefusedShare(),
			tr.Spam, spamAcc, stopped, orDash(tr.StopCode), after, orDash(codes(tr.Refused)))
	}
	tw.Flush()
	for _, tr := range r.Tenants {
		if tr.StoppedAt < 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s stopped at %v: %s %s\n", tr.Name, tr.StoppedAt.Round(time.Second), tr.StopCode, tr.StopRule)
		for _, f := range tr.Evidence {
			fmt.Fprintf(w, "  %s = %s\n", f.Name, f.Value)
		}
	}
	n := 0
	for _, tr := range r.Tenants {
		n += tr.Legit + tr.Spam
	}
	fmt.Fprintf(w, "\n%d messages over %v of virtual time in %v\n", n, r.Scenario.Duration, r.Wall.Round(time.Millisecond))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
