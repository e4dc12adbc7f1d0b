package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// newFor is how long a connector counts as new and is highlighted: an
// attacker's connector is usually days old at most when it is found.
const newFor = 7 * 24 * time.Hour

// connectors lists the tenant's connectors, live ones first, each marked
// new when recently created.
func (q *req) connectors() ([]connector, error) {
	var cs struct{ Connectors []connector }
	if err := q.api("GET", q.apiT("/connectors"), nil, &cs); err != nil {
		return nil, err
	}
	var live, gone []connector
	for _, c := range q.markNew(cs.Connectors) {
		if c.Live {
			live = append(live, c)
		} else {
			gone = append(gone, c)
		}
	}
	return append(live, gone...), nil
}

// markNew marks the connectors created in the last week.
func (q *req) markNew(cs []connector) []connector {
	now := q.c.opts.Now()
	for i, c := range cs {
		cs[i].New = c.Live && now.Sub(c.CreatedAt) < newFor
	}
	return cs
}

// connectorsData is one page of the connectors list.
type connectorsData struct {
	Rows []connector
	List listView
}

var connectorSorts = []listSort{{"live", "State (live first)"}, {"name", "Name"}, {"created", "Created"},
	{"created_by", "Creator"}, {"last_traffic", "Last traffic"}, {"messages_today", "Today"}}

func (c *Console) connectorsPage(q *req) error {
	cs, lv, err := listPage[connector](q, q.apiT("/connectors"), "connectors", "connectors", connectorSorts, "live", nil)
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "connectors.html", "Connectors", "connectors", connectorsData{q.markNew(cs), lv})
}

// findConnector resolves {connector} among the tenant's connectors.
func (q *req) findConnector() (connector, error) {
	id, err := pathID(q.r, "connector")
	if err != nil {
		return connector{}, err
	}
	cs, err := q.connectors()
	if err != nil {
		return connector{}, err
	}
	for _, c := range cs {
		if c.ID == id {
			return c, nil
		}
	}
	return connector{}, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("connector %d of tenant %d: not found", id, q.tenant.ID)}
}

// createConnector makes an IP-range or certificate connector. It starts on
// probation (the API's rule); the page says so.
func (c *Console) createConnector(q *req) error {
	f := q.r.PostForm
	body := map[string]any{"name": strings.TrimSpace(f.Get("name"))}
	if f.Get("kind") == "certificate" {
		body["certificate_domain"] = strings.TrimSpace(f.Get("certificate_domain"))
	} else {
		body["ip_ranges"] = strings.FieldsFunc(f.Get("ip_ranges"), func(r rune) bool {
			return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t'
		})
	}
	var cn connector
	if err := q.api("POST", q.apiT("/connectors"), body, &cn); err != nil {
		return q.back(q.tpath("connectors"), err)
	}
	return q.done(q.tpath("connectors"), flash{ID: cn.ID,
		Text: fmt.Sprintf("Created connector %s. It is on probation (a daily message quota) until you confirm it with a TOTP code.", cn.Name)})
}

// deleteConnectorForm asks before deleting: a deleted connector stops
// relaying at once, which is the point when it is an attacker's and an
// outage when it is not.
func (c *Console) deleteConnectorForm(q *req) error {
	cn, err := q.findConnector()
	if err != nil {
		return err
	}
	if !cn.Live {
		return q.done(q.tpath("connectors"), flash{Error: true, Text: fmt.Sprintf("Connector %s is already deleted.", cn.Name)})
	}
	return q.render(http.StatusOK, "connector_delete.html", "Delete connector "+cn.Name, "connectors", cn)
}

func (c *Console) deleteConnector(q *req) error {
	cn, err := q.findConnector()
	if err != nil {
		return err
	}
	if err := q.api("DELETE", q.apiT("/connectors/%d", cn.ID), nil, nil); err != nil {
		return q.back(q.tpath("connectors"), err)
	}
	return q.done(q.tpath("connectors"), flash{ID: cn.ID,
		Text: fmt.Sprintf("Deleted connector %s: it no longer relays mail. Its record stays, and the deletion is in the audit log.", cn.Name)})
}

func (c *Console) confirmConnectorForm(q *req) error {
	cn, err := q.findConnector()
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "connector_confirm.html", "Confirm connector "+cn.Name, "connectors", cn)
}

// confirmConnector ends probation with a fresh TOTP code: the API's
// step-up, which only an admin's session (this one) can pass.
func (c *Console) confirmConnector(q *req) error {
	cn, err := q.findConnector()
	if err != nil {
		return err
	}
	code := strings.ReplaceAll(strings.TrimSpace(q.r.PostForm.Get("code")), " ", "")
	if err := q.api("POST", q.apiT("/connectors/%d/confirm", cn.ID), map[string]string{"code": code}, nil); err != nil {
		if isCode(err, "bad_credentials") {
			// A wrong code (an ended session is "unauthorized").
			return q.done(q.tpath(fmt.Sprintf("connectors/%d/confirm", cn.ID)), flash{Error: true,
				Text: "That code was not accepted. Codes change every 30 seconds and each works once: wait for the next one."})
		}
		if isStatus(err, http.StatusTooManyRequests) {
			return q.done(q.tpath("connectors"), flash{Error: true,
				Text: "Too many wrong codes: confirming (and signing in) is refused for up to 15 minutes."})
		}
		return q.back(q.tpath("connectors"), err)
	}
	return q.done(q.tpath("connectors"), flash{ID: cn.ID, Text: fmt.Sprintf("Confirmed connector %s: its probation quota no longer applies.", cn.Name)})
}
