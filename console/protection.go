package console

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/client"
)

// The protection pages: a tenant's sending state with the block's rule,
// figures and evidence, today's volume and spam ratio and a chart of the
// last days (on the overview); restrictions with a release button; unblock
// requests (the tenant's form, the operator's queue with the evidence and
// the computed checklist); the per-tenant policy overrides; the message
// trace (trace.go); and IP reputation with exceptions (reputation.go).

// status is GET /api/v1/tenants/{tenant}/status.
type status struct {
	State          string                 `json:"state"` // sending, blocked, expired, probation
	Reason         string                 `json:"reason"`
	Block          *client.Block          `json:"block"`
	ProbationQuota int64                  `json:"probation_quota"`
	Restrictions   []client.Restriction   `json:"restrictions"`
	Today          client.DayStats        `json:"today"`
	TraceToday     *client.TraceCounts    `json:"trace_today"`
	SpamRatio      float64                `json:"spam_ratio_today"`
	Settings       map[string]any         `json:"settings"`
	PendingRequest *client.UnblockRequest `json:"pending_unblock_request"`
	Feedback       *client.Feedback       `json:"feedback"`
}

// protectionSummary is a tenant's standing as the overview and the
// operator's tenant list show it.
type protectionSummary struct {
	status
	Days  []client.DayStats // the last chartDays days, oldest first
	Chart *chart
}

// chartDays is how far back the overview's chart goes.
const chartDays = 14

// protectionSummary reads the tenant's status; with days, also its daily
// figures for the chart. A server without the protection state (the API
// answers 501) has no summary.
func (q *req) protectionSummary(days bool) (*protectionSummary, error) {
	var p protectionSummary
	if err := q.api("GET", q.apiT("/status"), nil, &p.status); err != nil {
		if isStatus(err, http.StatusNotImplemented) {
			return nil, nil
		}
		return nil, err
	}
	if !days {
		return &p, nil
	}
	var st struct {
		Days []client.DayStats `json:"days"`
	}
	if err := q.api("GET", q.apiT("/stats?days=%d", chartDays), nil, &st); err != nil {
		return nil, err
	}
	p.Days = oldestFirst(st.Days)
	p.Chart = newChart(p.Days)
	return &p, nil
}

func oldestFirst(ds []client.DayStats) []client.DayStats {
	out := append([]client.DayStats(nil), ds...)
	if len(out) > 1 && out[0].Day.After(out[len(out)-1].Day) {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

func operatorNav() []navItem {
	return []navItem{
		{"unblock-queue", "Unblock requests", Prefix + "unblock-requests"},
		{"blocks", "Blocks", blocksPath},
		{"reputation", "IP reputation", reputationPath},
		{"simulate", "Policy dry run", simulatePath},
		{"queue", "Queue", queuePath},
	}
}

func tenantNav(id int64) []navItem {
	return []navItem{
		{"trace", "Message trace", tenantPath(id, "trace")},
		{"restrictions", "Restrictions", tenantPath(id, "restrictions")},
		{"unblock", "Unblock requests", tenantPath(id, "unblock")},
		{"policy", "Sending limits", tenantPath(id, "policy")},
		{"suppressions", "Suppressed recipients", tenantPath(id, "suppressions")},
		{"event-webhook", "Delivery events", tenantPath(id, "event-webhook")},
	}
}

// protectionRoutes adds the protection pages.
func (c *Console) protectionRoutes(t func(pattern string, h handler)) {
	t("POST /console/t/{tenant}/block", c.blockTenant)
	t("POST /console/t/{tenant}/lift", c.liftBlock)
	t("GET /console/t/{tenant}/trace", c.tracePage)
	t("GET /console/t/{tenant}/trace/{id}", c.traceMessage)
	t("POST /console/t/{tenant}/trace/{id}/correction", c.correctMessage)
	t("POST /console/t/{tenant}/trace/{id}/correction/{correction}/withdraw", c.withdrawCorrection)
	t("GET /console/t/{tenant}/restrictions", c.restrictionsPage)
	t("POST /console/t/{tenant}/restrictions/{restriction}/release", c.releaseRestriction)
	t("GET /console/t/{tenant}/unblock", c.unblockPage)
	t("POST /console/t/{tenant}/unblock", c.requestUnblock)
	t("GET /console/t/{tenant}/policy", c.policyPage)
	t("POST /console/t/{tenant}/policy", c.setPolicy)
	t("GET /console/t/{tenant}/suppressions", c.suppressionsPage)
	t("POST /console/t/{tenant}/suppressions/remove", c.removeSuppression)
	c.mux.HandleFunc("GET /console/unblock-requests", c.operatorPage(c.unblockQueue))
	c.mux.HandleFunc("GET "+blocksPath, c.operatorPage(c.blocksPage))
	c.mux.HandleFunc("POST /console/unblock-requests/{request}/{decision}", c.operatorPage(c.decideUnblock))
	c.mux.HandleFunc("GET /console/reputation", c.operatorPage(c.reputationPage))
	c.mux.HandleFunc("GET /console/simulate", c.operatorPage(c.simulatePage))
	c.mux.HandleFunc("POST /console/reputation/exceptions", c.operatorPage(c.grantException))
	c.mux.HandleFunc("POST /console/reputation/exceptions/{exception}/revoke", c.operatorPage(c.revokeException))
	c.mux.HandleFunc("POST /console/reputation/lists", c.operatorPage(c.addListEntry))
	c.mux.HandleFunc("POST /console/reputation/lists/remove", c.operatorPage(c.removeListEntry))
	c.mux.HandleFunc("GET /console/queue", c.operatorPage(c.queuePage))
	c.mux.HandleFunc("POST /console/queue/{id}/{action}", c.operatorPage(c.queueAction))
}

// blockTenant lets an operator stop a tenant by hand, with a reason.
func (c *Console) blockTenant(q *req) error {
	reason := q.r.PostForm.Get("reason")
	if err := q.api("POST", q.apiT("/blocks"), map[string]string{"reason": reason}, nil); err != nil {
		return q.back(q.tpath(""), err)
	}
	return q.done(q.tpath(""), flash{Text: "Blocked " + q.tenant.Name + ": all its outbound mail is refused (550 5.7.705) until an unblock request is approved."})
}

// liftBlock is an operator lifting a block directly (the API's
// POST …/unblock): audited with the note.
func (c *Console) liftBlock(q *req) error {
	note := q.r.PostForm.Get("note")
	var b client.Block
	if err := q.api("POST", q.apiT("/unblock"), map[string]string{"note": note}, &b); err != nil {
		return q.back(q.tpath(""), err)
	}
	text := "Lifted the block of " + q.tenant.Name + ": it sends again now, without probation."
	if b.ProbationDays > 0 {
		text = fmt.Sprintf("Lifted the block of %s: it sends again on probation (%d messages per 24 h, doubling each clean day, for %d days).",
			q.tenant.Name, b.ProbationQuota, b.ProbationDays)
	}
	return q.done(q.tpath(""), flash{Text: text})
}

type restrictionsData struct {
	Restrictions []client.Restriction
	Now          time.Time
	All          bool
}

// restrictions lists the tenant's live restrictions for the users page
// (nil where the server has no protection state).
func (q *req) restrictions() ([]client.Restriction, error) {
	var rs struct{ Restrictions []client.Restriction }
	if err := q.api("GET", q.apiT("/restrictions"), nil, &rs); err != nil {
		if isStatus(err, http.StatusNotImplemented) {
			return nil, nil
		}
		return nil, err
	}
	return rs.Restrictions, nil
}

func (c *Console) restrictionsPage(q *req) error {
	all := q.r.URL.Query().Get("all") == "true"
	var rs struct{ Restrictions []client.Restriction }
	if err := q.api("GET", q.apiT("/restrictions?all=%t", all), nil, &rs); err != nil {
		return err
	}
	return q.render(http.StatusOK, "restrictions.html", "Restrictions", "restrictions", restrictionsData{rs.Restrictions, c.opts.Now(), all})
}

// releaseRestriction lets the sender (or connector) send again at once.
func (c *Console) releaseRestriction(q *req) error {
	id, err := pathID(q.r, "restriction")
	if err != nil {
		return err
	}
	back := q.r.PostForm.Get("back")
	if back != "users" {
		back = "restrictions"
	}
	var out client.Restriction
	if err := q.api("DELETE", q.apiT("/restrictions/%d", id), nil, &out); err != nil {
		return q.back(q.tpath(back), err)
	}
	return q.done(q.tpath(back), flash{ID: id, Text: fmt.Sprintf("Released %s %s: it can send again now.", out.Kind, out.Subject)})
}

// unblockRequest is an unblock request as the API shows it, with the
// block and the computed checklist.
type unblockRequest = client.UnblockRequest

type unblockData struct {
	Status   *protectionSummary
	Requests []unblockRequest
}

// unblockPage is the tenant's side: the block and its evidence, the form
// for cause and fix while blocked, and every request's status.
func (c *Console) unblockPage(q *req) error {
	p, err := q.protectionSummary(false)
	if err != nil {
		return err
	}
	var rs struct {
		Requests []unblockRequest `json:"unblock_requests"`
	}
	if err := q.api("GET", q.apiT("/unblock-requests"), nil, &rs); err != nil {
		return err
	}
	return q.render(http.StatusOK, "unblock.html", "Unblock requests", "unblock", unblockData{p, rs.Requests})
}

func (c *Console) requestUnblock(q *req) error {
	f := q.r.PostForm
	var u unblockRequest
	if err := q.api("POST", q.apiT("/unblock-requests"), map[string]string{"cause": f.Get("cause"), "fix": f.Get("fix")}, &u); err != nil {
		return q.back(q.tpath("unblock"), err)
	}
	return q.done(q.tpath("unblock"), flash{ID: u.ID,
		Text: "Your unblock request is sent. An operator reviews it against the evidence; this page shows its status."})
}

type queueData struct {
	Requests []unblockRequest
	Status   string
	Statuses []string
	List     listView
}

// unblockSorts are the queue's sorts (the API's keys).
var unblockSorts = []listSort{{"submitted", "Sent"}, {"tenant", "Tenant"}, {"status", "Status"}}

// unblockQueue is the operator's review queue: each request beside the
// block's evidence and the checklist Tollgate computed.
func (c *Console) unblockQueue(q *req) error {
	st := q.r.URL.Query().Get("status")
	switch st {
	case "", blocks.StatusPending, blocks.StatusApproved, blocks.StatusDenied, "all":
	default:
		return &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: fmt.Sprintf("status: %q is not pending, approved, denied or all", st)}
	}
	if st == "" {
		st = blocks.StatusPending
	}
	// Searched (tenant, cause, fix, who), sorted and paged by the API.
	rs, lv, err := listPage[unblockRequest](q, "/api/v1/unblock-requests?status="+st, "unblock_requests", "unblock requests",
		unblockSorts, "submitted", url.Values{"status": {st}})
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "unblock_queue.html", "Unblock requests", "unblock-queue",
		queueData{rs, st, []string{blocks.StatusPending, blocks.StatusApproved, blocks.StatusDenied, "all"}, lv})
}

func (c *Console) decideUnblock(q *req) error {
	id, err := pathID(q.r, "request")
	if err != nil {
		return err
	}
	decision := q.r.PathValue("decision")
	if decision != "approve" && decision != "deny" {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such decision: " + decision}
	}
	var u unblockRequest
	err = q.api("POST", fmt.Sprintf("/api/v1/unblock-requests/%d/%s", id, decision), map[string]string{"note": q.r.PostForm.Get("note")}, &u)
	if err != nil {
		return q.back(Prefix+"unblock-requests", err)
	}
	text := fmt.Sprintf("Denied the request of %s: the tenant stays blocked.", u.Tenant)
	if decision == "approve" {
		text = fmt.Sprintf("Approved the request of %s: it sends again, on probation.", u.Tenant)
	}
	return q.done(Prefix+"unblock-requests", flash{ID: id, Text: text})
}
