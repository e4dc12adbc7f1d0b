package audit

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// The audit log on both stores: concurrent appends make one valid chain,
// the database refuses edits, and an edit made anyway (triggers dropped, as
// someone with write access could) is caught by Verify. The PostgreSQL half
// skips, saying why, only when no server answers.
func TestChainOnBothStores(t *testing.T) { storetest.ForEach(t, testChainOnBothStores) }

func testChainOnBothStores(t *testing.T, db *store.DB) {
	ctx := context.Background()
	l := openLog(t, db)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if _, err := l.Append(ctx, Entry{Actor: fmt.Sprintf("worker:%d", g), TenantID: int64(g%2 + 1),
					Action: "connector.create", Target: fmt.Sprintf("connector:%d", i), After: []byte(`{"b":1,"a":2}`)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rep, err := l.Verify(ctx)
	if err != nil || !rep.OK || rep.Entries != 80 {
		t.Fatalf("clean chain: %+v %v", rep, err)
	}
	one := int64(1)
	got, err := l.Query(ctx, Filter{TenantID: &one, Action: "connector.create", Limit: 1000})
	if err != nil || len(got) != 40 {
		t.Fatalf("query tenant 1: %d entries, %v", len(got), err)
	}
	if _, err := db.Write.ExecContext(ctx, `UPDATE audit_log SET actor = 'x' WHERE id = 5`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("the database must refuse an edit: %v", err)
	}
	drop := []string{"DROP TRIGGER audit_log_no_update"}
	if db.Dialect == store.Postgres {
		drop = []string{"DROP TRIGGER audit_log_no_update ON audit_log"}
	}
	for _, q := range append(drop, `UPDATE audit_log SET actor = 'someone-else' WHERE id = 5`) {
		if _, err := db.Write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rep, err = l.Verify(ctx)
	if err != nil || rep.OK || rep.FirstBad != 5 {
		t.Fatalf("edited entry 5: %+v %v", rep, err)
	}
}

// The text search (LOWER … LIKE … ESCAPE) reads the same on both stores.
func TestTextOnBothStores(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := openLog(t, db)
		for _, e := range []Entry{
			{Actor: "token:Deploy-Bot", TenantID: 1, Action: "connector.create", Target: "connector:7"},
			{Actor: "admin:boss@alpha.test", TenantID: 1, Action: "token.revoke", Target: "token:deploy-bot"},
			{Actor: "admin:ops", Action: "tenant.create", Target: "tenant:100%_x"},
		} {
			if _, err := l.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		for text, want := range map[string]int{"deploy-bot": 2, "DEPLOY": 2, "100%_": 1, "0%x": 0, "_": 1, `\`: 0} {
			got, err := l.Query(ctx, Filter{Text: text})
			if err != nil || len(got) != want {
				t.Errorf("text %q: %d entries, %v; want %d", text, len(got), err, want)
			}
		}
	})
}
