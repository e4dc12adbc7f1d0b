package trace

import (
	"testing"
	"time"
)

// The queue may deliver a message before its session records "queued"
// (delivery starts at the spool commit): the delivery still joins the
// session's transaction, so the message is one summary with its checks
// and its delivery, not two.
func TestSummarizeDeliveredBeforeQueued(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	entries := []Entry{
		{At: at(0), Session: "s1", TenantID: 1, Stage: "mail", Outcome: "accept", Sender: "a@x.test"},
		{At: at(1), Session: "s1", TenantID: 1, Stage: "classify", Outcome: "ok", Attrs: map[string]string{"verdict": "spam"}},
		{At: at(2), QueueID: "Q1", TenantID: 1, Stage: "delivered", Outcome: "ok"},
		{At: at(3), Session: "s1", QueueID: "Q1", TenantID: 1, Stage: "queued", Outcome: "ok"},
	}
	out := summarize(entries, at(3))
	if len(out) != 1 {
		t.Fatalf("%d summaries, want 1: %+v", len(out), out)
	}
	m := out[0]
	if m.ID != "Q1" || m.Status != "delivered" || m.Verdict != "spam" || m.Session != "s1" || !m.Last.Equal(at(3)) {
		t.Errorf("summary %+v", m)
	}
	for _, e := range entries {
		if !belongs(e, m) {
			t.Errorf("event %s not in the message", e.Stage)
		}
	}
}
