package corrections

import (
	"context"
	"errors"
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
