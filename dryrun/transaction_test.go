package dryrun

import (
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/trace"
)

// A submission session as the trace holds it (the connect event has no
// tenant and is not read; AUTH attributes the session): two transactions,
// the first delivered to one of its two recipients, the second refused at
// RCPT for a restricted sender and never reaching DATA. The assembler
// rebuilds the login, the envelopes, the verdict and both answers.
func TestAssembleSubmissionSession(t *testing.T) {
	at := time.Unix(1_800_000_000, 0).UTC()
	ev := func(sec int, stage, outcome, rule, detail string, kv ...string) trace.Entry {
		e := trace.Entry{At: at.Add(time.Duration(sec) * time.Second), Session: "s1", TenantID: 7, Stage: stage, Outcome: outcome,
			Rule: rule, Detail: detail, Attrs: map[string]string{"client_ip": "192.0.2.9", "listener": "submission", "tenant": "acme"}}
		for i := 0; i+1 < len(kv); i += 2 {
			e.Attrs[kv[i]] = kv[i+1]
		}
		e.Sender, e.Rcpt, e.MessageID = e.Attrs["from"], e.Attrs["rcpt"], e.Attrs["message_id"]
		return e
	}
	events := []trace.Entry{
		ev(0, "auth", "accept", "auth", "", "user", "ann@acme.test", "user_id", "42", "app_password_id", "5"),
		ev(1, "mail", "accept", "", "", "from", "ann@acme.test"),
		ev(2, "rcpt", "accept", "", "", "rcpt", "bob@example.net"),
		ev(3, "rcpt", "reject", "limits", "550 5.1.90 recipients per day", "rcpt", "carol@example.net"),
		ev(4, "data", "accept", "", "", "message_id", "<m1@acme.test>", "verdict", "spam", "score", "7.50", "is_bulk", "false",
			"list", "true", "fingerprint", "ab12", "subject", "Hi", "header_from", "Ann <ann@acme.test>"),
		ev(5, "mail", "accept", "", "", "from", "ann@acme.test"),
		ev(6, "rcpt", "reject", "restricted", "550 5.1.8 Access denied, bad outbound sender", "rcpt", "dave@example.net"),
	}
	var got []transaction
	a := newAssembler(func(tx transaction) error { got = append(got, tx); return nil })
	for _, e := range events {
		if err := a.add(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.finish(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d transactions, want 2: %+v", len(got), got)
	}
	first, second := got[0], got[1]
	env := first.env
	if env.TenantID != 7 || env.User != "ann@acme.test" || env.UserID != 42 || env.AppPasswordID != 5 || env.Method != "auth" ||
		env.Listener != "submission" || env.ClientIP.String() != "192.0.2.9" || env.From != "ann@acme.test" {
		t.Fatalf("first envelope: %+v", env)
	}
	if len(env.Rcpts) != 2 || len(first.rcpts) != 1 || first.rcpts[0] != "bob@example.net" {
		t.Fatalf("first recipients: tried %v, accepted %v", env.Rcpts, first.rcpts)
	}
	m := first.msg
	if !first.reachedData || first.actual.refused || m.MessageID != "<m1@acme.test>" || m.Verdict.Class != "spam" || m.Verdict.Score != 7.5 ||
		!m.ListMail || m.Verdict.Fingerprint != "ab12" || m.HeaderFrom != "Ann <ann@acme.test>" || !first.at.Equal(at.Add(4*time.Second)) {
		t.Fatalf("first message: %+v, answer %+v", m, first.actual)
	}
	if second.reachedData || !second.actual.refused || second.actual.code != "5.1.8" || second.actual.stage != "rcpt" || !second.actual.stops() {
		t.Fatalf("second answer: %+v", second.actual)
	}
}
