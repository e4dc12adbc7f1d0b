package mfa

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/password"
)

var recoveryForm = regexp.MustCompile(`^[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}$`)

func TestRecoveryCodesShape(t *testing.T) {
	plain, hashes, err := RecoveryCodes(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != DefaultRecoveryCodes || len(hashes) != DefaultRecoveryCodes {
		t.Fatalf("got %d codes, %d hashes; want %d each", len(plain), len(hashes), DefaultRecoveryCodes)
	}
	seen := map[string]bool{}
	for i, p := range plain {
		if !recoveryForm.MatchString(p) {
			t.Errorf("code %q is not xxxx-xxxx-xxxx from the alphabet", p)
		}
		if seen[p] || seen[hashes[i]] {
			t.Errorf("duplicate code or hash at %d", i)
		}
		seen[p], seen[hashes[i]] = true, true
		if !strings.HasPrefix(hashes[i], "$argon2id$") {
			t.Errorf("hash %q is not argon2id PHC", hashes[i])
		}
	}
	if _, _, err := RecoveryCodes(maxRecoveryCodes + 1); err == nil {
		t.Error("RecoveryCodes(too many) succeeded")
	}
}

// Every symbol should turn up across many codes: a broken sampler (say,
// always the same byte) would fail this.
func TestRecoveryAlphabetCovered(t *testing.T) {
	seen := map[rune]bool{}
	for range 200 {
		for _, c := range randomRecovery() {
			seen[c] = true
		}
	}
	if len(seen) != len(recoveryAlphabet) {
		t.Fatalf("saw %d distinct symbols in 2400, want %d", len(seen), len(recoveryAlphabet))
	}
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	ctx := context.Background()
	plain, hashes, err := RecoveryCodes(5)
	if err != nil {
		t.Fatal(err)
	}
	// Use them out of order, deleting each used hash as the caller must.
	for _, k := range []int{3, 0, 4, 1, 2} {
		code := plain[k]
		i, err := UseRecoveryCode(ctx, code, hashes)
		if err != nil || i < 0 {
			t.Fatalf("code %d: index %d, %v", k, i, err)
		}
		if ok, _ := password.Verify(strings.ReplaceAll(code, "-", ""), hashes[i]); !ok {
			t.Fatalf("code %d: index %d is another code's hash", k, i)
		}
		hashes = slices.Delete(hashes, i, i+1)
		if i, err := UseRecoveryCode(ctx, code, hashes); i != -1 || err != nil {
			t.Fatalf("code %d reused: index %d, %v", k, i, err)
		}
	}
	if len(hashes) != 0 {
		t.Fatalf("%d hashes left", len(hashes))
	}
}

func TestRecoveryNormalisation(t *testing.T) {
	plain, hashes, err := RecoveryCodes(3)
	if err != nil {
		t.Fatal(err)
	}
	c := plain[1] // "k7q2-9vxd-p3mh"
	raw := strings.ReplaceAll(c, "-", "")
	for _, typed := range []string{
		strings.ToUpper(c[:4]) + " " + strings.ToUpper(c[5:]), // "K7Q2 9VXD-P3MH"
		raw, " " + raw + " ", c[:2] + "-" + c[2:] + "\t", strings.ToUpper(raw),
		strings.Join(strings.Split(raw, ""), " "),
	} {
		if i, err := UseRecoveryCode(context.Background(), typed, hashes); i != 1 || err != nil {
			t.Errorf("UseRecoveryCode(%q) = %d, %v; want 1", typed, i, err)
		}
	}
}

func TestRecoveryWrongCode(t *testing.T) {
	plain, hashes, err := RecoveryCodes(3)
	if err != nil {
		t.Fatal(err)
	}
	other := formatRecovery(randomRecovery())
	for slices.Contains(plain, other) {
		other = formatRecovery(randomRecovery())
	}
	// One symbol changed from a real code (to another valid symbol).
	near := []byte(plain[0])
	near[0] = recoveryAlphabet[(strings.IndexByte(recoveryAlphabet, near[0])+1)%len(recoveryAlphabet)]
	for _, c := range []string{other, string(near), plain[0][:13], plain[0] + "a", "", "----",
		strings.Replace(plain[0], plain[0][:1], "0", 1), "ä" + plain[0][1:], strings.Repeat("a", 1<<20)} {
		if i, err := UseRecoveryCode(context.Background(), c, hashes); i != -1 || err != nil {
			t.Errorf("UseRecoveryCode(%.20q) = %d, %v; want -1, nil", c, i, err)
		}
	}
	if i, err := UseRecoveryCode(context.Background(), plain[0], nil); i != -1 || err != nil {
		t.Errorf("with no hashes: %d, %v", i, err)
	}
}

// A corrupt stored hash must not hide a good one after it.
func TestRecoveryMalformedHashSkipped(t *testing.T) {
	plain, hashes, err := RecoveryCodes(2)
	if err != nil {
		t.Fatal(err)
	}
	mixed := []string{"", "garbage", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", hashes[0], "x", hashes[1]}
	if i, err := UseRecoveryCode(context.Background(), plain[1], mixed); i != 5 || err != nil {
		t.Fatalf("got %d, %v; want 5, nil", i, err)
	}
	if i, err := UseRecoveryCode(context.Background(), plain[0], mixed); i != 3 || err != nil {
		t.Fatalf("got %d, %v; want 3, nil", i, err)
	}
	// No match and corrupt hashes: -1, and an error saying so.
	i, err := UseRecoveryCode(context.Background(), formatRecovery(randomRecovery()), mixed)
	if i != -1 || !errors.Is(err, password.ErrMalformed) {
		t.Fatalf("got %d, %v; want -1, ErrMalformed", i, err)
	}
}

func TestRecoveryContextDone(t *testing.T) {
	plain, hashes, err := RecoveryCodes(2)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if i, err := UseRecoveryCode(ctx, plain[0], hashes); i != -1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %d, %v; want -1, context.Canceled", i, err)
	}
}
