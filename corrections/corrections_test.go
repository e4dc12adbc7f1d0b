package corrections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/classify"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

func open(t *testing.T, db *store.DB, log *audit.Log) *Store {
	t.Helper()
	s, err := Open(context.Background(), db, Options{Audit: log, Refresh: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A mark is stored with its audit entry, applies on the node that made it
// at once, on another node after its reload, after a restart, and only
// for its tenant; the latest mark of a band wins.
func TestMarks(t *testing.T) { storetest.ForEach(t, testMarks) }

func testMarks(t *testing.T, db *store.DB) {
	ctx := context.Background()
	log, err := audit.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	a := open(t, db, log)
	b := open(t, storetest.Reopen(t, db), nil) // another node

	m, err := a.Mark(ctx, Mark{TenantID: 1, Tenant: "acme", Message: "Q1", Fingerprint: "aa-bb-cc-dd", Label: LabelNotSpam,
		MarkedBy: By(false, "admin:ann@acme.test"), Actor: "admin:ann@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	c, ok, _ := a.Lookup(ctx, "acme", []string{"zz", "cc"})
	if !ok || c.Spam || c.By != "tenant admin ann@acme.test" || c.Message != "Q1" || !c.At.Equal(m.MarkedAt) {
		t.Fatalf("lookup on the marking node: %+v %v", c, ok)
	}
	if _, ok, _ := a.Lookup(ctx, "globex", []string{"cc"}); ok {
		t.Error("another tenant's content matched acme's correction")
	}
	if _, ok, _ := b.Lookup(ctx, "acme", []string{"cc"}); ok {
		t.Error("the other node knew the mark before its reload (the test would prove nothing)")
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if c, ok, _ := b.Lookup(ctx, "acme", []string{"cc"}); !ok || c.Spam {
		t.Errorf("the other node after reload: %+v %v", c, ok)
	}
	// A later "spam" on one band wins there; the other bands keep theirs.
	if _, err := b.Mark(ctx, Mark{TenantID: 1, Tenant: "acme", Message: "Q2", Fingerprint: "cc-ee", Label: LabelSpam, MarkedBy: By(true, "token:bootstrap")}); err != nil {
		t.Fatal(err)
	}
	restarted := open(t, storetest.Reopen(t, db), nil)
	if c, ok, _ := restarted.Lookup(ctx, "acme", []string{"cc"}); !ok || !c.Spam || c.By != "operator token:bootstrap" {
		t.Errorf("after a restart, the latest mark of band cc: %+v %v", c, ok)
	}
	if c, ok, _ := restarted.Lookup(ctx, "acme", []string{"aa"}); !ok || c.Spam {
		t.Errorf("after a restart, band aa: %+v %v", c, ok)
	}
	ms, err := restarted.List(ctx, Filter{TenantID: 1})
	if err != nil || len(ms) != 2 || ms[0].Message != "Q2" {
		t.Errorf("list: %+v %v", ms, err)
	}
	es, err := log.Query(ctx, audit.Filter{Action: "classify.correct"})
	if err != nil || len(es) != 1 {
		t.Fatalf("audit entries: %+v %v", es, err)
	}
	if e := es[0]; e.Actor != "admin:ann@acme.test" || e.TenantID != 1 || e.Target != "Q1" ||
		!strings.Contains(string(e.After), `"fingerprint":"aa-bb-cc-dd"`) || !strings.Contains(string(e.After), `"label":"not_spam"`) {
		t.Errorf("audit entry: %+v %s", e, e.After)
	}
	for _, bad := range []Mark{
		{TenantID: 1, Tenant: "acme", Message: "Q3", Label: LabelSpam, MarkedBy: "x"},
		{TenantID: 1, Tenant: "acme", Message: "Q3", Fingerprint: "aa", Label: "ham", MarkedBy: "x"},
		{Tenant: "acme", Message: "Q3", Fingerprint: "aa", Label: LabelSpam, MarkedBy: "x"},
	} {
		if _, err := a.Mark(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("mark %+v: %v, want ErrInvalid", bad, err)
		}
	}
}

var _ classify.Corrections = (*Store)(nil)

// A mark's words move its tenant's weights, bounded, on every node; a
// withdrawn mark stops matching and its words stop moving on the node that
// withdrew it at once and on the others after their reload, also after a
// restart; another tenant's mark cannot be withdrawn (not found), nor one
// twice; the withdrawal is audited.
func TestWithdrawAndTokens(t *testing.T) { storetest.ForEach(t, testWithdrawAndTokens) }

func testWithdrawAndTokens(t *testing.T, db *store.DB) {
	ctx := context.Background()
	log, err := audit.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	a := open(t, db, log)
	b := open(t, storetest.Reopen(t, db), nil)
	key := func(name string) uint32 {
		k, ok := classify.TokenKey(name)
		if !ok {
			t.Fatalf("TokenKey(%q) not a word", name)
		}
		return k
	}
	tokens := []string{"body:click", "subject:free", "url:bit.ly"}
	m1, err := a.Mark(ctx, Mark{TenantID: 1, Tenant: "acme", Message: "Q1", Fingerprint: "aa-bb", Tokens: tokens, Label: LabelNotSpam, MarkedBy: "tenant admin ann"})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.TokenAdjustments("acme")[key("body:click")]; got != -classify.AdjustStep {
		t.Errorf("one not-spam mark moved body:click by %v, want %v", got, -classify.AdjustStep)
	}
	if a.TokenAdjustments("globex") != nil {
		t.Error("acme's mark adjusted globex's words")
	}
	// Five more marks naming body:click: the word stays within its bound.
	var last Mark
	for i := range 5 {
		if last, err = a.Mark(ctx, Mark{TenantID: 1, Tenant: "acme", Message: fmt.Sprintf("R%d", i), Fingerprint: fmt.Sprintf("c%d-d%d", i, i),
			Tokens: []string{"body:click"}, Label: LabelNotSpam, MarkedBy: "tenant admin ann"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.TokenAdjustments("acme")[key("body:click")]; got != -classify.AdjustWordMax {
		t.Errorf("six marks moved body:click by %v, want the bound %v", got, -classify.AdjustWordMax)
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := b.TokenAdjustments("acme")[key("subject:free")]; got != -classify.AdjustStep {
		t.Errorf("the other node's subject:free after reload: %v", got)
	}
	for _, bad := range [][]string{{"rule:LINK_IP"}, {"nonsense"}, {"body:"}} {
		if _, err := a.Mark(ctx, Mark{TenantID: 1, Tenant: "acme", Message: "Q9", Fingerprint: "ee", Tokens: bad, Label: LabelSpam, MarkedBy: "x"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("a mark with tokens %q: %v, want ErrInvalid", bad, err)
		}
	}

	// Another tenant's admin cannot withdraw acme's mark; acme's can, once.
	if _, err := a.Withdraw(ctx, 2, m1.ID, "tenant admin bob", "admin:bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("globex withdrew acme's mark: %v", err)
	}
	if _, err := a.Withdraw(ctx, 1, 99999, "tenant admin ann", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("a missing mark: %v", err)
	}
	w, err := a.Withdraw(ctx, 1, m1.ID, "tenant admin ann", "admin:ann")
	if err != nil || w.WithdrawnAt == nil || w.WithdrawnBy != "tenant admin ann" {
		t.Fatalf("withdraw: %+v %v", w, err)
	}
	if _, err := a.Withdraw(ctx, 0, m1.ID, "operator ops", ""); !errors.Is(err, ErrWithdrawn) {
		t.Errorf("withdrawn twice: %v", err)
	}
	if _, ok, _ := a.Lookup(ctx, "acme", []string{"aa"}); ok {
		t.Error("the withdrawn mark still matches on the node that withdrew it")
	}
	if got := a.TokenAdjustments("acme"); got[key("subject:free")] != 0 || got[key("body:click")] != -classify.AdjustWordMax {
		t.Errorf("after the withdrawal: subject:free %v (want 0), body:click %v (the other marks', bounded)", got[key("subject:free")], got[key("body:click")])
	}
	if _, ok, _ := b.Lookup(ctx, "acme", []string{"aa"}); !ok {
		t.Error("the other node dropped the mark before its reload (the test would prove nothing)")
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.Lookup(ctx, "acme", []string{"aa"}); ok {
		t.Error("the other node still matches the withdrawn mark after its reload")
	}
	if got := b.TokenAdjustments("acme")[key("subject:free")]; got != 0 {
		t.Errorf("the other node's subject:free after the withdrawal: %v", got)
	}
	// The latest mark in force on a band wins again once a newer one is withdrawn.
	if _, err := a.Withdraw(ctx, 0, last.ID, "operator ops", ""); err != nil {
		t.Fatal(err)
	}
	restarted := open(t, storetest.Reopen(t, db), nil)
	if _, ok, _ := restarted.Lookup(ctx, "acme", []string{"aa", "c4"}); ok {
		t.Error("after a restart a withdrawn mark matches")
	}
	if _, ok, _ := restarted.Lookup(ctx, "acme", []string{"c3"}); !ok {
		t.Error("after a restart a mark in force does not match")
	}
	if got := restarted.TokenAdjustments("acme")[key("body:click")]; got != -classify.AdjustWordMax {
		t.Errorf("after a restart body:click %v, want the bound %v (four marks in force)", got, -classify.AdjustWordMax)
	}
	active, err := restarted.List(ctx, Filter{TenantID: 1, Active: true})
	if err != nil || len(active) != 4 {
		t.Errorf("marks in force: %d %v", len(active), err)
	}
	one, err := restarted.List(ctx, Filter{TenantID: 1, Message: "Q1"})
	if err != nil || len(one) != 1 || one[0].WithdrawnAt == nil || strings.Join(one[0].Tokens, " ") != strings.Join(tokens, " ") {
		t.Errorf("the withdrawn mark in the list: %+v %v", one, err)
	}
	es, err := log.Query(ctx, audit.Filter{Action: "classify.correct.withdraw"})
	if err != nil || len(es) != 2 {
		t.Fatalf("audit of the withdrawals: %+v %v", es, err)
	}
	for _, e := range es {
		if e.TenantID != 1 || e.Before == nil || !strings.Contains(string(e.Before), `"label":"not_spam"`) {
			t.Errorf("withdrawal audit entry: %+v %s", e, e.Before)
		}
	}
}
