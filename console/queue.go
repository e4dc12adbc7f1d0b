package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tollgate-mail/tollgate/client"
)

// The operator's queue page: the live queue with the API's filters, and per
// message the queue controls (hold, release, retry, bounce, drop, move).
// Each action is the API's POST /api/v1/queue/{id}/{action}, which checks
// and audits it; the form carries the CSRF token as every console form.

const queuePath = Prefix + "queue"

// queueFilters are the query parameters the page passes to the API as is.
var queueFilters = []string{"tenant", "sender", "domain", "min_age", "pool", "held"}

type queuePageData struct {
	Messages []client.QueuedMessage
	Filter   map[string]string
	Query    string // the filters, to come back to after an action
	Tenant   tenantField
}

func (c *Console) queuePage(q *req) error {
	v := url.Values{}
	f := map[string]string{}
	for _, k := range queueFilters {
		if s := q.r.URL.Query().Get(k); s != "" {
			v.Set(k, s)
			f[k] = s
		}
	}
	d := queuePageData{Filter: f, Tenant: tenantField{Name: "tenant", ID: "f-tenant", Label: "Tenant", Value: f["tenant"]}}
	tid, err := q.pickTenant(&d.Tenant)
	if err != nil {
		return err
	}
	if d.Tenant.Unresolved() {
		status := http.StatusOK
		if d.Tenant.Error != "" {
			status = http.StatusBadRequest
		}
		return q.render(status, "queue.html", "Queue", "queue", d)
	}
	if tid != 0 {
		v.Set("tenant", strconv.FormatInt(tid, 10))
	}
	var r struct{ Messages []client.QueuedMessage }
	if err := q.api("GET", "/api/v1/queue?"+v.Encode(), nil, &r); err != nil {
		return err
	}
	d.Messages, d.Query = r.Messages, v.Encode()
	return q.render(http.StatusOK, "queue.html", "Queue", "queue", d)
}

func (c *Console) queueAction(q *req) error {
	id, action := q.r.PathValue("id"), q.r.PathValue("action")
	back := queuePath
	if s := q.r.PostForm.Get("back"); s != "" {
		if _, err := url.ParseQuery(s); err == nil {
			back += "?" + s
		}
	}
	body := client.QueueAction{Reason: q.r.PostForm.Get("reason"), Pool: q.r.PostForm.Get("pool")}
	var m client.QueuedMessage
	if err := q.api("POST", "/api/v1/queue/"+url.PathEscape(id)+"/"+url.PathEscape(action), body, &m); err != nil {
		return q.back(back, err)
	}
	text := fmt.Sprintf("%s: %s done.", id, action)
	switch action {
	case "bounce":
		text = fmt.Sprintf("Bounced %s: its sender %s gets a DSN.", id, m.From)
	case "drop":
		text = fmt.Sprintf("Dropped %s: removed without a DSN.", id)
	case "move":
		text = fmt.Sprintf("Moved %s to the %s pool.", id, m.Pool)
	}
	return q.done(back, flash{Text: text})
}
