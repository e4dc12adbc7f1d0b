package directory

import (
	"context"
	"testing"
)

func TestCreateUserAndAuthenticate(t *testing.T) {
	forEachDir(t, testCreateUserAndAuthenticate)
}

func testCreateUserAndAuthenticate(t *testing.T, d *Directory) {
	ctx := t.Context()
	a := tenantWithDomain(t, d, "a", "a.example")
	b := tenantWithDomain(t, d, "b", "b.example")
	must[Domain](t)(d.AddDomain(ctx, By{}, a.ID, "pending.example"))

	u := must[User](t)(d.CreateUser(ctx, By{}, a.ID, "Alice@A.Example", "correct horse"))
	if u.Address != "alice@a.example" || u.TenantID != a.ID || u.Disabled || u.ID == 0 {
		t.Fatalf("created %+v", u)
	}

	for _, c := range []struct{ addr, pw, mention string }{
		{"bob@pending.example", "longenough", "pending.example"},
		{"bob@b.example", "longenough", "b.example"},
		{"bob@nowhere.example", "longenough", "nowhere.example"},
		{"Bob <bob@a.example>", "longenough", "bare address"},
		{"not an address", "longenough", "not an address"},
		{"bob@a.example", "short", "password"},
	} {
		_, err := d.CreateUser(ctx, By{}, a.ID, c.addr, c.pw)
		wantErr(t, err, ErrInvalid, c.addr, c.mention)
	}
	_, err := d.CreateUser(ctx, By{}, a.ID, "ALICE@a.example", "another one")
	wantErr(t, err, ErrConflict, "ALICE@a.example")
	_, err = d.CreateUser(ctx, By{}, 999, "x@a.example", "longenough")
	wantErr(t, err, ErrNotFound, "999")

	gotU, gotT, err := d.Authenticate(ctx, "ALICE@a.example", "correct horse")
	if err != nil || gotU != u || gotT != a {
		t.Fatalf("Authenticate = %+v, %+v, %v", gotU, gotT, err)
	}
	_, _, err = d.Authenticate(ctx, "alice@a.example", "wrong horse")
	wantErr(t, err, ErrBadCredentials)
	_, _, err = d.Authenticate(ctx, "nobody@a.example", "correct horse")
	wantErr(t, err, ErrBadCredentials)
	_, _, err = d.Authenticate(ctx, "not an address", "x")
	wantErr(t, err, ErrBadCredentials)

	must[User](t)(d.CreateUser(ctx, By{}, b.ID, "carol@b.example", "carols secret"))
	_, gotT, err = d.Authenticate(ctx, "carol@b.example", "carols secret")
	if err != nil || gotT.ID != b.ID {
		t.Fatalf("Authenticate carol = %+v, %v", gotT, err)
	}

	// Disabled: bad credentials even with the right password; re-enabled: fine.
	if err := d.SetUserDisabled(ctx, By{}, u.ID, true); err != nil {
		t.Fatal(err)
	}
	_, _, err = d.Authenticate(ctx, "alice@a.example", "correct horse")
	wantErr(t, err, ErrBadCredentials)
	if err := d.SetUserDisabled(ctx, By{}, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Authenticate(ctx, "alice@a.example", "correct horse"); err != nil {
		t.Fatal(err)
	}

	// New password replaces the old one.
	if err := d.SetPassword(ctx, By{}, u.ID, "battery staple"); err != nil {
		t.Fatal(err)
	}
	_, _, err = d.Authenticate(ctx, "alice@a.example", "correct horse")
	wantErr(t, err, ErrBadCredentials)
	if _, _, err := d.Authenticate(ctx, "alice@a.example", "battery staple"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, d.SetPassword(ctx, By{}, 999, "battery staple"), ErrNotFound, "999")
	wantErr(t, d.SetPassword(ctx, By{}, u.ID, "short"), ErrInvalid)
	wantErr(t, d.SetUserDisabled(ctx, By{}, 999, true), ErrNotFound, "999")
}

// An unknown user costs a hash, like a known one, so timing does not reveal
// which addresses exist.
func TestAuthenticateUnknownSpendsAHash(t *testing.T) {
	forEachDir(t, testAuthenticateUnknownSpendsAHash)
}

func testAuthenticateUnknownSpendsAHash(t *testing.T, d *Directory) {
	real := d.dummyHash
	calls := 0
	d.dummyHash = func() (string, error) { calls++; return real() }
	tenantWithDomain(t, d, "a", "a.example")
	_, _, err := d.Authenticate(t.Context(), "ghost@a.example", "whatever")
	wantErr(t, err, ErrBadCredentials)
	if calls != 1 {
		t.Fatalf("dummy hash used %d times, want 1", calls)
	}
}

// A corrupt stored hash is a failed login (and an operator log line), not
// an internal error the client sees.
func TestAuthenticateCorruptHash(t *testing.T) {
	forEachDir(t, testAuthenticateCorruptHash)
}

func testAuthenticateCorruptHash(t *testing.T, d *Directory) {
	ctx := t.Context()
	a := tenantWithDomain(t, d, "a", "a.example")
	u := must[User](t)(d.CreateUser(ctx, By{}, a.ID, "x@a.example", "longenough"))
	if _, err := d.db.Write.ExecContext(ctx, `UPDATE users SET password_hash = 'garbage' WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err := d.Authenticate(ctx, "x@a.example", "longenough")
	wantErr(t, err, ErrBadCredentials)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := d.Authenticate(cancelled, "x@a.example", "longenough"); err == nil {
		t.Fatal("Authenticate with cancelled context succeeded")
	}
}
