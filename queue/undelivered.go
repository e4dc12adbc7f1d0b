package queue

import "strings"

// Why the queue itself gave up on a recipient (Options.Undelivered): the
// transport's own permanent failures are its results, not these.
const (
	CauseExpired    = "expired"          // still pending after queue.max_age
	CauseHeld       = "held"             // Options.Hold stopped it after acceptance
	CauseReturned   = "returned"         // an operator's Bounce
	CauseDropped    = "dropped"          // an operator's Drop: no DSN
	CauseUnreadable = "spool-unreadable" // the body could not be read
)

// pendingRcpts copies m's pending recipients, to tell Undelivered about
// them once they are failed or dropped.
func pendingRcpts(m *Message) []Recipient {
	var out []Recipient
	for _, rc := range m.Rcpts {
		if rc.Status == Pending {
			out = append(out, rc)
		}
	}
	return out
}

// undelivered tells Options.Undelivered about each of was (recipients that
// were pending) as m now has it, with its last result in results.
func (q *Queue) undelivered(m *Message, was []Recipient, results []Result, cause string) {
	if q.opts.Undelivered == nil || m.Kind == "dsn" || len(was) == 0 {
		return
	}
	last := make(map[string]Result, len(results))
	for _, r := range results {
		last[strings.ToLower(r.Rcpt)] = r
	}
	now := make(map[string]Recipient, len(m.Rcpts))
	for _, rc := range m.Rcpts {
		now[strings.ToLower(rc.Addr)] = rc
	}
	for _, rc := range was {
		key := strings.ToLower(rc.Addr)
		if cur, ok := now[key]; ok && cur.Status != Pending {
			rc = cur
		}
		q.opts.Undelivered(q.ctx, m, rc, last[key], cause)
	}
}
