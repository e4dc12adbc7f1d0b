package directory

import (
	"strings"
	"testing"
	"time"
)

func TestAppPasswords(t *testing.T) {
	forEachDir(t, testAppPasswords)
}

func testAppPasswords(t *testing.T, d *Directory) {
	ctx := t.Context()
	a := tenantWithDomain(t, d, "a", "a.example")
	alice := must[User](t)(d.CreateUser(ctx, By{}, a.ID, "alice@a.example", "main password"))
	bob := must[User](t)(d.CreateUser(ctx, By{}, a.ID, "bob@a.example", "bobs password"))
	clock := t0
	d.clock = func() time.Time { return clock }

	phone, phonePW := mustAppPassword(t, d, alice.ID, "phone")
	laptop, laptopPW := mustAppPassword(t, d, alice.ID, "laptop")
	bobs, bobsPW := mustAppPassword(t, d, bob.ID, "tablet")
	if len(phonePW) != 24 || phonePW == laptopPW || phone.UserID != alice.ID || phone.Name != "phone" || !phone.Live() || phone.CreatedAt.IsZero() {
		t.Fatalf("created %+v %q", phone, phonePW)
	}
	var stored string
	if err := d.db.Read.QueryRow(`SELECT password_hash FROM app_passwords WHERE id = $1`, phone.ID).Scan(&stored); err != nil || !strings.HasPrefix(stored, "$argon2id$") {
		t.Fatalf("stored %q, %v; want an argon2id hash", stored, err)
	}

	// SMTP AUTH: the main password and each app password work, each only
	// for its own user.
	for _, pw := range []string{"main password", phonePW, laptopPW} {
		u, tn, err := d.Authenticate(ctx, "alice@a.example", pw)
		if err != nil || u.ID != alice.ID || tn.ID != a.ID {
			t.Fatalf("Authenticate(alice, %q) = %+v, %v", pw, u, err)
		}
	}
	_, _, err := d.Authenticate(ctx, "alice@a.example", bobsPW)
	wantErr(t, err, ErrBadCredentials)
	_, _, err = d.Authenticate(ctx, "bob@a.example", phonePW)
	wantErr(t, err, ErrBadCredentials)
	if l := must[[]AppPassword](t)(d.AppPasswords(ctx, alice.ID)); len(l) != 2 || !l[0].LastUsed.Equal(t0) || l[0].ID != phone.ID || l[1].ID != laptop.ID {
		t.Fatalf("AppPasswords = %+v", l)
	}

	// Revoking one stops it at once; the other and the main password
	// still work.
	if err := d.RevokeAppPassword(ctx, By{}, alice.ID, phone.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = d.Authenticate(ctx, "alice@a.example", phonePW)
	wantErr(t, err, ErrBadCredentials)
	for _, pw := range []string{"main password", laptopPW} {
		if _, _, err := d.Authenticate(ctx, "alice@a.example", pw); err != nil {
			t.Fatalf("after revoke, %q: %v", pw, err)
		}
	}
	l := must[[]AppPassword](t)(d.AppPasswords(ctx, alice.ID))
	if len(l) != 2 || l[0].Live() || !l[1].Live() {
		t.Fatalf("after revoke: %+v", l)
	}
	if err := d.RevokeAppPassword(ctx, By{}, alice.ID, phone.ID); err != nil {
		t.Fatalf("revoking again: %v", err)
	}
	// Another user's app password id is not found, and stays live.
	wantErr(t, d.RevokeAppPassword(ctx, By{}, alice.ID, bobs.ID), ErrNotFound)
	if _, _, err := d.Authenticate(ctx, "bob@a.example", bobsPW); err != nil {
		t.Fatal(err)
	}
	wantErr(t, d.RevokeAppPassword(ctx, By{}, alice.ID, 999), ErrNotFound)

	// A disabled user cannot use app passwords either.
	if err := d.SetUserDisabled(ctx, By{}, alice.ID, true); err != nil {
		t.Fatal(err)
	}
	_, _, err = d.Authenticate(ctx, "alice@a.example", laptopPW)
	wantErr(t, err, ErrBadCredentials)

	_, err = d.AppPasswords(ctx, 999)
	wantErr(t, err, ErrNotFound, "999")
	_, _, err = d.CreateAppPassword(ctx, By{}, 999, "x")
	wantErr(t, err, ErrNotFound, "999")
	_, _, err = d.CreateAppPassword(ctx, By{}, alice.ID, "  ")
	wantErr(t, err, ErrInvalid, "empty")
}

// At most MaxAppPasswords live per user, so a wrong password costs at most
// 1+MaxAppPasswords hashes; revoking one frees a place.
func TestAppPasswordCap(t *testing.T) {
	forEachDir(t, testAppPasswordCap)
}

func testAppPasswordCap(t *testing.T, d *Directory) {
	ctx := t.Context()
	a := tenantWithDomain(t, d, "a", "a.example")
	u := must[User](t)(d.CreateUser(ctx, By{}, a.ID, "alice@a.example", "main password"))
	var first AppPassword
	var lastPW string
	for i := range MaxAppPasswords {
		p, pw := mustAppPassword(t, d, u.ID, "device")
		if i == 0 {
			first = p
		}
		lastPW = pw
	}
	_, _, err := d.CreateAppPassword(ctx, By{}, u.ID, "one too many")
	wantErr(t, err, ErrConflict, "revoke one")
	// The last one (tried last) still authenticates.
	if _, _, err := d.Authenticate(ctx, "alice@a.example", lastPW); err != nil {
		t.Fatal(err)
	}
	if err := d.RevokeAppPassword(ctx, By{}, u.ID, first.ID); err != nil {
		t.Fatal(err)
	}
	mustAppPassword(t, d, u.ID, "replacement")
}

func mustAppPassword(t *testing.T, d *Directory, userID int64, name string) (AppPassword, string) {
	t.Helper()
	p, pw, err := d.CreateAppPassword(t.Context(), By{}, userID, name)
	if err != nil {
		t.Fatal(err)
	}
	return p, pw
}
