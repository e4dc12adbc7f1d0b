package directory

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// On both stores: the account throttle lets the right password with a
// valid code through and nothing less; wrong codes with the right password
// fill a second throttle the bypass does not lift; a source address past
// its limit is refused whatever it sends.
func TestSignInFrom(t *testing.T) {
	forEachDir(t, func(t *testing.T, d *Directory) {
		ctx := t.Context()
		a, secret, _ := enrolled(t, d, "root@ops.example")
		attacker, admin := netip.MustParseAddr("192.0.2.66"), netip.MustParseAddr("198.51.100.7")
		at := t0.Add(time.Minute)
		for i := range DefaultThrottleLimit {
			_, _, err := d.SignInFrom(ctx, "root@ops.example", fmt.Sprintf("guess %d", i), "", attacker, at)
			wantErr(t, err, ErrBadCredentials)
		}
		_, _, err := d.SignInFrom(ctx, "root@ops.example", adminPW, "", admin, at)
		wantErr(t, err, ErrThrottled, "code")
		_, _, err = d.SignInFrom(ctx, "root@ops.example", "guess 9", codeAt(t, secret, at), admin, at)
		wantErr(t, err, ErrThrottled)
		got, mfaDone, err := d.SignInFrom(ctx, "Root@ops.example", adminPW, codeAt(t, secret, at), admin, at)
		if err != nil || !mfaDone || got.ID != a.ID {
			t.Fatalf("right password and code while throttled: %+v %v %v", got, mfaDone, err)
		}
		// Replayed code: refused, and counted as a wrong code.
		_, _, err = d.SignInFrom(ctx, "root@ops.example", adminPW, codeAt(t, secret, at), admin, at)
		wantErr(t, err, ErrThrottled)
		// Wrong codes with the right password: past the limit even a
		// valid one is refused.
		for i := 1; i < DefaultThrottleLimit; i++ {
			_, _, err = d.SignInFrom(ctx, "root@ops.example", adminPW, "000000", admin, at)
			wantErr(t, err, ErrThrottled)
		}
		later := at.Add(2 * time.Minute)
		_, _, err = d.SignInFrom(ctx, "root@ops.example", adminPW, codeAt(t, secret, later), admin, later)
		wantErr(t, err, ErrThrottled)

		// The source throttle: the attacker has 5 failures; 15 more on
		// other accounts, then even a fresh account is refused from there.
		for i := range DefaultSourceThrottleLimit - DefaultThrottleLimit {
			_, _, err := d.SignInFrom(ctx, fmt.Sprintf("n%d@ops.example", i), "guess", "", attacker, at)
			wantErr(t, err, ErrBadCredentials)
		}
		must[Admin](t)(d.CreateAdmin(ctx, By{}, 0, "fresh@ops.example", adminPW, Operator))
		_, _, err = d.SignInFrom(ctx, "fresh@ops.example", adminPW, "", attacker, at)
		wantErr(t, err, ErrThrottled, "192.0.2.66")
		// An IPv6 client is one /64.
		v6 := netip.MustParseAddr("2001:db8:1:2::1")
		if sourceKey(v6) != sourceKey(netip.MustParseAddr("2001:db8:1:2:ffff::9")) {
			t.Fatal("one /64, two keys")
		}
		must[Admin](t)(func() (Admin, error) {
			a, _, err := d.SignInFrom(ctx, "fresh@ops.example", adminPW, "", v6, at)
			return a, err
		}())
	})
}
