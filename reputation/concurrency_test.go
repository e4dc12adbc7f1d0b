package reputation

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// Two nodes observing, assessing and syncing at once from many goroutines
// lose no message and count none twice (run with -race).
func TestConcurrentNodes(t *testing.T) { storetest.ForEach(t, testConcurrentNodes) }

func testConcurrentNodes(t *testing.T, db *store.DB) {
	ctx := context.Background()
	clk := newClock()
	nodes := []*Tracker{open(t, db, Config{Clock: clk.Now}), open(t, storetest.Reopen(t, db), Config{Clock: clk.Now})}
	const goroutines, perG, ips = 8, 200, 5
	var wg sync.WaitGroup
	for g := range goroutines {
		tr := nodes[g%2]
		wg.Go(func() {
			for i := range perG {
				ip := addr(fmt.Sprintf("192.0.2.%d", i%ips))
				tr.Observe(ip, i%4 == 0)
				tr.Assess(ctx, int64(g), ip, clk.Now())
				if i%50 == 0 {
					if err := tr.Sync(ctx); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	for _, tr := range nodes {
		if err := tr.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var messages, spam int64
	if err := db.Read.QueryRowContext(ctx, `SELECT SUM(messages), SUM(spam) FROM reputation_ips`).Scan(&messages, &spam); err != nil {
		t.Fatal(err)
	}
	if messages != goroutines*perG || spam != goroutines*perG/4 {
		t.Errorf("stored %d messages, %d spam; want %d and %d", messages, spam, goroutines*perG, goroutines*perG/4)
	}
	for i, tr := range nodes {
		if err := tr.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if r, _ := tr.Record(ctx, addr("192.0.2.0"), clk.Now()); r.Messages != goroutines*perG/ips {
			t.Errorf("node %d sees %d messages from 192.0.2.0, want %d", i, r.Messages, goroutines*perG/ips)
		}
	}
}
