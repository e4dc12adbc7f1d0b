package trace

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// openFor is how long a transaction without an outcome may still be in
// progress: longer than any SMTP command timeout, so one older than this
// was left by its client (QUIT or a dropped connection after RCPT).
const openFor = 10 * time.Minute

// summarize turns events (oldest first) into messages as of now. A
// session's events are split into transactions at each MAIL; a transaction
// that was queued becomes the queued message (its delivery events join it
// by queue id); one that was refused stays a refused transaction of the
// session. One that never got an outcome is "open" while it may still be
// in progress, and "abandoned" once another MAIL followed it or openFor
// passed: the client left before the message was sent.
func summarize(entries []Entry, now time.Time) []Summary {
	var out []Summary
	byQueue := map[string]int{}
	cur := map[string]int{} // session → index of its open transaction in out
	var connect = map[string]Entry{}
	// Session events first, then the delivery events: a delivery worker
	// can record its first attempt a moment before the session records
	// "queued" (the spool hands the message on as soon as it is on disk),
	// and an attempt seen first would open a second row for one message.
	ordered := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if e.Session != "" {
			ordered = append(ordered, e)
		}
	}
	for _, e := range entries {
		if e.Session == "" {
			ordered = append(ordered, e)
		}
	}
	for _, e := range ordered {
		switch {
		case e.Session != "" && e.Stage == "connect":
			connect[e.Session] = e
			continue
		case e.Session != "" && e.Stage == "mail":
			if i, ok := cur[e.Session]; ok && out[i].Status == "open" {
				out[i].Status = "abandoned"
			}
			c := connect[e.Session]
			out = append(out, Summary{Tenant: c.Attrs["tenant"], Connector: c.Attrs["connector"], ClientIP: c.Attrs["client_ip"], ID: "s:" + e.Session + ":" + strconv.FormatInt(e.At.UnixNano(), 36), Session: e.Session, TenantID: e.TenantID, Sender: e.Sender,
				First: e.At, Last: e.At, Status: "open"})
			cur[e.Session] = len(out) - 1
		case e.Session == "" && e.QueueID != "":
			i, ok := byQueue[e.QueueID]
			if !ok {
				out = append(out, Summary{ID: e.QueueID, QueueID: e.QueueID, TenantID: e.TenantID, First: e.At, Status: "queued"})
				i = len(out) - 1
				byQueue[e.QueueID] = i
			}
			m := &out[i]
			if e.At.After(m.Last) {
				m.Last = e.At
			}
			if pool := e.Attrs["pool"]; pool != "" {
				m.Pool = pool
			}
			switch e.Stage {
			case "delivered":
				m.Status = "delivered"
			case "bounced", "failed":
				m.Status = "bounced"
				m.Code = e.Attrs["code"]
			case "deferred":
				if m.Status == "queued" {
					m.Status = "deferred"
				}
			}
			continue
		}
		i, ok := cur[e.Session]
		if !ok || e.Session == "" {
			continue
		}
		m := &out[i]
		m.Last = e.At
		if m.TenantID == 0 {
			m.TenantID = e.TenantID
		}
		if t := e.Attrs["tenant"]; t != "" && m.Tenant == "" {
			m.Tenant = t
		}
		if e.Rcpt != "" && e.Outcome == "accept" {
			m.Recipients = append(m.Recipients, e.Rcpt)
		}
		if e.MessageID != "" {
			m.MessageID = e.MessageID
		}
		if v := e.Attrs["verdict"]; v != "" {
			m.Verdict = v
		}
		if v := e.Attrs["subject"]; v != "" {
			m.Subject = v
		}
		switch e.Outcome {
		case "reject", "defer":
			if e.Stage != "rcpt" || len(m.Recipients) == 0 {
				m.Status = map[string]string{"reject": "refused", "defer": "deferred"}[e.Outcome]
				m.Rule = e.Rule
				if f := strings.Fields(e.Detail); len(f) > 1 {
					m.Code = f[0] + " " + f[1]
				}
			}
			if e.Stage == "mail" || e.Stage == "data" {
				// The transaction is over: later events of the session
				// (another MAIL, an AUTH) are not this message's.
				delete(cur, e.Session)
			}
		}
		if e.Stage == "queued" && e.QueueID != "" {
			m.ID, m.QueueID, m.Status = e.QueueID, e.QueueID, "queued"
			m.Pool = e.Attrs["pool"]
			byQueue[e.QueueID] = i
			delete(cur, e.Session)
		}
	}
	for i := range out {
		if out[i].Status == "open" && now.Sub(out[i].Last) > openFor {
			out[i].Status = "abandoned"
		}
	}
	// Newest first (rows opened by delivery events alone came last).
	slices.SortStableFunc(out, func(a, b Summary) int { return b.First.Compare(a.First) })
	return out
}
