package suppress

import (
	"context"
	"errors"
	"testing"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// The lists on both stores: a tenant's entries hold for that tenant only,
// global ones for all; case does not matter; removal is audited.
func TestLists(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		log, err := audit.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(ctx, db, log)
		if err != nil {
			t.Fatal(err)
		}
		if _, added, err := s.Add(ctx, 1, "Ann@Example.net", HardBounce, "550 5.1.1 no such user", "system"); err != nil || !added {
			t.Fatalf("add: %v %v", added, err)
		}
		if _, added, _ := s.Add(ctx, 1, "ann@example.net", Complaint, "", "system"); added {
			t.Fatal("added twice")
		}
		if _, _, err := s.Add(ctx, Global, "trap@example.org", Manual, "", "admin:ops"); err != nil {
			t.Fatal(err)
		}
		chk := Check{Store: s}
		for _, c := range []struct {
			tenant int64
			rcpt   string
			want   policy.Action
		}{
			{1, "ANN@example.net", policy.Reject}, {2, "ann@example.net", policy.Accept},
			{2, "trap@example.org", policy.Reject}, {1, "bob@example.net", policy.Accept},
		} {
			env := &policy.Envelope{Attribution: policy.Attribution{TenantID: c.tenant}}
			if d := chk.Rcpt(ctx, env, c.rcpt); d.Action != c.want || (d.Action == policy.Reject && d.EnhancedString() != "5.1.92") {
				t.Errorf("tenant %d to %s: %v", c.tenant, c.rcpt, d)
			}
		}
		if l, err := s.List(ctx, 1, "ANN", 0); err != nil || len(l) != 1 || l[0].Reason != HardBounce {
			t.Fatalf("list: %+v %v", l, err)
		}
		if l, _ := s.List(ctx, 1, "%", 0); len(l) != 0 {
			t.Fatalf("a %% search matched %d entries", len(l))
		}
		if err := s.Remove(ctx, 2, "ann@example.net", "x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another tenant removed it: %v", err)
		}
		if err := s.Remove(ctx, 1, "ann@example.net", "admin:a"); err != nil {
			t.Fatal(err)
		}
		if got, _ := log.Query(ctx, audit.Filter{Action: "suppression.remove"}); len(got) != 1 || got[0].Actor != "admin:a" {
			t.Fatalf("audit: %+v", got)
		}
		if _, _, err := s.Add(ctx, 1, "no-at-sign", Manual, "", "x"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad address: %v", err)
		}
	})
}
