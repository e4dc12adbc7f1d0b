package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/trace"
)

// sendFrom is sendMail from a chosen loopback source address, as a
// tenant's server behind a connector would send.
func sendFrom(src, addr, from, to, subject string) error {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: actionTimeout}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := transact(c, from, to, subject, "The minutes of Tuesday's meeting."); err != nil {
		return err
	}
	return c.Quit()
}

// The overview's and the status's figures after real SMTP traffic with
// refusals: accepted, refused and senders are the trace's own (counted
// from its search results), and the users card says who can send from the
// same restrictions the restrictions page lists.
func TestOverviewFiguresMatchTrace(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ctx := context.Background()
	d := g.Directory
	if _, err := d.AddDomain(ctx, directory.By{}, f.alpha.ID, "alpha.test"); err != nil {
		t.Fatal(err)
	}
	if err := d.MarkDomainVerified(ctx, directory.By{}, f.alpha.ID, "alpha.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateConnector(ctx, directory.By{Actor: "admin:boss@alpha.test"}, f.alpha.ID, "lab", []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"ann@alpha.test", "bob@alpha.test"} {
		if _, err := d.CreateUser(ctx, directory.By{}, f.alpha.ID, u, "a user password 1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := g.Blocks.Restrict(ctx, blocks.Restriction{TenantID: f.alpha.ID, Kind: blocks.KindSender, Subject: "ann@alpha.test",
		Reason: "sent more spam than the outbound spam policy allows", Rule: "user_spam_per_hour"}, "system"); err != nil {
		t.Fatal(err)
	}
	relay := g.Addrs["relay"].String()
	const sent, refused = 3, 4
	for i := range sent {
		if err := sendFrom("127.0.0.2", relay, "bob@alpha.test", "partner@example.net", fmt.Sprintf("minutes %d", i)); err != nil {
			t.Fatalf("bob's message %d: %v", i, err)
		}
	}
	for i := range refused {
		err := sendFrom("127.0.0.2", relay, "ann@alpha.test", "partner@example.net", fmt.Sprintf("minutes %d", i))
		if err == nil || !strings.Contains(err.Error(), "5.1.8") {
			t.Fatalf("ann's message %d: %v, want 550 5.1.8", i, err)
		}
	}
	// Unattributed mail is nobody's figure.
	if err := sendFrom("127.0.0.9", relay, "x@elsewhere.test", "partner@example.net", "hi"); err == nil {
		t.Fatal("unattributed relay accepted")
	}

	// The trace's own answer, once all of it is stored.
	var rows []trace.Summary
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := g.Trace.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var err error
		if rows, err = g.Trace.Search(ctx, trace.Query{TenantID: f.alpha.ID, Limit: 500}); err != nil {
			t.Fatal(err)
		}
		if len(rows) >= sent+refused || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var inTrace struct{ accepted, refused int }
	senders := map[string]bool{}
	for _, m := range rows {
		senders[m.Sender] = true
		switch m.Status {
		case "refused":
			inTrace.refused++
		case "queued", "delivered", "deferred", "bounced":
			inTrace.accepted++
		}
	}
	if inTrace.accepted != sent || inTrace.refused != refused {
		t.Fatalf("the trace holds %d accepted and %d refused, want %d and %d: %+v", inTrace.accepted, inTrace.refused, sent, refused, rows)
	}

	var st struct {
		Today      blocks.DayStats
		TraceToday *trace.Counts `json:"trace_today"`
	}
	ops := newClient(t, baseURL(g))
	tok := g.AdminToken
	if code := apiGet(t, g, tok, fmt.Sprintf("/api/v1/tenants/%d/status", f.alpha.ID), &st); code != 200 || st.TraceToday == nil {
		t.Fatalf("status: %d %+v", code, st)
	}
	if st.Today.Refused != int64(inTrace.refused) || st.TraceToday.Refused != int64(inTrace.refused) ||
		st.TraceToday.Accepted != int64(inTrace.accepted) || st.TraceToday.Senders != int64(len(senders)) {
		t.Errorf("status today %+v, trace_today %+v; the trace holds %d accepted, %d refused, %d senders",
			st.Today, *st.TraceToday, inTrace.accepted, inTrace.refused, len(senders))
	}
	var days struct{ Days []blocks.DayStats }
	apiGet(t, g, tok, fmt.Sprintf("/api/v1/tenants/%d/stats?days=2", f.alpha.ID), &days)
	if n := len(days.Days); n == 0 || days.Days[n-1].Refused != int64(inTrace.refused) {
		t.Errorf("stats: %+v, want today's refused %d", days.Days, inTrace.refused)
	}

	ops.signInHTTP(f.operator)
	_, page := ops.get(fmt.Sprintf("/console/t/%d/", f.alpha.ID))
	for id, want := range map[string]string{
		"today-accepted": fmt.Sprint(inTrace.accepted),
		"today-refused":  fmt.Sprint(inTrace.refused),
		"users-count":    "2",
	} {
		if got := textOf(page, id); got != want {
			t.Errorf("overview #%s = %q, want %q", id, got, want)
		}
	}
	if got := textOf(page, "today-trace"); !strings.Contains(got, fmt.Sprintf("from %d senders", len(senders))) {
		t.Errorf("overview #today-trace = %q, want %d senders", got, len(senders))
	}
	if got := textOf(page, "users-send"); got != "1 can send; 1 restricted" {
		t.Errorf("overview #users-send = %q, want %q (ann is restricted)", got, "1 can send; 1 restricted")
	}
	// The trace page names the tenant and the connector, and keeps each
	// address whole.
	_, tp := ops.get(fmt.Sprintf("/console/t/%d/trace", f.alpha.ID))
	for _, want := range []string{"<td>alpha</td>", "connector <strong>lab</strong>", `<span class="addr">bob@alpha.test</span>`, `<span class="addr">partner@example.net</span>`} {
		if !strings.Contains(tp, want) {
			t.Errorf("trace page lacks %s", want)
		}
	}
	// The operator's dashboard counts the same refusals by code, and the
	// tenants with restricted senders.
	_, tl := ops.get("/console/tenants")
	if want := fmt.Sprintf("<code>550 5.1.8</code></th><td>%d</td><td>%d</td>", inTrace.refused, inTrace.refused); !strings.Contains(tl, want) {
		t.Errorf("dashboard refusals: %q, want %s", textOf(tl, "refusals"), want)
	}
	if got := textOf(tl, "n-restricted"); got != "1" {
		t.Errorf("dashboard: %q tenants with restricted senders, want 1", got)
	}
	if got := textOf(page, "restricted-count"); !strings.HasPrefix(got, "1 sender or connector is restricted") {
		t.Errorf("overview #restricted-count = %q", got)
	}
}

// apiGet calls the admin API with a bearer token and decodes the answer.
func apiGet(t *testing.T, g *gateway.Gateway, token, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", baseURL(g)+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil && resp.StatusCode == 200 {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode
}

var tagRE = regexp.MustCompile(`<[^>]+>`)

// textOf is the text of the element with this id in page (tags dropped,
// spaces folded), or "" if there is none.
func textOf(page, id string) string {
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	start := strings.IndexByte(page[i:], '>') + i + 1
	tag := page[strings.LastIndexByte(page[:i], '<')+1 : i]
	tag = strings.Fields(tag)[0]
	end := strings.Index(page[start:], "</"+tag+">")
	if end < 0 {
		return ""
	}
	return strings.Join(strings.Fields(tagRE.ReplaceAllString(page[start:start+end], "")), " ")
}

// The trace page pages: 100 messages a page, and "Older messages" shows
// the ones before, none twice.
func TestTracePages(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ctx := context.Background()
	at := time.Now().Add(-time.Hour)
	const n = 150
	for i := range n {
		ts := at.Add(time.Duration(i) * time.Second)
		sess := fmt.Sprintf("S%d", i)
		g.Trace.Record(ctx, trace.Event{Time: ts, Session: sess, TenantID: f.alpha.ID, Stage: "mail", Outcome: "reject",
			Detail: "550 5.1.8 restricted", Attrs: []slog.Attr{slog.String("from", fmt.Sprintf("s%03d@alpha.test", i))}})
	}
	if err := g.Trace.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, baseURL(g))
	c.signInHTTP(f.alphaAdmin)
	senderRE := regexp.MustCompile(`<span class="addr">(s\d{3}@alpha\.test)</span>`)
	olderRE := regexp.MustCompile(`<a href="([^"]+)" id="older-trace"`)
	seen := map[string]bool{}
	path := fmt.Sprintf("/console/t/%d/trace", f.alpha.ID)
	for page := 1; ; page++ {
		resp, body := c.get(path)
		if resp.StatusCode != 200 {
			t.Fatalf("page %d: %d", page, resp.StatusCode)
		}
		for _, m := range senderRE.FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Fatalf("page %d shows %s again", page, m[1])
			}
			seen[m[1]] = true
		}
		m := olderRE.FindStringSubmatch(body)
		if m == nil {
			break
		}
		if page > 3 {
			t.Fatal("more pages than messages")
		}
		path = fmt.Sprintf("/console/t/%d/trace", f.alpha.ID) + html.UnescapeString(m[1])
	}
	if len(seen) != n {
		t.Fatalf("the pages showed %d messages, want %d", len(seen), n)
	}
}
