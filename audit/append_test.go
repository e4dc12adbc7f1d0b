package audit

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppendAssignsChainFields(t *testing.T) {
	l, _, clock := newLog(t)
	first := add(t, l, Entry{
		Actor: "admin:alice@example.net", TenantID: 7, SourceIP: "2001:DB8::1",
		Action: "connector.create", Target: "connector:12",
		After: json.RawMessage(`{ "name": "on-prem",  "ranges": ["192.0.2.0/24"] }`),
	})
	if first.ID != 1 || first.PrevHash != "" || !first.Time.Equal(clock.Now()) || first.Time.Location() != time.UTC {
		t.Fatalf("first = %+v", first)
	}
	if string(first.After) != `{"name":"on-prem","ranges":["192.0.2.0/24"]}` || first.Before != nil {
		t.Fatalf("states not compacted: before %q after %q", first.Before, first.After)
	}
	if first.SourceIP != "2001:db8::1" {
		t.Fatalf("source ip %q not canonical", first.SourceIP)
	}
	if len(first.Hash) != 64 || first.Hash != first.ComputeHash() {
		t.Fatalf("hash %q", first.Hash)
	}
	clock.Advance(time.Second)
	second := add(t, l, Entry{Actor: "system", Action: "tenant.block", Before: json.RawMessage(`null`)})
	if second.ID != 2 || second.PrevHash != first.Hash {
		t.Fatalf("second = %+v, want ID 2 linked to %s", second, first.Hash)
	}
	got, err := l.Query(t.Context(), Filter{})
	if err != nil || len(got) != 2 {
		t.Fatalf("Query = %d entries, %v", len(got), err)
	}
	if fmt.Sprint(got[1]) != fmt.Sprint(first) || fmt.Sprint(got[0]) != fmt.Sprint(second) {
		t.Fatalf("stored entries differ from returned:\n%+v\n%+v", got, []Entry{second, first})
	}
}

// TestHashEncoding pins the documented encoding with an independent
// construction and a fixed vector, so another implementation can check
// itself against the same numbers.
func TestHashEncoding(t *testing.T) {
	e := Entry{
		ID: 2, Time: time.Unix(1700000000, 123456789), Actor: "admin:alice@example.net", TenantID: 7,
		SourceIP: "192.0.2.1", Action: "connector.create", Target: "connector:12",
		After: json.RawMessage(`{"name":"x"}`), PrevHash: strings.Repeat("ab", 32),
	}
	var buf bytes.Buffer
	for _, f := range []string{"tollgate-audit-v1", e.PrevHash, "2", "1700000000123456789",
		e.Actor, "7", e.SourceIP, e.Action, e.Target, "", `{"name":"x"}`} {
		binary.Write(&buf, binary.BigEndian, uint64(len(f)))
		buf.WriteString(f)
	}
	sum := sha256.Sum256(buf.Bytes())
	want := hex.EncodeToString(sum[:])
	if got := e.ComputeHash(); got != want {
		t.Fatalf("ComputeHash = %s, independent construction = %s", got, want)
	}
	const vector = "82c969955f14543c6f11a6515151c850188715d2a1ec89555b99cdf8d9870ad2"
	if want != vector {
		t.Errorf("test vector changed: %s; the hash encoding must not change without a new version", want)
	}

	// Moving bytes between adjacent fields changes the hash.
	moved := e
	moved.Actor, moved.SourceIP = "admin:alice@example.net7", "92.0.2.1"
	if moved.ComputeHash() == e.ComputeHash() {
		t.Fatal("length prefixes do not separate fields")
	}
}

func TestAppendValidates(t *testing.T) {
	l, _, _ := newLog(t)
	ok := Entry{Actor: "system", Action: "domain.verify"}
	long := strings.Repeat("a", 201)
	for _, tc := range []struct {
		field string
		edit  func(*Entry)
	}{
		{"actor", func(e *Entry) { e.Actor = "" }},
		{"actor", func(e *Entry) { e.Actor = long }},
		{"actor", func(e *Entry) { e.Actor = "admin:eve\nsystem" }},
		{"actor", func(e *Entry) { e.Actor = "\xff" }},
		{"action", func(e *Entry) { e.Action = "" }},
		{"action", func(e *Entry) { e.Action = long }},
		{"action", func(e *Entry) { e.Action = "Connector.Create" }},
		{"action", func(e *Entry) { e.Action = "connector..create" }},
		{"action", func(e *Entry) { e.Action = "connector." }},
		{"target", func(e *Entry) { e.Target = strings.Repeat("t", MaxTargetLen+1) }},
		{"tenant", func(e *Entry) { e.TenantID = -1 }},
		{"source ip", func(e *Entry) { e.SourceIP = "192.0.2.1:25" }},
		{"before", func(e *Entry) { e.Before = json.RawMessage(`{"a":`) }},
		{"after", func(e *Entry) { e.After = json.RawMessage(`not json`) }},
		{"after", func(e *Entry) { e.After = json.RawMessage(`"` + strings.Repeat("x", MaxStateLen) + `"`) }},
	} {
		e := ok
		tc.edit(&e)
		_, err := l.Append(t.Context(), e)
		if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "audit: "+tc.field+": ") {
			t.Errorf("Append(%+.60v) = %v, want ErrInvalid naming %q", e, err, tc.field)
		}
	}
	if id, _, _ := l.Head(t.Context()); id != 0 {
		t.Fatalf("refused entries moved the head to %d", id)
	}
	add(t, l, ok)
}

func TestAppendTxCommitsWithCaller(t *testing.T) {
	ctx := t.Context()
	l, db, _ := newLog(t)
	add(t, l, Entry{Actor: "seed", Action: "tenant.create", Target: "tenant:1"})
	id0, h0, _ := l.Head(ctx)
	if _, err := db.Write.Exec(`CREATE TABLE widgets (name TEXT)`); err != nil {
		t.Fatal(err)
	}

	boom := errors.New("boom")
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO widgets VALUES ('w')`); err != nil {
			return err
		}
		if _, err := l.AppendTx(ctx, tx, Entry{Actor: "admin:bob", Action: "widget.create"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v", err)
	}
	if id, h, _ := l.Head(ctx); id != id0 || h != h0 {
		t.Fatalf("head moved to %d after rollback", id)
	}
	if got, _ := l.Query(ctx, Filter{Action: "widget.create"}); len(got) != 0 {
		t.Fatalf("rolled-back entry visible: %+v", got)
	}

	var e Entry
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO widgets VALUES ('w')`); err != nil {
			return err
		}
		e, err = l.AppendTx(ctx, tx, Entry{Actor: "admin:bob", Action: "widget.create"})
		return err
	})
	if err != nil || e.ID != 2 || e.PrevHash != h0 {
		t.Fatalf("committed AppendTx = %+v, %v", e, err)
	}
	if r := verify(t, l); !r.OK || r.Entries != 2 {
		t.Fatalf("Verify = %+v", r)
	}
}

func TestConcurrentAppendsMakeOneChain(t *testing.T) {
	l, _, _ := newLog(t)
	const workers, each = 20, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				_, err := l.Append(t.Context(), Entry{Actor: fmt.Sprintf("token:w%d", w), Action: "token.use", Target: fmt.Sprint(i)})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if r := verify(t, l); !r.OK || r.Entries != workers*each {
		t.Fatalf("Verify = %+v, want OK with %d entries", r, workers*each)
	}
}

func TestLogIsAppendOnlyInTheDatabase(t *testing.T) {
	l, db, _ := newLog(t)
	add(t, l, Entry{Actor: "system", Action: "tenant.block"})
	for _, q := range []string{
		`UPDATE audit_log SET actor = 'x'`,
		`DELETE FROM audit_log`,
		`DELETE FROM audit_head`,
	} {
		if _, err := db.Write.Exec(q); err == nil || !strings.Contains(err.Error(), "audit_") {
			t.Errorf("%s = %v, want refused by trigger", q, err)
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	l, _, _ := newLog(b)
	e := Entry{Actor: "admin:alice@example.net", TenantID: 3, SourceIP: "192.0.2.1", Action: "connector.create",
		Target: "connector:12", After: json.RawMessage(`{"name":"on-prem","ranges":["192.0.2.0/24"]}`)}
	for b.Loop() {
		if _, err := l.Append(b.Context(), e); err != nil {
			b.Fatal(err)
		}
	}
}
