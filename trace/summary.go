package trace

import (
	"strconv"
	"strings"
)

// summarize turns events (oldest first) into messages. A session's events
// are split into transactions at each MAIL; a transaction that was queued
// becomes the queued message (its delivery events join it by queue id);
// one that was refused stays a refused transaction of the session.
func summarize(entries []Entry) []Summary {
	var out []Summary
	byQueue := map[string]int{}
	cur := map[string]int{} // session → index of its open transaction in out
	var connect = map[string]Entry{}
	// Queue ids some session's transaction records as queued, and the
	// delivery events of those seen before that record.
	queuedIn := map[string]bool{}
	for _, e := range entries {
		if e.Session != "" && e.Stage == "queued" && e.QueueID != "" {
			queuedIn[e.QueueID] = true
		}
	}
	early := map[string][]Entry{}
	for _, e := range entries {
		switch {
		case e.Session != "" && e.Stage == "connect":
			connect[e.Session] = e
			continue
		case e.Session != "" && e.Stage == "mail":
			out = append(out, Summary{ID: "s:" + e.Session + ":" + strconv.FormatInt(e.At.UnixNano(), 36), Session: e.Session, TenantID: e.TenantID, Sender: e.Sender,
				First: e.At, Last: e.At, Status: "open"})
			cur[e.Session] = len(out) - 1
		case e.Session == "" && e.QueueID != "":
			i, ok := byQueue[e.QueueID]
			if !ok && queuedIn[e.QueueID] {
				// Delivered before the session recorded "queued" (the
				// queue starts on commit): it joins the transaction then.
				early[e.QueueID] = append(early[e.QueueID], e)
				continue
			}
			if !ok {
				out = append(out, Summary{ID: e.QueueID, QueueID: e.QueueID, TenantID: e.TenantID, First: e.At, Status: "queued"})
				i = len(out) - 1
				byQueue[e.QueueID] = i
			}
			delivery(&out[i], e)
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
			for _, d := range early[e.QueueID] {
				delivery(m, d)
			}
			delete(early, e.QueueID)
		}
	}
	_ = connect
	// Newest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// delivery applies a delivery event (no session) to its message.
func delivery(m *Summary, e Entry) {
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
}
