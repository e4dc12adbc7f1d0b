package console

import (
	"github.com/tollgate-mail/tollgate/client"

	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// IP reputation (operators): look up how Tollgate rates a source IP and
// why, grant a tenant an exception for an IP or range until a date (the fix
// for 550 5.7.708), revoke it, and keep the allow and deny lists.

// exception is the API's exception with what the console adds.
type exception struct {
	client.Exception
	Active bool `json:"-"` // set by the console: not revoked, not expired
}

type (
	listEntry  = client.ListEntry
	assessment = client.Assessment
)

type reputationData struct {
	LookupIP     string
	LookupTenant tenantField
	Assessment   *assessment
	LookupError  string
	Exceptions   []exception
	All          bool
	Lists        []listEntry
	TTLs         [][2]string
	Grant        grantForm
}

// grantForm is the exception form as sent, shown again while its tenant
// is still to be chosen.
type grantForm struct {
	Tenant              tenantField
	Prefix, TTL, Reason string
}

func newGrantForm() grantForm {
	return grantForm{Tenant: tenantField{Name: "tenant_id", ID: "x-tenant", Label: "Tenant", Required: true}}
}

// exceptionTTLs are the expiries the grant form offers: an exception is
// meant to bridge the time until the IP has a record, not to last.
var exceptionTTLs = [][2]string{{"24h", "1 day"}, {"72h", "3 days"}, {"168h", "1 week"}, {"720h", "30 days"}}

func (c *Console) reputationPage(q *req) error {
	in := q.r.URL.Query()
	d := reputationData{LookupIP: strings.TrimSpace(in.Get("ip")), All: in.Get("all") == "true",
		LookupTenant: tenantField{Name: "tenant", ID: "r-tenant", Label: "For tenant (optional: its exceptions apply)", Value: in.Get("tenant")},
		Grant:        newGrantForm()}
	tid, err := q.pickTenant(&d.LookupTenant)
	if err != nil {
		return err
	}
	d.LookupError = d.LookupTenant.Error
	if d.LookupIP != "" && !d.LookupTenant.Unresolved() {
		path := "/api/v1/reputation/ips/" + url.PathEscape(d.LookupIP)
		if tid != 0 {
			path += "?tenant=" + strconv.FormatInt(tid, 10)
		}
		var a assessment
		if err := q.api("GET", path, nil, &a); err != nil {
			if !isStatus(err, http.StatusBadRequest) {
				return err
			}
			d.LookupError = messageOf(err)
		} else {
			d.Assessment = &a
		}
	}
	status := http.StatusOK
	if d.LookupError != "" {
		status = http.StatusBadRequest
	}
	return c.renderReputation(q, status, d)
}

// renderReputation shows the page with d's forms, and the exceptions and
// lists as they are.
func (c *Console) renderReputation(q *req, status int, d reputationData) error {
	d.TTLs = exceptionTTLs
	var ex struct{ Exceptions []exception }
	if err := q.api("GET", fmt.Sprintf("/api/v1/reputation/exceptions?all=%t", d.All), nil, &ex); err != nil {
		return err
	}
	now := c.opts.Now()
	for _, e := range ex.Exceptions {
		e.Active = e.RevokedAt.IsZero() && now.Before(e.ExpiresAt)
		d.Exceptions = append(d.Exceptions, e)
	}
	var ls struct{ Entries []listEntry }
	if err := q.api("GET", "/api/v1/reputation/lists", nil, &ls); err != nil {
		return err
	}
	d.Lists = ls.Entries
	return q.render(status, "reputation.html", "IP reputation", "reputation", d)
}

const reputationPath = Prefix + "reputation"

// grantException lets a tenant send from an IP or range despite its
// reputation, until the chosen expiry.
func (c *Console) grantException(q *req) error {
	f := q.r.PostForm
	g := newGrantForm()
	g.Tenant.Value, g.Prefix, g.TTL, g.Reason = f.Get("tenant_id"), strings.TrimSpace(f.Get("prefix")), f.Get("ttl"), strings.TrimSpace(f.Get("reason"))
	tid, err := q.pickTenant(&g.Tenant)
	if err != nil {
		return err
	}
	if g.Tenant.Unresolved() {
		// The form comes back filled in, its tenant field an error or a
		// choice among the matches; nothing is granted yet.
		status := http.StatusOK
		if g.Tenant.Error != "" {
			status = http.StatusBadRequest
		}
		return c.renderReputation(q, status, reputationData{LookupTenant: tenantField{Name: "tenant", ID: "r-tenant",
			Label: "For tenant (optional: its exceptions apply)"}, Grant: g})
	}
	var e exception
	body := map[string]any{"tenant_id": tid, "prefix": g.Prefix, "ttl": g.TTL, "reason": g.Reason}
	if err := q.api("POST", "/api/v1/reputation/exceptions", body, &e); err != nil {
		return q.back(reputationPath, err)
	}
	return q.done(reputationPath, flash{ID: e.ID,
		Text: fmt.Sprintf("Tenant %s (id %d) may send from %s until %s.", g.Tenant.Tenant.Name, e.TenantID, e.Prefix, e.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))})
}

func (c *Console) revokeException(q *req) error {
	id, err := pathID(q.r, "exception")
	if err != nil {
		return err
	}
	var e exception
	if err := q.api("DELETE", fmt.Sprintf("/api/v1/reputation/exceptions/%d", id), nil, &e); err != nil {
		return q.back(reputationPath, err)
	}
	return q.done(reputationPath, flash{ID: id, Text: fmt.Sprintf("Revoked the exception of tenant %d for %s.", e.TenantID, e.Prefix)})
}

// addListEntry puts a range on the allow or deny list.
func (c *Console) addListEntry(q *req) error {
	f := q.r.PostForm
	var e listEntry
	body := map[string]string{"kind": f.Get("kind"), "prefix": strings.TrimSpace(f.Get("prefix")), "reason": strings.TrimSpace(f.Get("reason"))}
	if err := q.api("POST", "/api/v1/reputation/lists", body, &e); err != nil {
		return q.back(reputationPath, err)
	}
	return q.done(reputationPath, flash{Text: fmt.Sprintf("Put %s on the %s list.", e.Prefix, e.Kind)})
}

func (c *Console) removeListEntry(q *req) error {
	prefix := strings.TrimSpace(q.r.PostForm.Get("prefix"))
	if err := q.api("DELETE", "/api/v1/reputation/lists?prefix="+url.QueryEscape(prefix), nil, nil); err != nil {
		return q.back(reputationPath, err)
	}
	return q.done(reputationPath, flash{Text: fmt.Sprintf("Took %s off its list.", prefix)})
}
