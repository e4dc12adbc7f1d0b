package audit

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/store"
)

func verify(t *testing.T, l *Log) Report {
	t.Helper()
	r, err := l.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tamper runs raw SQL as someone with write access to the database would:
// first dropping the append-only triggers.
func tamper(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	for _, tr := range []string{"audit_log_no_update", "audit_log_no_delete", "audit_head_no_delete"} {
		if _, err := db.Write.Exec(`DROP TRIGGER IF EXISTS ` + tr); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Write.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// chain is a log of five entries on a fresh database.
func chain(t *testing.T) (*Log, *store.DB) {
	l, db, clock := newLog(t)
	for i, a := range []string{"tenant.create", "domain.add", "domain.verify", "connector.create", "connector.confirm"} {
		add(t, l, Entry{Actor: "admin:alice", TenantID: 1, Action: a, Target: "x:" + string(rune('a'+i)),
			After: json.RawMessage(`{"n":` + string(rune('0'+i)) + `}`)})
		clock.Advance(1e9)
	}
	return l, db
}

// wantBad checks Verify flags entry id with a problem mentioning each of mention.
func wantBad(t *testing.T, l *Log, id int64, mention ...string) {
	t.Helper()
	r := verify(t, l)
	if r.OK || r.FirstBad != id {
		t.Fatalf("Verify = %+v, want first bad entry %d", r, id)
	}
	for _, m := range mention {
		if !strings.Contains(r.Problem, m) {
			t.Errorf("problem %q does not mention %q", r.Problem, m)
		}
	}
}

func TestVerifyCleanChain(t *testing.T) {
	l, _, _ := newLog(t)
	if r := verify(t, l); !r.OK || r.Entries != 0 {
		t.Fatalf("empty log: %+v", r)
	}
	l, _ = chain(t)
	if r := verify(t, l); !r.OK || r.Entries != 5 || r.FirstBad != 0 || r.Problem != "" {
		t.Fatalf("clean chain: %+v", r)
	}
}

func TestVerifyEditedActor(t *testing.T) {
	l, db := chain(t)
	tamper(t, db, `UPDATE audit_log SET actor = 'admin:mallory' WHERE id = 3`)
	wantBad(t, l, 3, "edited")
}

func TestVerifyEditedAfter(t *testing.T) {
	l, db := chain(t)
	tamper(t, db, `UPDATE audit_log SET after_state = '{"n":9}' WHERE id = 4`)
	wantBad(t, l, 4, "edited")
}

func TestVerifyDeletedMiddleEntry(t *testing.T) {
	l, db := chain(t)
	tamper(t, db, `DELETE FROM audit_log WHERE id = 2`)
	wantBad(t, l, 2, "missing", "deleted")
}

func TestVerifyDeletedFirstEntry(t *testing.T) {
	l, db := chain(t)
	tamper(t, db, `DELETE FROM audit_log WHERE id = 1`)
	wantBad(t, l, 1, "missing")
}

func TestVerifyDeletedLastEntry(t *testing.T) {
	l, db := chain(t)
	tamper(t, db, `DELETE FROM audit_log WHERE id = 5`)
	wantBad(t, l, 5, "head", "deleted")
}

func TestVerifySwappedEntries(t *testing.T) {
	l, db := chain(t)
	tamper(t, db, `UPDATE audit_log SET id = -1 WHERE id = 3`)
	tamper(t, db, `UPDATE audit_log SET id = 3 WHERE id = 4`)
	tamper(t, db, `UPDATE audit_log SET id = 4 WHERE id = -1`)
	wantBad(t, l, 3)
}

// A forger who edits entry 3 and recomputes its hash still breaks entry 4's
// link to it.
func TestVerifyRecomputedHashForgery(t *testing.T) {
	l, db := chain(t)
	es, err := l.Query(t.Context(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	e := es[len(es)-3] // ID 3
	e.Actor = "admin:mallory"
	tamper(t, db, `UPDATE audit_log SET actor = $1, hash = $2 WHERE id = 3`, e.Actor, e.ComputeHash())
	wantBad(t, l, 4, "does not link")
}

func TestVerifyTamperedHead(t *testing.T) {
	l, db := chain(t)
	tamper(t, db, `UPDATE audit_head SET last_hash = 'beef'`)
	wantBad(t, l, 5, "head")
}

func TestVerifyEntryPastHead(t *testing.T) {
	l, db := chain(t)
	tamper(t, db, `UPDATE audit_head SET last_id = 4, last_hash = (SELECT hash FROM audit_log WHERE id = 4)`)
	wantBad(t, l, 5, "past the head")
}

func TestVerifyMissingHead(t *testing.T) {
	l, db := chain(t)
	tamper(t, db, `DELETE FROM audit_head`)
	wantBad(t, l, 5, "missing")
	if _, err := l.Append(t.Context(), Entry{Actor: "system", Action: "x"}); err == nil || !strings.Contains(err.Error(), "audit_head") {
		t.Fatalf("Append without head = %v", err)
	}
}
