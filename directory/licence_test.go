package directory

import (
	"testing"
	"time"
)

func TestSetLicense(t *testing.T) { forEachDir(t, testSetLicense) }

func testSetLicense(t *testing.T, d *Directory) {
	ctx := t.Context()
	tn := must[Tenant](t)(d.CreateTenant(ctx, By{}, "acme", Trial, 0))
	before, after, err := d.SetLicense(ctx, By{}, tn.ID, Licensed, 50, time.Time{})
	if err != nil || before.License != Trial || after.License != Licensed || after.Seats != 50 {
		t.Fatalf("set licence: %+v %+v %v", before, after, err)
	}
	if got := must[Tenant](t)(d.Tenant(ctx, tn.ID)); got.License != Licensed || got.Seats != 50 {
		t.Fatalf("stored %+v", got)
	}
	_, _, err = d.SetLicense(ctx, By{}, tn.ID, License("forever"), 1, time.Time{})
	wantErr(t, err, ErrInvalid, "forever")
	_, _, err = d.SetLicense(ctx, By{}, tn.ID, Expired, -1, time.Time{})
	wantErr(t, err, ErrInvalid, "-1")
	_, _, err = d.SetLicense(ctx, By{}, 9999, Expired, 0, time.Time{})
	wantErr(t, err, ErrNotFound)
	// An end date: licensed until then, expired from then on.
	end := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
	_, after, err = d.SetLicense(ctx, By{}, tn.ID, Licensed, 10, end)
	if err != nil || !after.LicenseExpires.Equal(end) {
		t.Fatalf("with end date: %+v %v", after, err)
	}
	got := must[Tenant](t)(d.Tenant(ctx, tn.ID))
	if got.LicenseAt(end.Add(-time.Second)) != Licensed || got.LicenseAt(end) != Expired {
		t.Fatalf("licence around its end: %s, %s", got.LicenseAt(end.Add(-time.Second)), got.LicenseAt(end))
	}
	_, _, err = d.SetLicense(ctx, By{}, tn.ID, Trial, 0, end)
	wantErr(t, err, ErrInvalid, "expiry")
}
