package nodes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// On both stores: a report replaces the node's last one, an old report is
// stale, a node silent for a day is forgotten, and bad reports are refused.
func TestReports(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		s, err := Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Open(ctx, db); err != nil { // a second node opening the same store
			t.Fatal(err)
		}
		now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		a, b, c := Node{"id-a", "a.example"}, Node{"id-b", "b.example"}, Node{"id-c", "c.example"}
		must(s.Report(ctx, b, 7, now.Add(-time.Minute)))
		must(s.Report(ctx, a, 3, now.Add(-2*time.Minute)))
		must(s.Report(ctx, a, 5, now.Add(-time.Second))) // replaces
		must(s.Report(ctx, Node{"id-gone", "gone.example"}, 9, now.Add(-25*time.Hour)))
		must(s.Report(ctx, c, 0, now)) // forgets gone.example
		got, err := s.List(ctx, now)
		must(err)
		if s := fmt.Sprint(got); s != fmt.Sprint([]Report{
			{a, 5, now.Add(-time.Second), false},
			{b, 7, now.Add(-time.Minute), true},
			{c, 0, now, false},
		}) {
			t.Fatalf("reports: %s", s)
		}
		// Exactly StaleAfter old still counts; a nanosecond more does not.
		must(s.Report(ctx, c, 1, now.Add(-StaleAfter)))
		if got, _ := s.List(ctx, now); got[2].Stale {
			t.Fatal("a report StaleAfter old is stale")
		}
		if got, _ := s.List(ctx, now.Add(time.Nanosecond)); !got[2].Stale {
			t.Fatal("a report older than StaleAfter is current")
		}
		for _, c := range []struct {
			node  Node
			depth int
		}{{Node{"id", ""}, 1}, {Node{"id", "  "}, 1}, {Node{"id", "x"}, -1}, {Node{"", "x"}, 1}, {Node{"a b", "x"}, 1}} {
			if err := s.Report(ctx, c.node, c.depth, now); !errors.Is(err, ErrInvalid) {
				t.Errorf("Report(%q, %d): %v, want ErrInvalid", c.node, c.depth, err)
			}
		}
		// Run reports at once and says when it cannot count its queue.
		stop, err := s.Run(ctx, Node{"id-run", "run.example"}, 0, func(ctx context.Context) (int, error) { return 4, nil }, slog.New(slog.NewTextHandler(io.Discard, nil)))
		must(err)
		stop()
		got, _ = s.List(ctx, time.Now())
		found := false
		for _, r := range got {
			found = found || (r.Hostname == "run.example" && r.QueueDepth == 4 && !r.Stale)
		}
		if !found {
			t.Fatalf("Run's first report is missing: %v", got)
		}
		if _, err := s.Run(ctx, Node{"id-bad", "bad.example"}, 0, func(ctx context.Context) (int, error) { return 0, errors.New("spool unreadable") }, nil); err == nil {
			t.Fatal("Run hid its first report's failure")
		}
	})
}
