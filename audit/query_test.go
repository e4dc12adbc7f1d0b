package audit

import (
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"
)

// ids returns the IDs of es, to compare results at a glance.
func ids(es []Entry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func query(t *testing.T, l *Log, f Filter) []int64 {
	t.Helper()
	es, err := l.Query(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	return ids(es)
}

func TestQueryFilters(t *testing.T) {
	l, _, clock := newLog(t)
	start := clock.Now()
	for _, e := range []Entry{ // one hour apart, IDs 1..7
		{Actor: "seed", Action: "tenant.create", Target: "tenant:1"},
		{Actor: "admin:alice", TenantID: 1, Action: "connector.create", Target: "connector:1"},
		{Actor: "admin:bob", TenantID: 2, Action: "connector.create", Target: "connector:2"},
		{Actor: "admin:alice", TenantID: 1, Action: "connector.delete", Target: "connector:1"},
		{Actor: "admin:alice", TenantID: 1, Action: "connectors.export"},
		{Actor: "system", Action: "tenant.block", Target: "tenant:2"},
		{Actor: "admin:bob", TenantID: 2, SourceIP: "192.0.2.9", Action: "auth.signin.fail"},
	} {
		add(t, l, e)
		clock.Advance(time.Hour)
	}
	one, zero := int64(1), int64(0)
	for _, tc := range []struct {
		name string
		f    Filter
		want []int64
	}{
		{"all, newest first", Filter{}, []int64{7, 6, 5, 4, 3, 2, 1}},
		{"tenant", Filter{TenantID: &one}, []int64{5, 4, 2}},
		{"service-wide", Filter{TenantID: &zero}, []int64{6, 1}},
		{"actor", Filter{Actor: "admin:bob"}, []int64{7, 3}},
		{"action", Filter{Action: "connector.create"}, []int64{3, 2}},
		{"prefix stops at dots", Filter{ActionPrefix: "connector"}, []int64{4, 3, 2}},
		{"prefix with dot", Filter{ActionPrefix: "connector."}, []int64{4, 3, 2}},
		{"prefix of two levels", Filter{ActionPrefix: "auth.signin"}, []int64{7}},
		{"prefix is whole action", Filter{ActionPrefix: "tenant.block"}, []int64{6}},
		{"since inclusive", Filter{Since: start.Add(5 * time.Hour)}, []int64{7, 6}},
		{"until exclusive", Filter{Until: start.Add(2 * time.Hour)}, []int64{2, 1}},
		{"range", Filter{Since: start.Add(time.Hour), Until: start.Add(3 * time.Hour)}, []int64{3, 2}},
		{"combined", Filter{TenantID: &one, Actor: "admin:alice", ActionPrefix: "connector"}, []int64{4, 2}},
		{"limit", Filter{Limit: 2}, []int64{7, 6}},
		{"after id", Filter{AfterID: 6, Limit: 2}, []int64{5, 4}},
		{"nothing", Filter{Actor: "nobody"}, []int64{}},
		{"text in the actor, any case", Filter{Text: "BOB"}, []int64{7, 3}},
		{"text in the target", Filter{Text: "connector:1"}, []int64{4, 2}},
		{"text in the action", Filter{Text: "export"}, []int64{5}},
		{"text in the source address", Filter{Text: "192.0.2."}, []int64{7}},
		{"text with LIKE's wildcards matches them literally", Filter{Text: "a%b_"}, []int64{}},
		{"text and tenant", Filter{Text: "connector", TenantID: &one}, []int64{5, 4, 2}},
	} {
		if got := query(t, l, tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestQueryPagesAndLimits(t *testing.T) {
	l, db, _ := newLog(t)
	err := db.Tx(t.Context(), func(tx *sql.Tx) error { // one commit, not 1100
		for i := range 1100 {
			if _, err := l.AppendTx(t.Context(), tx, Entry{Actor: "system", Action: "token.use", Target: fmt.Sprint(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(query(t, l, Filter{})); n != DefaultLimit {
		t.Fatalf("default limit gave %d", n)
	}
	if n := len(query(t, l, Filter{Limit: 5000})); n != MaxLimit {
		t.Fatalf("limit 5000 gave %d, want capped at %d", n, MaxLimit)
	}
	var seen []int64
	after := int64(0)
	for {
		page := query(t, l, Filter{AfterID: after, Limit: 300})
		if len(page) == 0 {
			break
		}
		seen = append(seen, page...)
		after = page[len(page)-1]
	}
	if len(seen) != 1100 || seen[0] != 1100 || seen[1099] != 1 || !slices.IsSortedFunc(seen, func(a, b int64) int { return int(b - a) }) {
		t.Fatalf("paging saw %d entries from %d to %d", len(seen), seen[0], seen[len(seen)-1])
	}
}

// TestConnectorsCreatedInLastDays is the admin question "which connectors
// were created recently?" as one Query call.
func TestConnectorsCreatedInLastDays(t *testing.T) {
	l, _, clock := newLog(t)
	tenant := int64(4)
	created := func(name string) Entry {
		return add(t, l, Entry{Actor: "admin:alice", TenantID: tenant, Action: "connector.create",
			Target: "connector:" + name, After: []byte(`{"name":"` + name + `"}`)})
	}
	created("old")
	clock.Advance(10 * 24 * time.Hour)
	recent := created("recent")
	add(t, l, Entry{Actor: "admin:alice", TenantID: tenant, Action: "connector.delete", Target: "connector:old"})
	clock.Advance(24 * time.Hour)
	newest := created("newest")

	got, err := l.Query(t.Context(), Filter{TenantID: &tenant, Action: "connector.create", Since: clock.Now().AddDate(0, 0, -7)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), []int64{newest.ID, recent.ID}) || got[0].Target != "connector:newest" {
		t.Fatalf("connectors created in the last 7 days: %+v", got)
	}
}
