package directory

import (
	"testing"
	"time"
)

// TestTokenSource: a token's use records the client address, at once when
// the address changes (a leaked token used from elsewhere shows it on the
// next read), otherwise at most once a minute like LastUsed.
func TestTokenSource(t *testing.T) {
	forEachDir(t, func(t *testing.T, d *Directory) {
		ctx := t.Context()
		a := tenantWithDomain(t, d, "a", "a.example")
		clock := t0
		d.clock = func() time.Time { return clock }
		tok, plain := mustToken(t, d, "deploy-bot", TokenScope{TenantID: a.ID}, "admin:boss@a.example")

		got := must[Token](t)(d.AuthenticateTokenFrom(ctx, plain, "192.0.2.7"))
		if !got.Touched || got.LastUsedFrom != "192.0.2.7" {
			t.Fatalf("first use: %+v", got)
		}
		if st := must[Token](t)(d.Token(ctx, tok.ID)); st.LastUsedFrom != "192.0.2.7" || !st.LastUsed.Equal(t0) {
			t.Fatalf("stored after first use: from %q at %v", st.LastUsedFrom, st.LastUsed)
		}
		// The same address within the minute writes nothing.
		clock = t0.Add(10 * time.Second)
		if got := must[Token](t)(d.AuthenticateTokenFrom(ctx, plain, "192.0.2.7")); got.Touched {
			t.Fatalf("same address within a minute touched: %+v", got)
		}
		// Another address is written at once.
		clock = t0.Add(20 * time.Second)
		if got := must[Token](t)(d.AuthenticateTokenFrom(ctx, plain, "203.0.113.9")); !got.Touched {
			t.Fatalf("new address not recorded: %+v", got)
		}
		st := must[Token](t)(d.Token(ctx, tok.ID))
		if st.LastUsedFrom != "203.0.113.9" || !st.LastUsed.Equal(clock) {
			t.Fatalf("stored after a new address: from %q at %v, want 203.0.113.9 at %v", st.LastUsedFrom, st.LastUsed, clock)
		}
		// A use with no known address keeps the last one.
		clock = t0.Add(2 * time.Minute)
		must[Token](t)(d.AuthenticateToken(ctx, plain))
		if st := must[Token](t)(d.Token(ctx, tok.ID)); st.LastUsedFrom != "203.0.113.9" || !st.LastUsed.Equal(clock) {
			t.Fatalf("stored after an unknown address: from %q at %v", st.LastUsedFrom, st.LastUsed)
		}
		if ts := must[[]Token](t)(d.Tokens(ctx, TokenScope{TenantID: a.ID})); len(ts) != 1 || ts[0].LastUsedFrom != "203.0.113.9" {
			t.Fatalf("Tokens = %+v", ts)
		}
	})
}

// TestRequirePasswordChange: the flag is set on one admin, shows in Admin
// and Admins, and a new password clears it.
func TestRequirePasswordChange(t *testing.T) {
	forEachDir(t, func(t *testing.T, d *Directory) {
		ctx := t.Context()
		a := tenantWithDomain(t, d, "a", "a.example")
		boss := must[Admin](t)(d.CreateAdmin(ctx, By{}, a.ID, "boss@a.example", adminPW, TenantAdmin))
		aide := must[Admin](t)(d.CreateAdmin(ctx, By{}, a.ID, "aide@a.example", adminPW, TenantAdmin))
		if boss.PasswordChangeRequired {
			t.Fatal("a new admin must not be asked to change the password")
		}
		if err := d.RequirePasswordChange(ctx, By{}, boss.ID); err != nil {
			t.Fatal(err)
		}
		if got := must[Admin](t)(d.Admin(ctx, boss.ID)); !got.PasswordChangeRequired {
			t.Fatal("flag not set")
		}
		for _, x := range must[[]Admin](t)(d.Admins(ctx, a.ID)) {
			if x.PasswordChangeRequired != (x.ID == boss.ID) {
				t.Fatalf("Admins: %s flag %v", x.Email, x.PasswordChangeRequired)
			}
		}
		if _, err := d.SetAdminPassword(ctx, By{}, boss.ID, adminPW+"-new"); err != nil {
			t.Fatal(err)
		}
		if got := must[Admin](t)(d.Admin(ctx, boss.ID)); got.PasswordChangeRequired {
			t.Fatal("a new password did not clear the flag")
		}
		wantErr(t, d.RequirePasswordChange(ctx, By{}, aide.ID+100), ErrNotFound)
	})
}

// A token used from two addresses in turn is not written on every request:
// a new address within movedEvery of the last write waits.
func TestTokenSourceFlipFlop(t *testing.T) {
	forEachDir(t, func(t *testing.T, d *Directory) {
		ctx := t.Context()
		a := tenantWithDomain(t, d, "a", "a.example")
		clock := t0
		d.clock = func() time.Time { return clock }
		_, plain := mustToken(t, d, "ci", TokenScope{TenantID: a.ID}, "admin:boss@a.example")
		must[Token](t)(d.AuthenticateTokenFrom(ctx, plain, "192.0.2.1"))
		clock = t0.Add(2 * time.Second)
		if got := must[Token](t)(d.AuthenticateTokenFrom(ctx, plain, "192.0.2.2")); got.Touched {
			t.Fatalf("another address 2 s later was written: %+v", got)
		}
		clock = t0.Add(movedEvery)
		if got := must[Token](t)(d.AuthenticateTokenFrom(ctx, plain, "192.0.2.2")); !got.Touched || got.LastUsedFrom != "192.0.2.2" {
			t.Fatalf("another address after movedEvery: %+v", got)
		}
	})
}
