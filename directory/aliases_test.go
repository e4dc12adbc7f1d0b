package directory

import (
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// A tenant's sender binding is off until set, is refused for an unknown
// mode, and reaches another node's snapshot.
func TestSenderBinding(t *testing.T) { forEachStore(t, testSenderBinding) }

func testSenderBinding(t *testing.T, db *store.DB) {
	d := openDir(t, db)
	other := openDir(t, storetest.Reopen(t, db), WithRefreshInterval(20*time.Millisecond))
	ctx := t.Context()
	tn := tenantWithDomain(t, d, "a", "a.example")
	if tn.SenderBinding != BindingOff {
		t.Fatalf("new tenant's binding %q, want off", tn.SenderBinding)
	}
	if got, _ := d.SnapshotTenant(tn.ID); got.SenderBinding != BindingOff {
		t.Fatalf("snapshot binding %q, want off", got.SenderBinding)
	}
	_, _, err := d.SetSenderBinding(ctx, By{}, tn.ID, "strict")
	wantErr(t, err, ErrInvalid, "strict")
	_, _, err = d.SetSenderBinding(ctx, By{}, tn.ID+100, BindingLogin)
	wantErr(t, err, ErrNotFound)
	before, after, err := d.SetSenderBinding(ctx, By{}, tn.ID, BindingLogin)
	if err != nil || before.SenderBinding != BindingOff || after.SenderBinding != BindingLogin {
		t.Fatalf("set: %v %q → %q", err, before.SenderBinding, after.SenderBinding)
	}
	if got, _ := d.SnapshotTenant(tn.ID); got.SenderBinding != BindingLogin {
		t.Fatalf("this node's snapshot has %q after the change", got.SenderBinding)
	}
	eventually(t, "the other node's snapshot", func() bool {
		got, _ := other.SnapshotTenant(tn.ID)
		return got.SenderBinding == BindingLogin
	})
	if got := must[Tenant](t)(d.Tenant(ctx, tn.ID)); got.SenderBinding != BindingLogin {
		t.Fatalf("stored binding %q", got.SenderBinding)
	}
}

// Aliases are addresses in the tenant's own verified domains, never the
// user's login, one per address per user, scoped to the user's tenant, and
// in the snapshot of every node until removed.
func TestUserAliases(t *testing.T) { forEachStore(t, testUserAliases) }

func testUserAliases(t *testing.T, db *store.DB) {
	d := openDir(t, db)
	other := openDir(t, storetest.Reopen(t, db), WithRefreshInterval(20*time.Millisecond))
	ctx := t.Context()
	a := tenantWithDomain(t, d, "a", "a.example")
	b := tenantWithDomain(t, d, "b", "b.example")
	must[Domain](t)(d.AddDomain(ctx, By{}, a.ID, "pending.example"))
	alice := must[User](t)(d.CreateUser(ctx, By{}, a.ID, "alice@a.example", "alice password 1"))
	bob := must[User](t)(d.CreateUser(ctx, By{}, b.ID, "bob@b.example", "bob password 12"))

	al := must[Alias](t)(d.AddAlias(ctx, By{Actor: "admin:x"}, a.ID, alice.ID, " Sales@A.example "))
	if al.Address != "sales@a.example" || al.UserID != alice.ID || al.CreatedBy != "admin:x" || al.ID == 0 {
		t.Fatalf("alias %+v", al)
	}
	_, err := d.AddAlias(ctx, By{Actor: "admin:x"}, a.ID, alice.ID, "sales@a.example")
	wantErr(t, err, ErrConflict, "already")
	_, err = d.AddAlias(ctx, By{Actor: "admin:x"}, a.ID, alice.ID, "ALICE@a.example")
	wantErr(t, err, ErrInvalid, "own login")
	_, err = d.AddAlias(ctx, By{Actor: "admin:x"}, a.ID, alice.ID, "ceo@b.example")
	wantErr(t, err, ErrInvalid, "b.example is not a verified domain")
	_, err = d.AddAlias(ctx, By{Actor: "admin:x"}, a.ID, alice.ID, "x@pending.example")
	wantErr(t, err, ErrInvalid, "pending.example is not a verified domain")
	_, err = d.AddAlias(ctx, By{Actor: "admin:x"}, a.ID, alice.ID, "not an address")
	wantErr(t, err, ErrInvalid)
	_, err = d.AddAlias(ctx, By{Actor: "admin:x"}, a.ID, bob.ID, "x@a.example") // bob is b's
	wantErr(t, err, ErrNotFound)
	_, err = d.Aliases(ctx, a.ID, bob.ID)
	wantErr(t, err, ErrNotFound)

	if !d.IsUserAlias(alice.ID, "sales@a.example") || d.IsUserAlias(bob.ID, "sales@a.example") {
		t.Fatal("this node's snapshot is wrong after adding the alias")
	}
	eventually(t, "the alias on the other node", func() bool { return other.IsUserAlias(alice.ID, "sales@a.example") })
	list := must[[]Alias](t)(d.Aliases(ctx, a.ID, alice.ID))
	if len(list) != 1 || list[0].ID != al.ID || list[0].Address != "sales@a.example" {
		t.Fatalf("aliases %+v", list)
	}

	_, err = d.RemoveAlias(ctx, By{}, b.ID, alice.ID, al.ID) // through the wrong tenant
	wantErr(t, err, ErrNotFound)
	gone := must[Alias](t)(d.RemoveAlias(ctx, By{}, a.ID, alice.ID, al.ID))
	if gone.Address != "sales@a.example" {
		t.Fatalf("removed %+v", gone)
	}
	_, err = d.RemoveAlias(ctx, By{}, a.ID, alice.ID, al.ID)
	wantErr(t, err, ErrNotFound)
	if d.IsUserAlias(alice.ID, "sales@a.example") {
		t.Fatal("removed alias still in the snapshot")
	}
	eventually(t, "the removal on the other node", func() bool { return !other.IsUserAlias(alice.ID, "sales@a.example") })
}

// DomainOwner finds the tenant that verified a domain or a parent of it,
// the most specific verified name winning, whatever the case or a
// trailing dot; pending domains own nothing.
func TestDomainOwner(t *testing.T) { forEachStore(t, testDomainOwner) }

func testDomainOwner(t *testing.T, db *store.DB) {
	d := openDir(t, db)
	ctx := t.Context()
	a := tenantWithDomain(t, d, "a", "a.example")
	b := tenantWithDomain(t, d, "b", "b.example")
	if err := func() error {
		if _, err := d.AddDomain(ctx, By{}, a.ID, "mail.b.example"); err != nil {
			return err
		}
		return d.MarkDomainVerified(ctx, By{}, a.ID, "mail.b.example")
	}(); err != nil {
		t.Fatal(err)
	}
	must[Domain](t)(d.AddDomain(ctx, By{}, a.ID, "pending.example"))
	for _, c := range []struct {
		domain, verified string
		owner            int64
	}{
		{"b.example", "b.example", b.ID},
		{"B.Example.", "b.example", b.ID},
		{"x.y.b.example", "b.example", b.ID},
		{"mail.b.example", "mail.b.example", a.ID},
		{"smtp.MAIL.b.example", "mail.b.example", a.ID},
		{"a.example", "a.example", a.ID},
		{"notb.example", "", 0},
		{"example", "", 0},
		{"pending.example", "", 0},
		{"", "", 0},
		{".", "", 0},
	} {
		id, v, ok := d.DomainOwner(c.domain)
		if id != c.owner || v != c.verified || ok != (c.owner != 0) {
			t.Errorf("DomainOwner(%q) = %d %q %v, want %d %q", c.domain, id, v, ok, c.owner, c.verified)
		}
	}
}
