package counters

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Op.At is how the delivery feedback (feedback.Source.Reads) rides in the
// DATA stage's one counter step while keeping its own clock: a read-only op
// whose At is set totals its key's window ending at At, not at the call's
// now, and so reads exactly what the same op reads alone at At — whatever
// the batch's now and whatever else is in the batch (AddAll or Record).
// Same answers on every implementation.
func TestOpAtReadsAtItsOwnTime(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			c := im.new(t)
			ctx := context.Background()
			const fb = "feedback:7:hard_bounces"
			w := time.Hour
			mustAdd(t, c, fb, 3, w, t0)
			mustAdd(t, c, fb, 2, w, t0.Add(30*time.Minute))
			at := t0.Add(40 * time.Minute)
			read := Op{Key: fb, Window: w, At: at}

			// Alone, at its own time: both adds are in (at-1h, at].
			if got := mustCount(t, c, fb, w, at); got != 5 {
				t.Fatalf("Count at %v = %d, want 5", at, got)
			}
			alone, err := AddAll(ctx, c, []Op{read}, at)
			if err != nil || alone.Failed != -1 || alone.Totals[0] != 5 {
				t.Fatalf("alone: %+v %v, want total 5", alone, err)
			}
			// The batch's clock is earlier or later (within the window: the
			// stores are exact while a key's clock moves forward by less
			// than a window): the read still answers at At.
			for _, now := range []time.Time{t0.Add(10 * time.Minute), t0.Add(65 * time.Minute)} {
				b, err := AddAll(ctx, c, []Op{read}, now)
				if err != nil || b.Totals[0] != 5 {
					t.Fatalf("now %v: %+v %v, want 5 (the op's own time)", now, b, err)
				}
			}

			// In a batch with writes at the batch's now: each op counts at
			// its own time, the writes land, the read changes nothing.
			now := t0.Add(65 * time.Minute)
			batch := []Op{
				{Key: "t:7:msgs1h", N: 1, Window: w},
				read,
				{Key: "t:7:spam1h", N: 2, Limit: 10, Window: w},
			}
			for i := range 2 {
				b, err := AddAll(ctx, c, batch, now)
				if err != nil || b.Failed != -1 {
					t.Fatalf("mixed batch %d: %+v %v", i, b, err)
				}
				if want := []int64{int64(i + 1), 5, int64(2 * (i + 1))}; !equal(b.Totals, want) {
					t.Fatalf("mixed batch %d totals %v, want %v", i, b.Totals, want)
				}
			}

			// In a Record beside sets and a PlusNew op, as protect's gather
			// puts it (the reads last).
			sets := []SetOp{{Key: "t:7:rcpts", Members: []string{"a@x.example", "b@y.example"}, TTL: 24 * time.Hour, Max: 100}}
			ops := []Op{{Key: "t:7:new1h", PlusNew: 1, Window: w}, {Key: "t:7:msgs1h", N: 1, Window: w}, read,
				{Key: "feedback:7:delivered", Window: 24 * time.Hour, At: at}}
			r := mustRecord(t, c, sets, ops, now)
			if r.New[0] != 2 || !equal(r.Totals, []int64{2, 3, 5, 0}) {
				t.Fatalf("record: %+v, want new 2, totals [2 3 5 0]", r)
			}
			if got := mustCount(t, c, fb, w, at); got != 5 {
				t.Fatalf("the read op changed its key: %d at At, want 5", got)
			}

			// Without At the same op reads at the batch's now: 3 at t0+10m
			// (before the second add), 2 at t0+65m (t0's add left the window).
			for _, tc := range []struct {
				now  time.Time
				want int64
			}{{t0.Add(10 * time.Minute), 3}, {t0.Add(65 * time.Minute), 2}} {
				now, want := tc.now, tc.want
				b, err := AddAll(ctx, c, []Op{{Key: "t:7:msgs1h", Window: w}, {Key: fb, Window: w}}, now)
				if err != nil || b.Totals[1] != want {
					t.Fatalf("without At at %v: %+v %v, want %d", now, b, err, want)
				}
			}

			// A later At sees the window move: t0's 3 leave it after 1h.
			later := Op{Key: fb, Window: w, At: t0.Add(70 * time.Minute)}
			b, err := AddAll(ctx, c, []Op{{Key: "t:7:msgs1h", N: 1, Window: w}, later}, now)
			if err != nil || b.Totals[1] != 2 {
				t.Fatalf("read at t0+70m: %+v %v, want 2 (only the add at t0+30m)", b, err)
			}
		})
	}
}

// A read with At placed after an op that hits its limit still reports its
// total (the batch is refused, nothing is added): the totals are "as they
// stand" on every implementation.
func TestOpAtReadAfterRefusedOp(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			c := im.new(t)
			ctx := context.Background()
			mustAdd(t, c, "fb", 4, time.Hour, t0)
			mustAdd(t, c, "lim", 1, time.Hour, t0.Add(30*time.Minute))
			now := t0.Add(30 * time.Minute)
			b, err := AddAll(ctx, c, []Op{{Key: "lim", N: 1, Limit: 1, Window: time.Hour},
				{Key: "fb", Window: time.Hour, At: t0.Add(time.Minute)}}, now)
			if err != nil || b.Failed != 0 {
				t.Fatalf("%+v %v, want op 0 refused", b, err)
			}
			if b.Totals[0] != 1 || b.Totals[1] != 4 {
				t.Fatalf("totals %v, want [1 4] (the read answers even in a refused batch)", b.Totals)
			}
		})
	}
}

// A bad op with At is refused before anything is counted, with an error
// that wraps ErrInvalid and names the op's key or value; a store that is
// gone gives a storage error, not ErrInvalid.
func TestOpAtErrors(t *testing.T) {
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			c := im.new(t)
			ctx := context.Background()
			at := t0.Add(time.Minute)
			good := Op{Key: "ok", N: 1, Window: time.Hour}
			for _, tc := range []struct {
				name string
				op   Op
				want string
			}{
				{"empty key", Op{Window: time.Hour, At: at}, "key is empty"},
				{"no window", Op{Key: "fb", At: at}, "window 0s must be at least 1ms"},
				{"negative n", Op{Key: "fb", N: -1, Window: time.Hour, At: at}, "n -1 is negative"},
			} {
				_, err := AddAll(ctx, c, []Op{good, tc.op}, t0)
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("AddAll %s: err %v, want ErrInvalid saying %q", tc.name, err, tc.want)
				}
				_, err = Record(ctx, c, nil, []Op{good, tc.op}, t0)
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Record %s: err %v, want ErrInvalid saying %q", tc.name, err, tc.want)
				}
			}
			if got := mustCount(t, c, "ok", time.Hour, t0); got != 0 {
				t.Fatalf("a refused batch counted its good op: %d", got)
			}
			if _, err := Record(ctx, c, nil, []Op{{Key: "fb", Limit: 3, Window: time.Hour, At: at}}, t0); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"fb"`) {
				t.Errorf("Record with a limit: %v, want ErrInvalid naming the key", err)
			}
			if im.name != "redis" {
				return
			}
			c.Close()
			_, err := AddAll(ctx, c, []Op{good, {Key: "fb", Window: time.Hour, At: at}}, t0)
			if err == nil || errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "redis add-all (2 keys") {
				t.Errorf("closed client: %v, want a storage error naming the batch", err)
			}
			_, err = Record(ctx, c, nil, []Op{{Key: "fb", Window: time.Hour, At: at}}, t0)
			if err == nil || errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "redis record") {
				t.Errorf("closed client: %v, want a storage error naming the record", err)
			}
		})
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
