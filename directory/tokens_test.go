package directory

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	forEachDir(t, testTokens)
}

func testTokens(t *testing.T, d *Directory) {
	ctx := t.Context()
	a := tenantWithDomain(t, d, "a", "a.example")
	b := tenantWithDomain(t, d, "b", "b.example")
	clock := t0
	d.clock = func() time.Time { return clock }

	opTok, opPlain := mustToken(t, d, "deploy", TokenScope{Operator: true}, "root@ops.example")
	aTok, aPlain := mustToken(t, d, "backup", TokenScope{TenantID: a.ID}, "boss@a.example")
	bTok, bPlain := mustToken(t, d, "sync", TokenScope{TenantID: b.ID}, "boss@b.example")
	if !strings.HasPrefix(opPlain, "tg_"+strconv.FormatInt(opTok.ID, 10)+"_") || len(opPlain) < 32 || opPlain == aPlain {
		t.Fatalf("plaintexts %q, %q", opPlain, aPlain)
	}
	if aTok.Scope != (TokenScope{TenantID: a.ID}) || aTok.Name != "backup" || aTok.CreatedBy != "boss@a.example" || !aTok.Live() || aTok.CreatedAt.IsZero() {
		t.Fatalf("created %+v", aTok)
	}
	// Only a hash of the secret is stored.
	var stored string
	if err := d.db.Read.QueryRow(`SELECT secret_hash FROM api_tokens WHERE id = $1`, aTok.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if secret := aPlain[strings.LastIndexByte(aPlain, '_')+1:]; strings.Contains(stored, secret) || len(stored) != 64 {
		t.Fatalf("stored %q for secret %q", stored, secret)
	}

	got := must[Token](t)(d.AuthenticateToken(ctx, aPlain))
	if got.ID != aTok.ID || got.Scope.TenantID != a.ID || got.Scope.Operator || !got.LastUsed.Equal(t0) {
		t.Fatalf("AuthenticateToken = %+v", got)
	}
	if got := must[Token](t)(d.AuthenticateToken(ctx, opPlain)); !got.Scope.Operator || got.Scope.TenantID != 0 {
		t.Fatalf("operator token authenticated as %+v", got.Scope)
	}
	// LastUsed moves at most once a minute.
	clock = t0.Add(30 * time.Second)
	must[Token](t)(d.AuthenticateToken(ctx, aPlain))
	if lu := must[Token](t)(d.Token(ctx, aTok.ID)).LastUsed; !lu.Equal(t0) {
		t.Fatalf("LastUsed %v after 30 s, want %v", lu, t0)
	}
	clock = t0.Add(61 * time.Second)
	must[Token](t)(d.AuthenticateToken(ctx, aPlain))
	if lu := must[Token](t)(d.Token(ctx, aTok.ID)).LastUsed; !lu.Equal(clock) {
		t.Fatalf("LastUsed %v after 61 s, want %v", lu, clock)
	}

	// Malformed and forged tokens.
	idA := strconv.FormatInt(aTok.ID, 10)
	secretA := aPlain[len("tg_"+idA+"_"):]
	secretB := bPlain[strings.LastIndexByte(bPlain, '_')+1:]
	for _, bad := range []string{
		"", "garbage", "tg_", "tg__" + secretA, "tg_" + idA, "tg_" + idA + "_",
		"tg_" + idA + "_" + secretA[:31], "tg_" + idA + "_" + secretA + "x",
		"tg_" + idA + "_" + secretB, // another token's secret
		"tg_" + strconv.FormatInt(bTok.ID, 10) + "_" + secretA,
		"tg_999_" + secretA, "tg_-" + idA + "_" + secretA, "tg_+" + idA + "_" + secretA, "tg_0_" + secretA,
		"TG_" + idA + "_" + secretA, " " + aPlain, aPlain + "\n",
		"tg_" + idA + "_" + flipLast(secretA), // one symbol off
		"tg_99999999999999999999999_" + secretA,
	} {
		_, err := d.AuthenticateToken(ctx, bad)
		wantErr(t, err, ErrBadCredentials)
	}

	// Listing per scope.
	all := must[[]Token](t)(d.Tokens(ctx, TokenScope{Operator: true}))
	if len(all) != 3 || all[0].ID != opTok.ID || all[1].ID != aTok.ID || all[2].ID != bTok.ID {
		t.Fatalf("Tokens(operator) = %+v", all)
	}
	onlyA := must[[]Token](t)(d.Tokens(ctx, TokenScope{TenantID: a.ID}))
	if len(onlyA) != 1 || onlyA[0].ID != aTok.ID || onlyA[0].Name != "backup" {
		t.Fatalf("Tokens(a) = %+v", onlyA)
	}
	_, err := d.Tokens(ctx, TokenScope{TenantID: 999})
	wantErr(t, err, ErrNotFound, "999")
	_, err = d.Tokens(ctx, TokenScope{})
	wantErr(t, err, ErrInvalid)

	// Revocation stops the token at once and shows in the listing; others
	// keep working.
	if err := d.RevokeToken(ctx, By{}, aTok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = d.AuthenticateToken(ctx, aPlain)
	wantErr(t, err, ErrBadCredentials)
	must[Token](t)(d.AuthenticateToken(ctx, bPlain))
	if l := must[[]Token](t)(d.Tokens(ctx, TokenScope{TenantID: a.ID})); len(l) != 1 || l[0].Live() {
		t.Fatalf("after revoke: %+v", l)
	}
	if err := d.RevokeToken(ctx, By{}, aTok.ID); err != nil {
		t.Fatalf("revoking again: %v", err)
	}
	wantErr(t, d.RevokeToken(ctx, By{}, 999), ErrNotFound, "999")
	_, err = d.Token(ctx, 999)
	wantErr(t, err, ErrNotFound, "999")

	// Validation.
	for _, c := range []struct {
		name    string
		scope   TokenScope
		by      string
		target  error
		mention string
	}{
		{"x", TokenScope{TenantID: 999}, "root", ErrNotFound, "999"},
		{"x", TokenScope{Operator: true, TenantID: a.ID}, "root", ErrInvalid, "not both"},
		{"x", TokenScope{}, "root", ErrInvalid, "scope"},
		{" ", TokenScope{Operator: true}, "root", ErrInvalid, "empty"},
		{"x", TokenScope{Operator: true}, "", ErrInvalid, "created by"},
	} {
		_, _, err := d.CreateToken(ctx, By{Actor: c.by}, c.name, c.scope)
		wantErr(t, err, c.target, c.mention)
	}
}

func mustToken(t *testing.T, d *Directory, name string, scope TokenScope, by string) (Token, string) {
	t.Helper()
	tok, plain, err := d.CreateToken(t.Context(), By{Actor: by}, name, scope)
	if err != nil {
		t.Fatal(err)
	}
	return tok, plain
}

func flipLast(s string) string {
	if s[len(s)-1] == 'a' {
		return s[:len(s)-1] + "b"
	}
	return s[:len(s)-1] + "a"
}
