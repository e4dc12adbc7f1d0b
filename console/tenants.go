package console

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
)

// overviewData is a tenant's overview: licence, what it has, and the
// latest audit entries.
type overviewData struct {
	Domains, Verified     int
	Users, DisabledUsers  int
	RestrictedUsers       int // enabled users under a live sender restriction
	CanSend               int // users neither disabled nor restricted (0 while the tenant is stopped)
	Stopped               bool
	Connectors, Probation int
	NewConnectors         int
	Recent                []auditRow
	Protection            *protectionSummary // nil until the API has the status route
}

func (c *Console) overview(q *req) error {
	var d overviewData
	var doms struct{ Domains []domain }
	if err := q.api("GET", q.apiT("/domains"), nil, &doms); err != nil {
		return err
	}
	for _, x := range doms.Domains {
		d.Domains++
		if x.Verified {
			d.Verified++
		}
	}
	var us struct{ Users []user }
	if err := q.api("GET", q.apiT("/users"), nil, &us); err != nil {
		return err
	}
	for _, u := range us.Users {
		d.Users++
		if u.Disabled {
			d.DisabledUsers++
		}
	}
	cs, err := q.connectors()
	if err != nil {
		return err
	}
	for _, x := range cs {
		if !x.Live {
			continue
		}
		d.Connectors++
		if x.Probation {
			d.Probation++
		}
		if x.New {
			d.NewConnectors++
		}
	}
	var au struct{ Entries []auditEntry }
	if err := q.api("GET", fmt.Sprintf("/api/v1/audit?tenant=%d&limit=8", q.tenant.ID), nil, &au); err != nil {
		return err
	}
	d.Recent = auditRows(au.Entries)
	if d.Protection, err = q.protectionSummary(true); err != nil {
		return err
	}
	d.countSenders(us.Users)
	return q.render(http.StatusOK, "overview.html", q.tenant.Name, "overview", d)
}

// tenantsData is the operator's list of every tenant, one page of it.
type tenantsData struct {
	Tenants          []standing
	Sort, Query      string
	Sorts            []navItem
	Page, Pages      int
	First, Last, All int // the rows shown (1-based) and how many match
	Prev, Next       string
	Counts           stateCounts
	QueueDepth       *int
	Nodes            []nodeReport // empty when the API keeps no node reports
	LiveNodes        int
	Refusals         []refusalRow
}

// nodeReport is one node's last queue-depth report on the dashboard.
type nodeReport struct {
	ID         string    `json:"node_id"`
	Node       string    `json:"node"`
	Shared     bool      `json:"-"` // another node has the same hostname
	QueueDepth int       `json:"queue_depth"`
	ReportedAt time.Time `json:"reported_at"`
	Stale      bool      `json:"stale"`
}

// refusalRow is one reply code's refusals over the dashboard's hours.
type refusalRow struct {
	Code            string
	LastHour, Total int64
	Bars            []refusalBar // one per hour, oldest first
}

// refusalBar is one hour's bar of a code's sparkline (SVG attributes: the
// CSP allows no inline style).
type refusalBar struct {
	X, Y, H int
	Title   string
}

// dashboardHours is how far back the refusals by code go.
const dashboardHours = 24

// refusalRows turns the API's hourly counts into one row per code, the
// codes with most refusals first.
func refusalRows(since time.Time, cs []struct {
	Hour  time.Time `json:"hour"`
	Code  string    `json:"code"`
	Count int64     `json:"count"`
}) []refusalRow {
	byCode := map[string]*refusalRow{}
	perHour := map[string][]int64{}
	var peak int64 = 1
	last := since.Add((dashboardHours - 1) * time.Hour)
	for _, c := range cs {
		i := int(c.Hour.Sub(since) / time.Hour)
		if i < 0 || i >= dashboardHours {
			continue
		}
		code := c.Code
		if code == "" {
			code = "(no code)"
		}
		r := byCode[code]
		if r == nil {
			r = &refusalRow{Code: code}
			byCode[code] = r
			perHour[code] = make([]int64, dashboardHours)
		}
		r.Total += c.Count
		if !c.Hour.Before(last) {
			r.LastHour += c.Count
		}
		perHour[code][i] += c.Count
		peak = max(peak, perHour[code][i])
	}
	var out []refusalRow
	for code, r := range byCode {
		for i, n := range perHour[code] {
			h := int(n * 20 / peak)
			if n > 0 {
				h = max(h, 1)
			}
			r.Bars = append(r.Bars, refusalBar{X: i * 5, Y: 20 - h, H: h,
				Title: fmt.Sprintf("%s: %d", since.Add(time.Duration(i)*time.Hour).Format("15:04"), n)})
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b refusalRow) int {
		if c := cmp.Compare(b.Total, a.Total); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return out
}

// standing is GET /api/v1/standings: one tenant's state at a glance.
type standing struct {
	ID           int64           `json:"tenant_id"`
	Name         string          `json:"name"`
	Effective    string          `json:"effective_license"`
	Seats        int             `json:"seats"`
	CreatedAt    time.Time       `json:"created_at"`
	State        string          `json:"state"`
	BlockRule    string          `json:"block_rule"`
	BlockRatio   float64         `json:"block_ratio"`
	BlockSpam    int64           `json:"block_spam_bulk"`
	BlockTotal   int64           `json:"block_messages"`
	Restrictions int             `json:"restrictions"`
	Today        blocks.DayStats `json:"today"`
	SpamRatio    float64         `json:"spam_ratio_today"`
	Pending      int64           `json:"pending_unblock_request"`
}

// rank orders tenants for the operator: blocked first, then expired, on
// probation, with restricted senders, and the rest.
func (s standing) rank() int {
	switch {
	case s.State == "blocked":
		return 4
	case s.State == "expired":
		return 3
	case s.State == "probation":
		return 2
	case s.Restrictions > 0:
		return 1
	}
	return 0
}

// stateCounts are the operator's headline figures over every tenant.
type stateCounts struct {
	Tenants, Blocked, Expired, Probation, Restricted, Pending int
}

// tenantsPerPage bounds the rows of one page: an operator of 10,000
// tenants searches or pages, and the page stays quick to render.
const tenantsPerPage = 50

// tenants lists every tenant for an operator with its sending state and
// today's figures, blocked tenants first unless another order is asked;
// q searches names (and ids), page pages through the matches.
func (c *Console) tenants(q *req) error {
	var st struct{ Standings []standing }
	if err := q.api("GET", "/api/v1/standings", nil, &st); err != nil {
		return err
	}
	var dash struct {
		QueueDepth *int         `json:"queue_depth"`
		Nodes      []nodeReport `json:"nodes"`
		Since      time.Time    `json:"since"`
		Refusals   []struct {
			Hour  time.Time `json:"hour"`
			Code  string    `json:"code"`
			Count int64     `json:"count"`
		} `json:"refusals"`
	}
	if err := q.api("GET", fmt.Sprintf("/api/v1/dashboard?hours=%d", dashboardHours), nil, &dash); err != nil {
		return err
	}
	in := q.r.URL.Query()
	d := tenantsData{Sort: in.Get("sort"), Query: strings.TrimSpace(in.Get("q")), QueueDepth: dash.QueueDepth,
		Nodes: dash.Nodes, Refusals: refusalRows(dash.Since, dash.Refusals)}
	hosts := map[string]int{}
	for _, n := range d.Nodes {
		hosts[n.Node]++
		if !n.Stale {
			d.LiveNodes++
		}
	}
	for i := range d.Nodes {
		d.Nodes[i].Shared = hosts[d.Nodes[i].Node] > 1
	}
	if d.Sort == "" {
		d.Sort = "status"
	}
	needle := strings.ToLower(d.Query)
	var rows []standing
	for _, t := range st.Standings {
		d.Counts.add(t)
		if needle == "" || strings.Contains(strings.ToLower(t.Name), needle) || strconv.FormatInt(t.ID, 10) == needle {
			rows = append(rows, t)
		}
	}
	sortTenants(rows, d.Sort)
	d.All = len(rows)
	d.Pages = max(1, (d.All+tenantsPerPage-1)/tenantsPerPage)
	d.Page, _ = strconv.Atoi(in.Get("page"))
	d.Page = min(max(d.Page, 1), d.Pages)
	from := (d.Page - 1) * tenantsPerPage
	d.Tenants = rows[from:min(from+tenantsPerPage, d.All)]
	d.First, d.Last = min(from+1, d.All), from+len(d.Tenants)
	link := func(page int) string {
		v := url.Values{"sort": {d.Sort}, "page": {strconv.Itoa(page)}}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
		return Prefix + "tenants?" + v.Encode()
	}
	if d.Page > 1 {
		d.Prev = link(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.Next = link(d.Page + 1)
	}
	for _, s := range tenantSorts() {
		v := url.Values{"sort": {s[0]}}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
		d.Sorts = append(d.Sorts, navItem{Section: s[0], Label: s[1], Href: Prefix + "tenants?" + v.Encode()})
	}
	return q.render(http.StatusOK, "tenants.html", "All tenants", "tenants", d)
}

func (c *stateCounts) add(t standing) {
	c.Tenants++
	switch t.State {
	case "blocked":
		c.Blocked++
	case "expired":
		c.Expired++
	case "probation":
		c.Probation++
	}
	if t.Restrictions > 0 {
		c.Restricted++
	}
	if t.Pending != 0 {
		c.Pending++
	}
}

// tenantSorts are the orders the tenants list offers: [key, label].
func tenantSorts() [][2]string {
	return [][2]string{{"status", "Status (blocked first)"}, {"name", "Name"}, {"id", "Id"}, {"licence", "Licence"},
		{"volume", "Volume today"}, {"spam", "Spam ratio today"}}
}

func sortTenants(ts []standing, by string) {
	slices.SortStableFunc(ts, func(a, b standing) int {
		switch by {
		case "name":
			return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		case "id":
			return cmp.Compare(a.ID, b.ID)
		case "licence":
			return cmp.Compare(a.Effective, b.Effective)
		case "volume":
			return cmp.Compare(b.Today.Messages, a.Today.Messages)
		case "spam":
			return cmp.Compare(b.SpamRatio, a.SpamRatio)
		}
		// "status": blocked first, then expired, on probation, with
		// restrictions, then by name.
		if r := cmp.Compare(b.rank(), a.rank()); r != 0 {
			return r
		}
		return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
}

// createTenant adds a tenant (operators; the API refuses anyone else).
func (c *Console) createTenant(q *req) error {
	f := q.r.PostForm
	seats := 0
	if v := strings.TrimSpace(f.Get("seats")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return q.done(Prefix+"tenants", flash{Error: true, Text: fmt.Sprintf("Seats: %q is not a whole number.", v)})
		}
		seats = n
	}
	var t tenant
	err := q.api("POST", "/api/v1/tenants", map[string]any{"name": strings.TrimSpace(f.Get("name")), "license": f.Get("license"), "seats": seats}, &t)
	if err != nil {
		return q.back(Prefix+"tenants", err)
	}
	return q.done(Prefix+"tenants", flash{Text: fmt.Sprintf("Created tenant %s (id %d).", t.Name, t.ID), ID: t.ID})
}

// countSenders says how many users can send, from the same restrictions
// and state the restrictions page and the status show: a restricted or
// disabled user cannot, and nobody can while the tenant is blocked or
// expired.
func (d *overviewData) countSenders(us []user) {
	restricted := map[string]bool{}
	if p := d.Protection; p != nil {
		for _, r := range p.Restrictions {
			if r.Kind == blocks.KindSender && r.ReleasedAt.IsZero() {
				restricted[strings.ToLower(r.Subject)] = true
			}
		}
		d.Stopped = p.State == "blocked" || p.State == "expired"
	}
	for _, u := range us {
		switch {
		case u.Disabled:
		case restricted[strings.ToLower(u.Address)]:
			d.RestrictedUsers++
		default:
			d.CanSend++
		}
	}
	if d.Stopped {
		d.CanSend = 0
	}
}
