package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tollgate-mail/tollgate/client"
)

// The message trace: search it (`admin trace --sender ...`) and read one
// message's life event by event (`admin trace ID`), the answer to "why
// was this refused?".
func init() {
	adminCommands = append(adminCommands,
		adminCommand{"trace", "[ID]", "search the message trace by sender, recipient, id and time; with an ID, one message's life event by event: why it was refused, its verdict, pool and deliveries", func(fs *flag.FlagSet) any {
			return &traceOpts{fs: fs,
				sender:    fs.String("sender", "", "envelope sender `address`"),
				recipient: fs.String("recipient", "", "recipient `address`"),
				messageID: fs.String("message-id", "", "the Message-ID header `value`, with or without <>"),
				queueID:   fs.String("queue-id", "", "the queue `id` (as in tollgate admin queue)"),
				since:     fs.String("since", "", "from this `time` on: RFC 3339 (2026-11-23T08:00:00Z) or a duration ago (2h, 30m, 3d)"),
				until:     fs.String("until", "", "before this `time`: RFC 3339 or a duration ago"),
				tenant:    fs.String("tenant", "", "only this `tenant` (id or name; operators)"),
				limit:     fs.Int("limit", 50, "at most `N` messages (1..500)"),
			}
		}, (*adminClient).trace},
	)
}

type traceOpts struct {
	fs                                    *flag.FlagSet
	sender, recipient, messageID, queueID *string
	since, until, tenant                  *string
	limit                                 *int
}

// parseWhen reads a --since or --until value: an RFC 3339 time, or a
// duration (Go syntax, plus whole days as "3d") meaning that long before
// now. The error names the flag and the value.
func parseWhen(flagName, v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := parseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: give an RFC 3339 time such as 2026-11-23T08:00:00Z, or how long ago such as 2h, 30m or 3d", flagName, v)
}

// parseDuration is time.ParseDuration that also takes whole days ("3d").
func parseDuration(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%q is not a number of days", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(v)
}

// tenantIDOf turns a tenant id or name into its id (see tenantPathOf).
func (c *adminClient) tenantIDOf(arg string) (int64, error) {
	path, err := c.tenantPathOf(arg)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimPrefix(path, "/api/v1/tenants/"), 10, 64)
}

func (c *adminClient) trace(o any, args []string) error {
	opts := o.(*traceOpts)
	pos, err := (&protOpts{fs: opts.fs}).positional(args, -1, "")
	if err != nil {
		return err
	}
	searching := false
	opts.fs.Visit(func(f *flag.Flag) { searching = searching || (f.Name != "limit" && !isGlobalFlag(f.Name)) })
	switch {
	case len(pos) > 1:
		return fmt.Errorf("give at most one message ID (got %d: %s)", len(pos), strings.Join(pos, " "))
	case len(pos) == 1 && searching:
		return fmt.Errorf("give a message ID or search flags, not both (the ID %s names one message already)", pos[0])
	case len(pos) == 1:
		return c.traceMessage(pos[0])
	}

	q := url.Values{}
	for _, f := range []struct {
		key string
		val *string
	}{{"sender", opts.sender}, {"recipient", opts.recipient}, {"message_id", opts.messageID}, {"queue_id", opts.queueID}} {
		if v := strings.TrimSpace(*f.val); v != "" {
			q.Set(f.key, v)
		}
	}
	now := time.Now()
	var since, until time.Time
	if *opts.since != "" {
		if since, err = parseWhen("since", *opts.since, now); err != nil {
			return err
		}
		q.Set("since", since.UTC().Format(time.RFC3339))
	}
	if *opts.until != "" {
		if until, err = parseWhen("until", *opts.until, now); err != nil {
			return err
		}
		q.Set("until", until.UTC().Format(time.RFC3339))
	}
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		return fmt.Errorf("--until %s is not after --since %s: nothing can match", *opts.until, *opts.since)
	}
	if n := *opts.limit; n < 1 || n > 500 {
		return fmt.Errorf("--limit %d: give a number in 1..500", n)
	}
	q.Set("limit", strconv.Itoa(*opts.limit))
	if *opts.tenant != "" {
		id, err := c.tenantIDOf(*opts.tenant)
		if err != nil {
			return err
		}
		q.Set("tenant", strconv.FormatInt(id, 10))
	}

	var r client.TraceSearch
	if err := c.get("/api/v1/trace?"+q.Encode(), &r); err != nil {
		return printed(err)
	}
	tw := c.table("TIME\tID\tSENDER\tRECIPIENTS\tSUBJECT\tVERDICT\tPOOL\tSTATUS\tCODE\tRULE")
	for _, m := range r.Messages {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.First.Local().Format("2006-01-02 15:04:05"), m.ID,
			orNull(m.Sender), dash(strings.Join(m.Recipients, ",")), dash(clip(m.Subject, 40)), dash(m.Verdict), dash(m.Pool),
			m.Status, dash(m.Code), dash(m.Rule))
	}
	tw.Flush()
	fmt.Fprintf(c.out, "%d message(s)", len(r.Messages))
	if len(r.Messages) == *opts.limit {
		fmt.Fprintf(c.out, " (the limit; narrow the search or raise --limit)")
	}
	if len(r.Messages) > 0 {
		fmt.Fprintf(c.out, "; one message's events: tollgate admin trace ID")
	}
	fmt.Fprintln(c.out)
	return nil
}

func (c *adminClient) traceMessage(id string) error {
	var r client.TraceMessage
	if err := c.get("/api/v1/trace/"+url.PathEscape(id), &r); err != nil {
		if errors.Is(err, errPrinted) {
			return nil
		}
		if client.IsCode(err, "not_found") {
			return fmt.Errorf("%w; search with tollgate admin trace --sender ADDRESS (or --recipient, --message-id) to find its ID", err)
		}
		return err
	}
	m, w := r.Message, c.out
	fmt.Fprintf(w, "message %s\n", m.ID)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-12s %s\n", k+":", v)
		}
	}
	if m.TenantID > 0 {
		line("tenant", strings.TrimSpace(fmt.Sprintf("%d %s", m.TenantID, c.tenantNames()[m.TenantID])))
	}
	line("sender", orNull(m.Sender))
	line("recipients", strings.Join(m.Recipients, ", "))
	line("message-id", m.MessageID)
	line("subject", m.Subject)
	line("queue id", m.QueueID)
	line("session", m.Session)
	line("verdict", m.Verdict)
	line("pool", m.Pool)
	status := m.Status
	if m.Code != "" {
		status += " " + m.Code
	}
	if m.Rule != "" {
		status += " by rule " + m.Rule
	}
	line("status", status)
	if f := strings.Fields(m.Code); len(f) == 2 && strings.Count(f[1], ".") == 2 {
		line("help", c.server+"/ndr/"+f[1])
	}
	fmt.Fprintln(w)
	c.eventTable(r.Events)
	return nil
}

// eventTable prints the events one a line in aligned columns; an event's
// attrs (the figures a check saw, the verdict's score, a delivery's MX)
// follow on their own line under its detail, as key=value.
func (c *adminClient) eventTable(events []client.TraceEvent) {
	layout := "15:04:05.000"
	for _, e := range events {
		if e.At.Local().YearDay() != events[0].At.Local().YearDay() || e.At.Year() != events[0].At.Year() {
			layout = "2006-01-02 15:04:05.000"
		}
	}
	if len(events) > 0 {
		fmt.Fprintf(c.out, "events (%s, times %s):\n", events[0].At.Local().Format("2006-01-02"), events[0].At.Local().Format("MST"))
	}
	rows := [][]string{{"TIME", "STAGE", "OUTCOME", "RULE", "DETAIL"}}
	for _, e := range events {
		detail := e.Detail
		if e.Rcpt != "" && !strings.Contains(detail, e.Rcpt) {
			detail = strings.TrimSpace("<" + e.Rcpt + "> " + detail)
		}
		rows = append(rows, []string{e.At.Local().Format(layout), e.Stage, e.Outcome, dash(e.Rule), detail})
	}
	width := make([]int, 4)
	for _, r := range rows {
		for i := range width {
			width[i] = max(width[i], utf8.RuneCountInString(r[i]))
		}
	}
	indent := 0
	for _, n := range width {
		indent += n + 2
	}
	for i, r := range rows {
		var b strings.Builder
		for j := range width {
			fmt.Fprintf(&b, "%-*s  ", width[j], r[j])
		}
		b.WriteString(r[4])
		fmt.Fprintln(c.out, strings.TrimRight(b.String(), " "))
		if i == 0 {
			continue
		}
		if a := attrs(events[i-1].Attrs); a != "" {
			fmt.Fprintf(c.out, "%*s%s\n", indent, "", a)
		}
	}
}

// attrs is key=value, sorted by key; a value with spaces is quoted.
func attrs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := m[k]
		if v == "" || strings.ContainsAny(v, " \t\"") {
			v = strconv.Quote(v)
		}
		parts[i] = k + "=" + v
	}
	return strings.Join(parts, " ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clip shortens s to n characters, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
