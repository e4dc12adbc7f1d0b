package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// dupWindow is how long after delivering a message a node's kill -9 may
// make it deliver that message again: the window between the next hop's
// 250 and the node's own record of it, which every MTA has (RFC 5321
// section 6.1 prefers a duplicate to a loss). A duplicate outside it is a
// bug.
const dupWindow = 5 * time.Second

// blockRefresh is how soon every node applies a block or restriction made
// on one (docs/scaling.md, the block snapshot refresh).
const blockRefresh = 2 * time.Second

// report is what one soak found.
type report struct {
	accepted, recipients int
	byKind               map[string]int
	deliveries, dsns     int
	lost                 []string
	dupsKill, dupsBad    []string
	unexpectedDSN        []string
	limitedMax           int
	limitedAccepted      int
	spamAccepted         int // external recipients of the compromised tenant that got 250
	spamDelivered        int
	spamRestrictedAt     time.Duration
	spamReplies          map[string]int
	p99                  []time.Duration // per minute
	perMinute            []int
	faults               []*fault
	faultReplies         []map[string]int
	faultLasted          []time.Duration
	faultLongest         []time.Duration
	memory               map[string][]sample
	memoryFindings       []string
	drained              bool
	failures             []string
	duration             time.Duration
}

func (r *report) fail(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// check compares what the senders were told with what the sink saw.
func check(led *ledger, sk *sink, fl *fleet, faults []*fault, mem map[string][]sample, drained bool) *report {
	r := &report{byKind: map[string]int{}, faults: faults, memory: mem, drained: drained, spamReplies: map[string]int{}, spamRestrictedAt: -1}
	arr, dsns := sk.snapshot()
	for _, v := range arr {
		r.deliveries += len(v)
	}
	for _, v := range dsns {
		r.dsns += v
	}
	killed := map[string][]time.Time{}
	sources := map[string]string{}
	for _, n := range fl.nodes {
		killed[n.name] = n.killedAt
		sources[n.source] = n.name
	}
	tokens := map[string]bool{}
	var limitedAt []time.Time
	for _, a := range led.acc {
		r.accepted++
		r.recipients += len(a.rcpts)
		r.byKind[a.tenant.kind]++
		tokens[a.token] = true
		wantDSN := false
		for _, rc := range a.rcpts {
			got := arr[a.token+" "+strings.ToLower(rc)]
			if strings.HasPrefix(rc, rejectPrefix) {
				wantDSN = true
				if len(got) > 0 {
					r.fail("recipient %s of %s was refused by the sink yet arrived", rc, a.token)
				}
				continue
			}
			if a.tenant.kind == kindSpam {
				r.spamAccepted++
				r.spamDelivered += len(got)
				if len(got) == 0 && dsns[a.token] > 0 {
					continue // held by the tenant's block and bounced: an outcome
				}
			}
			switch {
			case len(got) == 0:
				r.lost = append(r.lost, a.token+" "+rc)
			case len(got) > 1:
				id := fmt.Sprintf("%s %s (%d times, first from %s)", a.token, rc, len(got), sources[got[0].node])
				if killedWithin(killed[sources[got[0].node]], got[0].at, dupWindow) {
					r.dupsKill = append(r.dupsKill, id)
				} else {
					r.dupsBad = append(r.dupsBad, id)
				}
			}
		}
		if wantDSN && dsns[a.token] == 0 && a.tenant.kind != kindSpam {
			r.lost = append(r.lost, a.token+" (its DSN for the refused recipient)")
		}
		if !wantDSN && dsns[a.token] > 0 && a.tenant.kind != kindSpam {
			r.unexpectedDSN = append(r.unexpectedDSN, a.token)
		}
		if a.tenant.kind == kindLimited {
			limitedAt = append(limitedAt, a.mailAt)
		}
	}
	for tok := range dsns {
		if !tokens[tok] {
			r.unexpectedDSN = append(r.unexpectedDSN, tok+" (a bounce for a message that never got 250)")
		}
	}
	if len(r.lost) > 0 {
		r.fail("%d recipient(s) of messages that got 250 never arrived (e.g. %s)", len(r.lost), first(r.lost))
	}
	if len(r.dupsBad) > 0 {
		r.fail("%d duplicate deliveries not explained by a kill -9 within %s (e.g. %s)", len(r.dupsBad), dupWindow, first(r.dupsBad))
	}
	if len(r.unexpectedDSN) > 0 {
		r.fail("%d bounce(s) that should not exist (e.g. %s)", len(r.unexpectedDSN), first(r.unexpectedDSN))
	}
	for _, n := range fl.nodes {
		for _, at := range n.crashes() {
			r.fail("%s exited on its own at %s after the load started (see its log)", n.name, at.Sub(led.start).Round(time.Second))
		}
	}
	if !drained {
		r.fail("the queues did not drain in time")
	}

	// One limit for the fleet: within any window shorter than the minute by
	// the counters' one bucket (1 s), no more than the limit; counted at
	// MAIL by the sender's clock.
	sort.Slice(limitedAt, func(i, j int) bool { return limitedAt[i].Before(limitedAt[j]) })
	r.limitedAccepted = len(limitedAt)
	win := time.Minute - time.Minute/60 - 500*time.Millisecond
	lo := 0
	for hi := range limitedAt {
		for limitedAt[hi].Sub(limitedAt[lo]) >= win {
			lo++
		}
		r.limitedMax = max(r.limitedMax, hi-lo+1)
	}
	if int64(r.limitedMax) > soakLimits.limitedPerMinute {
		r.fail("the limited tenant got %d messages accepted within %s, over its limit of %d a minute (one bucket allowed for)",
			r.limitedMax, win, soakLimits.limitedPerMinute)
	}
	// The compromised tenant's stop: its connector is restricted at the
	// spam verdict that reaches user_spam_per_hour, on every node (the
	// restriction is in PostgreSQL and the count in Redis), so no more
	// than that many of its messages get 250 — through every fault.
	if n := r.byKind[kindSpam]; int64(n) > soakLimits.spamPerHour {
		r.fail("the compromised tenant got %d messages accepted; its stop (user_spam_per_hour) allows %d", n, soakLimits.spamPerHour)
	}
	// The restriction made on the node that saw the crossing verdict holds
	// on every node within the block refresh (2 s): no message of the
	// compromised tenant gets 250 later than that after the first refusal.
	firstRefusal := -1
	for sec, byS := range led.replies {
		if byS[kindSpam+"|550 5.7.711"] > 0 && (firstRefusal < 0 || sec < firstRefusal) {
			firstRefusal = sec
		}
	}
	if firstRefusal >= 0 {
		r.spamRestrictedAt = time.Duration(firstRefusal) * time.Second
		limit := led.start.Add(r.spamRestrictedAt + time.Second + blockRefresh)
		for _, a := range led.acc {
			if a.tenant.kind == kindSpam && a.mailAt.After(limit) {
				r.fail("a message of the compromised tenant got 250 on %s at %s, over %s after its credential was first refused (at %s)",
					fl.nodes[a.node].name, a.mailAt.Sub(led.start).Round(time.Second), blockRefresh, r.spamRestrictedAt)
			}
		}
	}
	bucket := int(math.Ceil(float64(soakLimits.spamExternal) / 60))
	if r.spamAccepted > int(soakLimits.spamExternal)+bucket {
		r.fail("the compromised tenant got %d external recipients accepted; its stop allows %d (+%d, one bucket)",
			r.spamAccepted, soakLimits.spamExternal, bucket)
	}

	// p99 of the 250 per minute, and the messages accepted each minute.
	var byMin [][]time.Duration
	for _, a := range led.acc {
		m := int(a.at.Sub(led.start) / time.Minute)
		for len(byMin) <= m {
			byMin = append(byMin, nil)
		}
		byMin[m] = append(byMin[m], a.lat)
	}
	for _, l := range byMin {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		r.perMinute = append(r.perMinute, len(l))
		if len(l) == 0 {
			r.p99 = append(r.p99, 0)
			continue
		}
		r.p99 = append(r.p99, l[(len(l)-1)*99/100])
	}

	// What each fault did to the ordinary senders: their replies other than
	// 250 from the fault's start to 15 s after its end, and how long after
	// the start the last of them came.
	for i, f := range faults {
		m := map[string]int{}
		var lasted, longest time.Duration
		if !f.start.IsZero() {
			s0 := int(f.start.Sub(led.start) / time.Second)
			until := f.end.Add(15 * time.Second)
			if i+1 < len(faults) && !faults[i+1].start.IsZero() && faults[i+1].start.Before(until) {
				until = faults[i+1].start // the next fault's replies are its own
			}
			s1 := int(until.Sub(led.start)/time.Second) - 1
			for s := s0; s <= s1; s++ {
				longest = max(longest, led.longest[s])
				for k, v := range led.replies[s] {
					kind, class, _ := strings.Cut(k, "|")
					if class == "250" || kind == kindLimited || kind == kindSpam {
						continue
					}
					m[class] += v
					lasted = max(lasted, led.start.Add(time.Duration(s+1)*time.Second).Sub(f.start))
				}
			}
		}
		r.faultReplies = append(r.faultReplies, m)
		r.faultLasted = append(r.faultLasted, lasted)
		r.faultLongest = append(r.faultLongest, longest)
	}
	for _, byS := range led.replies {
		for k, v := range byS {
			if kind, class, _ := strings.Cut(k, "|"); kind == kindSpam {
				r.spamReplies[class] += v
			}
		}
	}
	for name, s := range mem {
		if f := growth(s, 30*time.Second); f != "" {
			r.memoryFindings = append(r.memoryFindings, name+": "+f)
			r.fail("%s: %s", name, f)
		}
	}
	if len(led.acc) > 0 {
		r.duration = led.acc[len(led.acc)-1].at.Sub(led.start)
	}
	return r
}

func killedWithin(kills []time.Time, at time.Time, d time.Duration) bool {
	for _, k := range kills {
		if !k.Before(at) && k.Sub(at) <= d {
			return true
		}
	}
	return false
}

func first(l []string) string {
	if len(l) > 3 {
		return strings.Join(l[:3], "; ") + "; ..."
	}
	return strings.Join(l, "; ")
}

func (r *report) print(w io.Writer, o options, privatePG bool) {
	fmt.Fprintf(w, "\n== soak report (%s of load, %d nodes) ==\n", o.duration, fleetSize)
	fmt.Fprintf(w, "messages accepted (250): %d (%d recipients): %s\n", r.accepted, r.recipients, kinds(r.byKind))
	fmt.Fprintf(w, "deliveries at the sink: %d; DSNs: %d\n", r.deliveries, r.dsns)
	fmt.Fprintf(w, "lost: %d; duplicates: %d within %s of a kill -9 of the delivering node, %d otherwise; unexpected bounces: %d\n",
		len(r.lost), len(r.dupsKill), dupWindow, len(r.dupsBad), len(r.unexpectedDSN))
	fmt.Fprintf(w, "limited tenant: %d accepted, at most %d in any %s (limit %d/min)\n",
		r.limitedAccepted, r.limitedMax, time.Minute-time.Minute/60-500*time.Millisecond, soakLimits.limitedPerMinute)
	fmt.Fprintf(w, "compromised tenant: %d messages, %d external recipients accepted (stops: %d spam verdicts an hour, %d external recipients a day), %d delivered; its replies: %s\n",
		r.byKind[kindSpam], r.spamAccepted, soakLimits.spamPerHour, soakLimits.spamExternal, r.spamDelivered, classes(r.spamReplies))
	if r.spamRestrictedAt >= 0 {
		fmt.Fprintf(w, "compromised tenant first refused (5.7.711) %s into the load; a 250 on any node later than %s after that fails\n", r.spamRestrictedAt, blockRefresh)
	}
	fmt.Fprintf(w, "per minute: messages / p99 of the 250 after DATA:\n")
	for i := range r.p99 {
		fmt.Fprintf(w, "  minute %d: %d / %s\n", i+1, r.perMinute[i], r.p99[i].Round(time.Millisecond))
	}
	fmt.Fprintf(w, "faults (replies to ordinary senders other than 250, from the fault to 15 s after it or the next fault; when the last came; the longest wait for a reply):\n")
	for i, f := range r.faults {
		switch {
		case f.start.IsZero():
			fmt.Fprintf(w, "  %-20s %-6s not reached\n", f.kind, f.target)
		case f.skippedWhy != "":
			fmt.Fprintf(w, "  %-20s %-6s skipped: %s\n", f.kind, f.target, f.skippedWhy)
		default:
			errs := ""
			if f.err != nil {
				errs = " ERROR: " + f.err.Error()
			}
			fmt.Fprintf(w, "  %-20s %-6s at %4.0fs, out %5.1fs: %s; last after %s; longest wait %s%s\n", f.kind, f.target, f.at.Seconds(),
				f.end.Sub(f.start).Seconds(), classes(r.faultReplies[i]), r.faultLasted[i].Round(time.Second), r.faultLongest[i].Round(100*time.Millisecond), errs)
		}
	}
	fmt.Fprintf(w, "memory (sampled every 10 s): node: samples, max RSS, max heap in use, max goroutines, last goroutines\n")
	names := make([]string, 0, len(r.memory))
	for n := range r.memory {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := r.memory[n]
		var rss, heap, g float64
		for _, x := range s {
			rss, heap, g = max(rss, x.rss), max(heap, x.heap), max(g, x.goroutines)
		}
		last := 0.0
		if len(s) > 0 {
			last = s[len(s)-1].goroutines
		}
		fmt.Fprintf(w, "  %s: %d, %s, %s, %.0f, %.0f\n", n, len(s), mib(rss), mib(heap), g, last)
	}
	if !privatePG {
		fmt.Fprintln(w, "note: no private PostgreSQL cluster; the PostgreSQL restart fault did not run")
	}
	for _, f := range r.failures {
		fmt.Fprintln(w, "FAILED:", f)
	}
}

func kinds(m map[string]int) string {
	var l []string
	for k, v := range m {
		l = append(l, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(l)
	return strings.Join(l, ", ")
}

func classes(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	type kv struct {
		k string
		v int
	}
	var l []kv
	for k, v := range m {
		l = append(l, kv{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v || l[i].v == l[j].v && l[i].k < l[j].k })
	var s []string
	for _, x := range l {
		s = append(s, fmt.Sprintf("%s ×%d", x.k, x.v))
	}
	return strings.Join(s, ", ")
}
