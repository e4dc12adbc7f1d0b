package nodes

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// Two nodes configured with the same hostname, each with its own data
// directory, report to one store: both are listed, each with its own
// depth, instead of one overwriting the other; when one stops it turns
// stale on its own while the other stays current, and a day later it is
// no longer listed.
func TestSameHostnameNodesKeptApart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		var nodes [2]Node
		var depths [2]atomic.Int64
		var stops [2]func()
		for i := range nodes {
			s, err := Open(ctx, db) // each node opens the store itself
			if err != nil {
				t.Fatal(err)
			}
			id, err := NodeID(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			nodes[i] = Node{ID: id, Hostname: "mx.example"}
			depths[i].Store(int64(10 * (i + 1)))
			stops[i], err = s.Run(ctx, nodes[i], 5*time.Millisecond, func(context.Context) (int, error) { return int(depths[i].Load()), nil }, log)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(stops[i])
		}
		if nodes[0].ID == nodes[1].ID {
			t.Fatalf("two data directories got one id %q", nodes[0].ID)
		}
		s, err := Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		// listed reads the reports as "id:depth" in id order, stale marked.
		listed := func(now time.Time) string {
			t.Helper()
			rs, err := s.List(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, r := range rs {
				if r.Hostname != "mx.example" {
					t.Fatalf("hostname %q", r.Hostname)
				}
				p := fmt.Sprintf("%s:%d", r.ID, r.QueueDepth)
				if r.Stale {
					p += "(stale)"
				}
				parts = append(parts, p)
			}
			return strings.Join(parts, " ")
		}
		first, second := nodes[0], nodes[1]
		if second.ID < first.ID {
			first, second = second, first
		}
		want := func(now func() time.Time, w string) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for got := listed(now()); got != w; got = listed(now()) {
				if time.Now().After(deadline) {
					t.Fatalf("nodes listed %q, want %q", got, w)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		depthOf := func(n Node) int64 {
			if n == nodes[0] {
				return depths[0].Load()
			}
			return depths[1].Load()
		}
		want(time.Now, fmt.Sprintf("%s:%d %s:%d", first.ID, depthOf(first), second.ID, depthOf(second)))
		depths[1].Store(33)
		want(time.Now, fmt.Sprintf("%s:%d %s:%d", first.ID, depthOf(first), second.ID, depthOf(second)))

		// Node 0 stops: only it goes stale, the other keeps reporting.
		stops[0]()
		stopped := time.Now()
		rest := nodes[1]
		line := func(stale string) string {
			a := fmt.Sprintf("%s:%d%s", nodes[0].ID, depths[0].Load(), stale)
			b := fmt.Sprintf("%s:%d", rest.ID, depths[1].Load())
			if nodes[0].ID < rest.ID {
				return a + " " + b
			}
			return b + " " + a
		}
		// Judged a little after StaleAfter from the stop: the live node's
		// reports, every 5 ms, soon pass the stop by more than that margin.
		margin := 100 * time.Millisecond
		want(func() time.Time { return stopped.Add(StaleAfter + margin) }, line("(stale)"))
		// Silent for a day: no longer listed. (Seen from a day on, the live
		// node's report is stale, but listed.)
		want(func() time.Time { return stopped.Add(forgetAfter + margin) }, fmt.Sprintf("%s:%d(stale)", rest.ID, depths[1].Load()))
	})
}

// A node keeps its id across restarts (the file in its data directory);
// a file holding something else is refused, naming the file.
func TestNodeID(t *testing.T) {
	dir := t.TempDir()
	id, err := NodeID(dir)
	if err != nil || !validID(id) || len(id) != 16 {
		t.Fatalf("new id %q: %v", id, err)
	}
	again, err := NodeID(dir)
	if err != nil || again != id {
		t.Fatalf("second start: %q %v, want %q", again, err, id)
	}
	if other, _ := NodeID(t.TempDir()); other == id {
		t.Fatalf("two directories share id %q", id)
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "node-id"), []byte("not an id!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NodeID(bad); err == nil || !strings.Contains(err.Error(), filepath.Join(bad, "node-id")) {
		t.Fatalf("a bad node-id file: %v, want an error naming it", err)
	}
	if _, err := NodeID(filepath.Join(bad, "missing", "dir")); err == nil {
		t.Fatal("an id in a directory that does not exist")
	}
}
