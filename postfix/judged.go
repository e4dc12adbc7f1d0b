package postfix

import (
	"sync"
	"time"
)

// judged remembers the Postfix queue ids whose envelope the policy
// service judged (it learns the id from the DATA request, as Postfix
// opens the queue file only after the first accepted RCPT), so the milter
// runs the MAIL and RCPT checks itself exactly for the messages the
// policy service never saw — it was down, or not configured — and no
// counter counts a message twice.
type judged struct {
	mu  sync.Mutex
	ids map[string]time.Time
}

// Bounds of the set: a message reaches the end of DATA within Postfix's
// timeouts (smtpd_timeout, milter_content_timeout: minutes), and a busy
// node sees a few hundred messages a second.
const (
	judgedTTL = time.Hour
	judgedMax = 200000
)

func newJudged() *judged { return &judged{ids: map[string]time.Time{}} }

func (j *judged) add(queueID string, now time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.ids) >= judgedMax {
		for id, at := range j.ids {
			if now.Sub(at) > judgedTTL {
				delete(j.ids, id)
			}
		}
		if len(j.ids) >= judgedMax {
			// Still full: forget all. The milter then runs the envelope
			// checks again for messages in flight: counted twice, never
			// skipped.
			clear(j.ids)
		}
	}
	j.ids[queueID] = now
}

// take reports whether queueID was judged, and forgets it.
func (j *judged) take(queueID string, now time.Time) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	at, ok := j.ids[queueID]
	delete(j.ids, queueID)
	return ok && now.Sub(at) <= judgedTTL
}
