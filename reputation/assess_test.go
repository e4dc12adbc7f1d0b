package reputation

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// The record-based levels at their edges: the age and volume that make an
// IP established, and the spam ratio (with its minimum volume) that makes
// it poor.
func TestLevelsAtTheEdges(t *testing.T) { storetest.ForEach(t, testLevelsAtTheEdges) }

func testLevelsAtTheEdges(t *testing.T, db *store.DB) {
	ctx := context.Background()
	clk := newClock()
	start := clk.Now()
	tr := open(t, db, Config{Clock: clk.Now, NewIPAge: 24 * time.Hour, MinMessages: 100, PoorRatio: 0.3, PoorMinMessages: 20})
	day := start.Add(24 * time.Hour)

	observe(tr, "192.0.2.1", 100, 0)  // volume reached
	observe(tr, "192.0.2.2", 99, 0)   // one short
	observe(tr, "192.0.2.3", 100, 30) // ratio exactly 0.3
	observe(tr, "192.0.2.4", 100, 29) // just under
	observe(tr, "192.0.2.5", 19, 19)  // all spam but under the minimum volume
	observe(tr, "192.0.2.6", 20, 6)   // minimum volume at 0.3: poor even though new
	for _, c := range []struct {
		ip   string
		at   time.Time
		want Level
	}{
		{"192.0.2.1", day.Add(-time.Nanosecond), New},
		{"192.0.2.1", day, Good},
		{"192.0.2.2", day, New},
		{"192.0.2.3", day, Poor},
		{"192.0.2.4", day, Good},
		{"192.0.2.5", day, New},
		{"192.0.2.6", start, Poor},
		{"192.0.2.99", day, Unknown},
		{"2001:db8::99", day, Unknown},
	} {
		if a := tr.Assess(ctx, 1, addr(c.ip), c.at); a.Level != c.want {
			t.Errorf("%s at +%s: %s, want %s (%+v)", c.ip, c.at.Sub(start), a.Level, c.want, a.Record)
		}
	}
	// The same after a flush, from the store's copy.
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if a := tr.Assess(ctx, 1, addr("192.0.2.1"), day); a.Level != Good || a.Record.Messages != 100 {
		t.Errorf("after flush: %+v", a)
	}
}

// Lists: longest prefix decides between allow and deny, v4 and v6; a prefix
// is on one list at most; unlisting takes effect at once.
func TestLists(t *testing.T) { storetest.ForEach(t, testLists) }

func testLists(t *testing.T, db *store.DB) {
	ctx := context.Background()
	clk := newClock()
	now := clk.Now()
	tr := open(t, db, Config{Clock: clk.Now})
	for _, c := range []struct {
		deny   bool
		prefix string
	}{{true, "198.51.100.0/24"}, {false, "198.51.100.128/25"}, {true, "198.51.100.200"}, {false, "2001:db8::/32"}, {true, "2001:db8:bad::/48"}} {
		add := tr.Allow
		if c.deny {
			add = tr.Deny
		}
		if _, err := add(ctx, prefix(t, c.prefix), "test "+c.prefix, "operator:ops"); err != nil {
			t.Fatal(err)
		}
	}
	for ip, want := range map[string]Level{
		"198.51.100.1": Denied, "198.51.100.127": Denied, "198.51.100.128": Allowed, "198.51.100.255": Allowed,
		"198.51.100.200": Denied, "198.51.101.0": Unknown,
		"2001:db8::1": Allowed, "2001:db8:bad::1": Denied, "2001:db8:bae::": Allowed, "2001:db9::": Unknown,
		"::ffff:198.51.100.130": Allowed,
	} {
		a := tr.Assess(ctx, 1, addr(ip), now)
		if a.Level != want {
			t.Errorf("%s: %s, want %s", ip, a.Level, want)
		}
		if want == Denied && (a.Entry == nil || a.Entry.Kind != DenyList) {
			t.Errorf("%s: denied without its entry: %+v", ip, a.Entry)
		}
	}
	if _, err := tr.Allow(ctx, prefix(t, "198.51.100.0/24"), "oops", "operator:ops"); !errors.Is(err, ErrExists) {
		t.Errorf("allow a denied prefix: %v", err)
	}
	if _, err := tr.Deny(ctx, prefix(t, "203.0.113.0/24"), " ", "operator:ops"); !errors.Is(err, ErrInvalid) {
		t.Errorf("deny without a reason: %v", err)
	}
	if e, err := tr.Unlist(ctx, prefix(t, "198.51.100.200")); err != nil || e.Kind != DenyList || e.Reason != "test 198.51.100.200" {
		t.Fatalf("unlist: %+v %v", e, err)
	}
	if a := tr.Assess(ctx, 1, addr("198.51.100.200"), now); a.Level != Allowed {
		t.Errorf("after unlisting the /32 the /25 applies: %s", a.Level)
	}
	if _, err := tr.Unlist(ctx, prefix(t, "198.51.100.200")); !errors.Is(err, ErrNotFound) {
		t.Errorf("unlist twice: %v", err)
	}
	l, err := tr.Lists(ctx)
	if err != nil || len(l) != 4 {
		t.Fatalf("lists: %d %v", len(l), err)
	}
}

// An exception applies to its tenant and range only, up to the nanosecond
// before its expiry and not at it, with no cleanup job; revoking ends it at
// once; another node sees a grant after its sync.
func TestExceptions(t *testing.T) { storetest.ForEach(t, testExceptions) }

func testExceptions(t *testing.T, db *store.DB) {
	ctx := context.Background()
	clk := newClock()
	now := clk.Now()
	tr := open(t, db, Config{Clock: clk.Now})
	other := open(t, storetest.Reopen(t, db), Config{Clock: clk.Now})
	if _, err := tr.Deny(ctx, prefix(t, "203.0.113.0/24"), "spam source", "operator:ops"); err != nil {
		t.Fatal(err)
	}
	expires := now.Add(7 * 24 * time.Hour)
	ex, err := tr.GrantException(ctx, Exception{TenantID: 7, Prefix: prefix(t, "203.0.113.0/28"), Reason: "migration", CreatedBy: "operator:ops", ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	v6, err := tr.GrantException(ctx, Exception{TenantID: 7, Prefix: prefix(t, "2001:db8:7::/64"), Reason: "v6", CreatedBy: "operator:ops", ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tenant int64
		ip     string
		at     time.Time
		want   Level
	}{
		{7, "203.0.113.15", expires.Add(-time.Nanosecond), Excepted},
		{7, "203.0.113.15", expires, Denied}, // expired: the deny list applies again
		{7, "203.0.113.16", now, Denied},     // outside the /28
		{8, "203.0.113.1", now, Denied},      // another tenant
		{0, "203.0.113.1", now, Denied},      // no tenant
		{7, "2001:db8:7::ffff", expires.Add(-time.Nanosecond), Excepted},
		{7, "2001:db8:7:1::", now, Unknown},
		{7, "2001:db8:7::1", expires.Add(time.Nanosecond), Unknown},
	} {
		if a := tr.Assess(ctx, c.tenant, addr(c.ip), c.at); a.Level != c.want {
			t.Errorf("tenant %d %s at expiry%+v: %s, want %s", c.tenant, c.ip, c.at.Sub(expires), a.Level, c.want)
		}
	}

	if a := other.Assess(ctx, 7, addr("203.0.113.1"), now); a.Level != Unknown {
		t.Fatalf("other node before sync: %s (it has not loaded the lists yet)", a.Level)
	}
	if err := other.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if a := other.Assess(ctx, 7, addr("203.0.113.1"), now); a.Level != Excepted || a.Exception.ID != ex.ID {
		t.Fatalf("other node after sync: %+v", a)
	}

	if _, err := tr.GrantException(ctx, Exception{TenantID: 7, Prefix: prefix(t, "192.0.2.1"), Reason: "late", CreatedBy: "operator:ops", ExpiresAt: now}); !errors.Is(err, ErrInvalid) {
		t.Errorf("grant expiring now: %v", err)
	}
	clk.Add(time.Minute)
	rev, err := tr.RevokeException(ctx, ex.ID, "operator:boss")
	if err != nil || rev.RevokedBy != "operator:boss" || !rev.RevokedAt.Equal(clk.Now()) || rev.Active(clk.Now()) {
		t.Fatalf("revoke: %+v %v", rev, err)
	}
	if a := tr.Assess(ctx, 7, addr("203.0.113.1"), clk.Now()); a.Level != Denied {
		t.Errorf("after revoke: %s", a.Level)
	}
	if _, err := tr.RevokeException(ctx, ex.ID, "operator:boss"); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke twice: %v", err)
	}
	live, err := tr.Exceptions(ctx, 7, clk.Now(), false)
	if err != nil || len(live) != 1 || live[0].ID != v6.ID {
		t.Errorf("live exceptions of tenant 7: %+v %v", live, err)
	}
	all, err := tr.Exceptions(ctx, 0, clk.Now(), true)
	if err != nil || len(all) != 2 {
		t.Errorf("all exceptions: %+v %v", all, err)
	}
	if gone, _ := tr.Exceptions(ctx, 7, expires, false); len(gone) != 0 {
		t.Errorf("live at expiry: %+v", gone)
	}
}
