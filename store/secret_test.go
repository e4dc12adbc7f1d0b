package store_test

import (
	"bytes"
	"testing"

	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// A secret is made once and is the same for every handle on the database
// (every node of a fleet); different names are different secrets.
func TestSecret(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a, err := db.Secret(t.Context(), "console-cookie")
		if err != nil || len(a) != 32 {
			t.Fatalf("secret: %x %v", a, err)
		}
		again, err := storetest.Reopen(t, db).Secret(t.Context(), "console-cookie")
		if err != nil || !bytes.Equal(a, again) {
			t.Fatalf("another handle got %x (%v), want %x", again, err, a)
		}
		other, err := db.Secret(t.Context(), "other")
		if err != nil || bytes.Equal(a, other) {
			t.Fatalf("another name got %x (%v)", other, err)
		}
		if _, err := db.Secret(t.Context(), ""); err == nil {
			t.Fatal("an empty name was accepted")
		}
	})
}
