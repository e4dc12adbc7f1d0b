package directory

import "testing"

func TestListTenantsAndUsers(t *testing.T) { forEachDir(t, testListTenantsAndUsers) }

func testListTenantsAndUsers(t *testing.T, d *Directory) {
	ctx := t.Context()
	b := tenantWithDomain(t, d, "bravo", "bravo.test")
	a := tenantWithDomain(t, d, "alpha", "alpha.test")
	ts := must[[]Tenant](t)(d.Tenants(ctx))
	if len(ts) != 2 || ts[0].ID != a.ID || ts[1].ID != b.ID {
		t.Fatalf("tenants %+v, want alpha then bravo", ts)
	}
	must[User](t)(d.CreateUser(ctx, By{}, a.ID, "zed@alpha.test", "long enough password"))
	must[User](t)(d.CreateUser(ctx, By{}, a.ID, "amy@alpha.test", "long enough password"))
	must[User](t)(d.CreateUser(ctx, By{}, b.ID, "bob@bravo.test", "long enough password"))
	us := must[[]User](t)(d.Users(ctx, a.ID))
	if len(us) != 2 || us[0].Address != "amy@alpha.test" || us[1].Address != "zed@alpha.test" {
		t.Fatalf("alpha's users %+v", us)
	}
	_, err := d.Users(ctx, 9999)
	wantErr(t, err, ErrNotFound)
}
