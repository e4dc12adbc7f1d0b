package directory

import "testing"

func TestSetLicense(t *testing.T) { forEachDir(t, testSetLicense) }

func testSetLicense(t *testing.T, d *Directory) {
	ctx := t.Context()
	tn := must[Tenant](t)(d.CreateTenant(ctx, "acme", Trial, 0))
	before, after, err := d.SetLicense(ctx, tn.ID, Licensed, 50)
	if err != nil || before.License != Trial || after.License != Licensed || after.Seats != 50 {
		t.Fatalf("set licence: %+v %+v %v", before, after, err)
	}
	if got := must[Tenant](t)(d.Tenant(ctx, tn.ID)); got.License != Licensed || got.Seats != 50 {
		t.Fatalf("stored %+v", got)
	}
	_, _, err = d.SetLicense(ctx, tn.ID, License("forever"), 1)
	wantErr(t, err, ErrInvalid, "forever")
	_, _, err = d.SetLicense(ctx, tn.ID, Expired, -1)
	wantErr(t, err, ErrInvalid, "-1")
	_, _, err = d.SetLicense(ctx, 9999, Expired, 0)
	wantErr(t, err, ErrNotFound)
}
