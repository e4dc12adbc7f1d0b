package dryrun

import (
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/trace"
)

// The assembler reads whatever the trace holds — events of old versions,
// sessions cut off by the span's edges, attributes a hostile client chose
// (addresses, Message-IDs) — and never panics; a refusal it emits carries
// the code its trace detail gave.
func FuzzAssembler(f *testing.F) {
	f.Add("s1", "mail", "accept", "", "a@b", "", "", "250", int64(1))
	f.Add("s1", "rcpt", "reject", "limits", "", "x@y", "550 5.7.705 Access denied", "", int64(1))
	f.Add("s2", "data", "accept", "", "", "", "", "clean", int64(2))
	f.Add("s2", "connect", "accept", "", "", "", "", "9999999999999999999", int64(0))
	f.Fuzz(func(t *testing.T, session, stage, outcome, rule, from, rcpt, detail, attr string, tenant int64) {
		var got []transaction
		a := newAssembler(func(tx transaction) error { got = append(got, tx); return nil })
		at := time.Unix(1_800_000_000, 0)
		for i, st := range []string{"connect", "auth", stage, "mail", stage, "rcpt", stage, "data", stage} {
			e := trace.Entry{At: at.Add(time.Duration(i) * time.Second), Session: session, TenantID: tenant, Stage: st,
				Outcome: outcome, Rule: rule, Sender: from, Rcpt: rcpt, Detail: detail,
				Attrs: map[string]string{"client_ip": attr, "connector_id": attr, "user_id": attr, "verdict": attr,
					"score": attr, "size": attr, "list": attr, "is_bulk": attr, "fingerprint": attr, "tenant": attr}}
			if err := a.add(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.finish(); err != nil {
			t.Fatal(err)
		}
		for _, tx := range got {
			if tx.actual.refused && tx.actual.code != "" && codeOf(tx.actual.text) != tx.actual.code {
				t.Fatalf("code %q not from its text %q", tx.actual.code, tx.actual.text)
			}
		}
	})
}
