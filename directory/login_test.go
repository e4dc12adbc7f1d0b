package directory

import (
	"errors"
	"testing"
)

// A login another MTA authenticated finds its live user (case folded, no
// password); unknown, malformed and disabled logins find nothing.
func TestUserByLogin(t *testing.T) {
	forEachDir(t, func(t *testing.T, d *Directory) {
		ctx := t.Context()
		a := tenantWithDomain(t, d, "a", "a.example")
		u := must[User](t)(d.CreateUser(ctx, By{}, a.ID, "alice@a.example", "correct horse"))
		gotU, gotT, err := d.UserByLogin(ctx, "Alice@A.example")
		if err != nil || gotU.ID != u.ID || gotU.Address != "alice@a.example" || gotT.ID != a.ID || gotT.Name != "a" {
			t.Fatalf("UserByLogin = %+v %+v %v", gotU, gotT, err)
		}
		for _, login := range []string{"bob@a.example", "not an address", ""} {
			if _, _, err := d.UserByLogin(ctx, login); !errors.Is(err, ErrNotFound) {
				t.Errorf("UserByLogin(%q): %v, want ErrNotFound", login, err)
			}
		}
		if err := d.SetUserDisabled(ctx, By{}, u.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.UserByLogin(ctx, "alice@a.example"); !errors.Is(err, ErrNotFound) {
			t.Errorf("a disabled user: %v, want ErrNotFound", err)
		}
	})
}
