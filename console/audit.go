package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// auditCategories are the action families the filter offers; "connector"
// first, since connector changes are what an intrusion leaves behind.
var auditCategories = []string{"connector", "domain", "user", "app_password", "admin", "auth", "token", "tenant", "licence"}

// auditData is the audit page: the filter as given, and one page of
// entries, newest first.
type auditData struct {
	Actor, Action, Category, Since, Until, Tenant string
	Q                                             string // a part of the actor, action, target or address
	Categories                                    []string
	Entries                                       []auditRow
	Older                                         string // link to the next page, if any
	All                                           bool   // the operator's service-wide log
	Error                                         string
	TenantPick                                    tenantField // the operator's tenant filter
}

type auditRow struct {
	auditEntry
	Connector bool   // a connector event: marked so it stands out
	Details   string // before and after, indented
}

const auditPage = 100

// auditAll is the operator's log of every tenant (and service-wide events).
func (c *Console) auditAll(q *req) error { return c.auditPage(q, true) }

// auditTenant is one tenant's log.
func (c *Console) auditTenant(q *req) error { return c.auditPage(q, false) }

func (c *Console) auditPage(q *req, all bool) error {
	in := q.r.URL.Query()
	d := auditData{Actor: strings.TrimSpace(in.Get("actor")), Action: strings.TrimSpace(in.Get("action")),
		Category: in.Get("category"), Since: in.Get("since"), Until: in.Get("until"), Tenant: strings.TrimSpace(in.Get("tenant")),
		Q: strings.TrimSpace(in.Get("q")), Categories: auditCategories, All: all}
	p := url.Values{}
	p.Set("limit", strconv.Itoa(auditPage))
	set := func(k, v string) {
		if v != "" {
			p.Set(k, v)
		}
	}
	set("q", d.Q)
	set("actor", d.Actor)
	set("action", d.Action)
	set("action_prefix", d.Category)
	set("after_id", in.Get("after_id"))
	section, title := "audit", "Audit log"
	if all {
		section, title = "all-audit", "Audit log (all tenants)"
		d.TenantPick = tenantField{Name: "tenant", ID: "f-tenant", Label: "Tenant", Value: d.Tenant}
		tid, err := q.pickTenant(&d.TenantPick)
		if err != nil {
			return err
		}
		if d.TenantPick.Unresolved() {
			status := http.StatusOK // a choice to make
			if d.TenantPick.Error != "" {
				d.Error, status = d.TenantPick.Error, http.StatusBadRequest
			}
			return q.render(status, "audit.html", title, section, d)
		}
		if tid != 0 {
			p.Set("tenant", strconv.FormatInt(tid, 10))
		}
	} else {
		p.Set("tenant", strconv.FormatInt(q.tenant.ID, 10))
	}
	var err error
	if err = dateParam(p, "since", d.Since, 0); err == nil {
		err = dateParam(p, "until", d.Until, 24*time.Hour) // the whole "until" day is included
	}
	if err != nil {
		d.Error = err.Error()
		return q.render(http.StatusBadRequest, "audit.html", title, section, d)
	}
	var ans struct{ Entries []auditEntry }
	if err := q.api("GET", "/api/v1/audit?"+p.Encode(), nil, &ans); err != nil {
		if isStatus(err, http.StatusBadRequest) {
			d.Error = messageOf(err)
			return q.render(http.StatusBadRequest, "audit.html", title, section, d)
		}
		return err
	}
	d.Entries = auditRows(ans.Entries)
	if len(ans.Entries) == auditPage {
		next := q.r.URL.Query()
		next.Set("after_id", strconv.FormatInt(ans.Entries[len(ans.Entries)-1].ID, 10))
		d.Older = q.r.URL.Path + "?" + next.Encode()
	}
	return q.render(http.StatusOK, "audit.html", title, section, d)
}

func auditRows(es []auditEntry) []auditRow {
	var rows []auditRow
	for _, e := range es {
		rows = append(rows, auditRow{auditEntry: e, Connector: strings.HasPrefix(e.Action, "connector."), Details: details(e)})
	}
	return rows
}

// dateParam turns a YYYY-MM-DD from a date field into the API's RFC 3339
// time (UTC midnight, plus shift).
func dateParam(p url.Values, name, v string, shift time.Duration) error {
	if v == "" {
		return nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return fmt.Errorf("%s: %q is not a date such as 2026-11-23", name, v)
	}
	p.Set(name, t.Add(shift).Format(time.RFC3339))
	return nil
}

// details shows an entry's before and after, indented for reading.
func details(e auditEntry) string {
	var b strings.Builder
	for _, part := range []struct {
		label string
		raw   json.RawMessage
	}{{"before", e.Before}, {"after", e.After}} {
		if len(part.raw) == 0 || string(part.raw) == "null" {
			continue
		}
		var out bytes.Buffer
		if json.Indent(&out, part.raw, "", "  ") != nil {
			out.Reset()
			out.Write(part.raw)
		}
		fmt.Fprintf(&b, "%s: %s\n", part.label, out.String())
	}
	return b.String()
}
