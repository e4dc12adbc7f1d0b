package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/client"
)

// The message trace: "what happened to this message?" answered from
// /api/v1/trace, by sender, recipient, message id, queue id and time; per
// message every step with its decision, rule and figures.

type traceData struct {
	Sender, Recipient, MessageID, QueueID, Since, Until string
	Searched                                            bool
	Messages                                            []client.TraceSummary
	Error                                               string
	// Older pages on: the same search for messages before the last shown.
	Older string
}

// tracePage size: the API's answer per page.
const tracePageSize = 100

func (c *Console) tracePage(q *req) error {
	in := q.r.URL.Query()
	d := traceData{Sender: strings.TrimSpace(in.Get("sender")), Recipient: strings.TrimSpace(in.Get("recipient")),
		MessageID: strings.TrimSpace(in.Get("message_id")), QueueID: strings.TrimSpace(in.Get("queue_id")),
		Since: in.Get("since"), Until: in.Get("until"), Searched: len(in) > 0}
	p := url.Values{"tenant": {strconv.FormatInt(q.tenant.ID, 10)}, "limit": {strconv.Itoa(tracePageSize)}}
	for k, v := range map[string]string{"sender": d.Sender, "recipient": d.Recipient, "message_id": d.MessageID, "queue_id": d.QueueID} {
		if v != "" {
			p.Set(k, v)
		}
	}
	for _, f := range []struct{ key, v string }{{"since", d.Since}, {"until", d.Until}} {
		if f.v == "" {
			continue
		}
		t, err := parseLocalTime(f.v)
		if err != nil {
			d.Error = fmt.Sprintf("%s: %v", f.key, err)
			return q.render(http.StatusBadRequest, "trace.html", "Message trace", "trace", d)
		}
		p.Set(f.key, t.Format(time.RFC3339))
	}
	// before (from an "Older messages" link) narrows until to the first
	// event of the last message shown.
	if v := in.Get("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			d.Error = fmt.Sprintf("before: %q is not an RFC 3339 time", v)
			return q.render(http.StatusBadRequest, "trace.html", "Message trace", "trace", d)
		}
		p.Set("until", t.Format(time.RFC3339Nano))
	}
	var ans client.TraceSearch
	if err := q.api("GET", "/api/v1/trace?"+p.Encode(), nil, &ans); err != nil {
		if isStatus(err, http.StatusBadRequest) {
			d.Error = messageOf(err)
			return q.render(http.StatusBadRequest, "trace.html", "Message trace", "trace", d)
		}
		return err
	}
	d.Messages = ans.Messages
	if n := len(d.Messages); n == tracePageSize {
		older := url.Values{}
		for k, vs := range in {
			older[k] = vs
		}
		older.Set("before", d.Messages[n-1].First.UTC().Format(time.RFC3339Nano))
		d.Older = "?" + older.Encode()
	}
	return q.render(http.StatusOK, "trace.html", "Message trace", "trace", d)
}

// parseLocalTime reads a date or a datetime-local field's value, as UTC.
func parseLocalTime(v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time such as 2026-11-23T08:00", v)
}

type traceMessageData struct {
	Message client.TraceSummary
	Events  []client.TraceEvent
	// Correctable: the message has a tenant and a content fingerprint, so
	// an admin can mark it not spam or spam.
	Correctable bool
	// Marks are the corrections of this message (in force and withdrawn),
	// each with a withdraw button while in force.
	Marks []client.Correction
	// Uncorrectable says why a tenant's classified message has no
	// correction buttons (no fingerprint), "" otherwise.
	Uncorrectable string
}

func (c *Console) traceMessage(q *req) error {
	id := q.r.PathValue("id")
	var ans client.TraceMessage
	if err := q.api("GET", "/api/v1/trace/"+url.PathEscape(id), nil, &ans); err != nil {
		return err
	}
	// An operator reads any message; keep it under its own tenant's pages.
	if ans.Message.TenantID != 0 && ans.Message.TenantID != q.tenant.ID {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "message " + id + " is not in this tenant's trace"}
	}
	d := traceMessageData{Message: ans.Message, Events: ans.Events}
	classified := false
	for _, e := range ans.Events {
		classified = classified || e.Stage == "classify"
		d.Correctable = d.Correctable || (e.Stage == "classify" && e.Attrs["fingerprint"] != "" && ans.Message.TenantID != 0)
	}
	if classified && !d.Correctable && ans.Message.TenantID != 0 {
		d.Uncorrectable = "This message cannot be marked: it has too little text to fingerprint, the classifier failed on it, or it was classified before rspamd's verdicts were fingerprinted. Later mail is matched by the fingerprint taken when it is classified."
	}
	if ans.Message.TenantID != 0 {
		var marks client.Corrections
		// Without the corrections store the page still shows the message.
		if err := q.api("GET", "/api/v1/corrections?message="+url.QueryEscape(id), nil, &marks); err == nil {
			d.Marks = marks.Corrections
		}
	}
	return q.render(http.StatusOK, "trace_message.html", "Message "+id, "trace", d)
}

// correctMessage marks a traced message not spam or spam (the buttons on
// its page): later mail with the same content from the tenant gets that
// verdict. The API checks that the message is the admin's tenant's.
func (c *Console) correctMessage(q *req) error {
	id := q.r.PathValue("id")
	page := q.tpath("trace") + "/" + url.PathEscape(id)
	label := q.r.PostForm.Get("label")
	if label != "not_spam" && label != "spam" {
		return q.back(page, &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: "choose not spam or spam"})
	}
	// An operator reads any message; it corrects one under its own tenant's pages.
	var ans client.TraceMessage
	if err := q.api("GET", "/api/v1/trace/"+url.PathEscape(id), nil, &ans); err != nil {
		return err
	}
	if ans.Message.TenantID != q.tenant.ID {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "message " + id + " is not in this tenant's trace"}
	}
	if err := q.api("POST", "/api/v1/trace/"+url.PathEscape(id)+"/correction", map[string]string{"label": label}, nil); err != nil {
		return q.back(page, err)
	}
	return q.done(page, flash{Text: fmt.Sprintf("Marked %s %s: later mail with the same content from this tenant gets that verdict, with your correction as the reason.",
		id, strings.ReplaceAll(label, "_", " "))})
}

// withdrawCorrection withdraws a correction of a traced message (the
// button beside it on the message's page). The API checks the correction
// is the admin's tenant's; the page checks it is this message's.
func (c *Console) withdrawCorrection(q *req) error {
	id := q.r.PathValue("id")
	page := q.tpath("trace") + "/" + url.PathEscape(id)
	cid, err := strconv.ParseInt(q.r.PathValue("correction"), 10, 64)
	if err != nil || cid <= 0 {
		return q.back(page, &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: "no such correction"})
	}
	var marks client.Corrections
	if err := q.api("GET", "/api/v1/corrections?message="+url.QueryEscape(id), nil, &marks); err != nil {
		return err
	}
	mine := false
	for _, m := range marks.Corrections {
		mine = mine || m.ID == cid && m.TenantID == q.tenant.ID
	}
	if !mine {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "correction " + strconv.FormatInt(cid, 10) + " is not one of this message's"}
	}
	if err := q.api("DELETE", "/api/v1/corrections/"+strconv.FormatInt(cid, 10), nil, nil); err != nil {
		return q.back(page, err)
	}
	return q.done(page, flash{Text: fmt.Sprintf("Withdrew correction %d: that content and its words get the model's verdict again (on every node within seconds).", cid)})
}
