package console

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

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

// tenantsData is the operator's list of every tenant.
type tenantsData struct {
	Tenants []tenantRow
	Sort    string
	Sorts   []navItem
}

type tenantRow struct {
	tenant
	Protection *protectionSummary
}

// tenants lists every tenant for an operator with its sending state and
// today's figures, blocked tenants first unless another order is asked.
func (c *Console) tenants(q *req) error {
	var ts struct{ Tenants []tenant }
	if err := q.api("GET", "/api/v1/tenants", nil, &ts); err != nil {
		return err
	}
	d := tenantsData{Sort: q.r.URL.Query().Get("sort")}
	if d.Sort == "" {
		d.Sort = "status"
	}
	for _, t := range ts.Tenants {
		row := tenantRow{tenant: t}
		tq := *q
		tq.tenant = &t
		var err error
		if row.Protection, err = tq.protectionSummary(false); err != nil {
			return err
		}
		d.Tenants = append(d.Tenants, row)
	}
	sortTenants(d.Tenants, d.Sort)
	for _, s := range tenantSorts() {
		d.Sorts = append(d.Sorts, navItem{Section: s[0], Label: s[1], Href: Prefix + "tenants?sort=" + s[0]})
	}
	return q.render(http.StatusOK, "tenants.html", "All tenants", "tenants", d)
}

// tenantSorts are the orders the tenants list offers: [key, label].
func tenantSorts() [][2]string {
	return [][2]string{{"status", "Status (blocked first)"}, {"name", "Name"}, {"id", "Id"}, {"licence", "Licence"},
		{"volume", "Volume today"}, {"spam", "Spam ratio today"}}
}

func sortTenants(ts []tenantRow, by string) {
	slices.SortStableFunc(ts, func(a, b tenantRow) int {
		switch by {
		case "name":
			return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		case "id":
			return cmp.Compare(a.ID, b.ID)
		case "licence":
			return cmp.Compare(a.Effective, b.Effective)
		case "volume":
			return cmp.Compare(b.Protection.volume(), a.Protection.volume())
		case "spam":
			return cmp.Compare(b.Protection.spamRatio(), a.Protection.spamRatio())
		}
		// "status": blocked first, then expired, on probation, with
		// restrictions, then by name.
		if r := cmp.Compare(b.Protection.rank(), a.Protection.rank()); r != 0 {
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
