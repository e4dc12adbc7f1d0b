package mfa

import (
	"bytes"
	"encoding/base32"
	"errors"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// rfcSecret is the SHA1 key of RFC 6238 appendix B ("12345678901234567890").
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// t0 is an arbitrary fixed time 10 s into a step, so ±20 s stays in it.
var t0 = time.Date(2026, 11, 20, 12, 0, 10, 0, time.UTC)

var opts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// codeAt uses the library's own time-based generator, independent of the
// step arithmetic in Verify.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func stepOf(at time.Time) int64 { return at.Unix() / 30 }

func mustVerify(t *testing.T, secret, code string, now time.Time, last int64, wantOK bool, wantStep int64) {
	t.Helper()
	ok, step, err := Verify(secret, code, now, last)
	if err != nil || ok != wantOK || step != wantStep {
		t.Fatalf("Verify(%q, at %v, last %d) = %v, %d, %v; want %v, %d, nil",
			code, now.Unix(), last, ok, step, err, wantOK, wantStep)
	}
}

// The RFC 6238 test vectors (last 6 of the 8 digits) pin the algorithm
// independently of pquerna/otp.
func TestRFC6238Vectors(t *testing.T) {
	for _, v := range []struct {
		unix int64
		code string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
		{1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}} {
		mustVerify(t, rfcSecret, v.code, time.Unix(v.unix, 0), 0, true, v.unix/30)
	}
}

func TestEnrollThenVerify(t *testing.T) {
	e, err := Enroll("Tollgate", "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
	if err != nil || len(raw) != 20 {
		t.Fatalf("secret %q: %d bytes, %v; want 20 bytes of base32", e.Secret, len(raw), err)
	}
	mustVerify(t, e.Secret, codeAt(t, e.Secret, t0), t0, 0, true, stepOf(t0))
	// Lower case and padding, as some tools write secrets, still work.
	padded := strings.ToLower(e.Secret) + "===="
	mustVerify(t, padded, codeAt(t, e.Secret, t0), t0, 0, true, stepOf(t0))

	other, err := Enroll("Tollgate", "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if other.Secret == e.Secret {
		t.Fatal("two enrolments share a secret")
	}
}

func TestReplayRefused(t *testing.T) {
	code := codeAt(t, rfcSecret, t0)
	s := stepOf(t0)
	mustVerify(t, rfcSecret, code, t0, 0, true, s)
	// Same code again, at once and later in the same step: refused, and the
	// returned step is the stored one unchanged.
	mustVerify(t, rfcSecret, code, t0, s, false, s)
	mustVerify(t, rfcSecret, code, t0.Add(15*time.Second), s, false, s)
	// Still inside the skew window one step later: refused.
	mustVerify(t, rfcSecret, code, t0.Add(30*time.Second), s, false, s)
	// The next step's code is fresh and accepted.
	next := t0.Add(30 * time.Second)
	mustVerify(t, rfcSecret, codeAt(t, rfcSecret, next), next, s, true, s+1)
}

func TestPreviousStepOnce(t *testing.T) {
	s := stepOf(t0)
	prev := codeAt(t, rfcSecret, t0.Add(-30*time.Second))
	mustVerify(t, rfcSecret, prev, t0, 0, true, s-1)
	mustVerify(t, rfcSecret, prev, t0, s-1, false, s-1)
	// The current code is still fresh after the previous one was used.
	mustVerify(t, rfcSecret, codeAt(t, rfcSecret, t0), t0, s-1, true, s)
	// Once the current step is used, the previous one is refused too.
	mustVerify(t, rfcSecret, prev, t0, s, false, s)
}

func TestSkewBounds(t *testing.T) {
	s := stepOf(t0)
	mustVerify(t, rfcSecret, codeAt(t, rfcSecret, t0.Add(30*time.Second)), t0, 0, true, s+1)
	for _, d := range []time.Duration{-60 * time.Second, -90 * time.Second, 60 * time.Second} {
		c := codeAt(t, rfcSecret, t0.Add(d))
		if c == codeAt(t, rfcSecret, t0) || c == codeAt(t, rfcSecret, t0.Add(-30*time.Second)) ||
			c == codeAt(t, rfcSecret, t0.Add(30*time.Second)) {
			t.Fatalf("fixture collision for %v", d) // 1e-6 chance; choose another t0
		}
		mustVerify(t, rfcSecret, c, t0, 0, false, 0)
	}
}

func TestWrongCode(t *testing.T) {
	window := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		window[codeAt(t, rfcSecret, t0.Add(d))] = true
	}
	wrong := []byte(codeAt(t, rfcSecret, t0))
	for window[string(wrong)] {
		wrong[5] = '0' + (wrong[5]-'0'+1)%10
	}
	mustVerify(t, rfcSecret, string(wrong), t0, 7, false, 7)
	// A valid code for another secret is wrong here.
	e, err := Enroll("Tollgate", "other@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if c := codeAt(t, e.Secret, t0); !window[c] {
		mustVerify(t, rfcSecret, c, t0, 0, false, 0)
	}
}

func TestCodeFormat(t *testing.T) {
	good := codeAt(t, rfcSecret, t0)
	mustVerify(t, rfcSecret, " "+good[:3]+" "+good[3:]+"\t", t0, 0, true, stepOf(t0))
	for _, c := range []string{"", "12345", "1234567", "12a456", "abcdef", "-12345", "+12345",
		"１２３４５６", "123\x00456", "12345\n6", strings.Repeat("1", 1<<20), "\xff\xfe\xfd\xfc\xfb\xfa"} {
		ok, step, err := Verify(rfcSecret, c, t0, 3)
		if ok || step != 3 || !errors.Is(err, ErrCodeFormat) {
			t.Errorf("Verify(code %.20q) = %v, %d, %v; want false, 3, ErrCodeFormat", c, ok, step, err)
		}
	}
}

func TestBadSecret(t *testing.T) {
	for _, s := range []string{"", "====", "!!!!!!!!", "AAAAAAAA", // 40 bits: too short
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ1", "GEZDGNBV GY3TQOJQ GEZDGNBV GY3TQOJQ",
		strings.Repeat("A", 1<<20), "\xff" + rfcSecret, "ÄÖÜ"} {
		ok, step, err := Verify(s, "123456", t0, 5)
		if ok || step != 5 || !errors.Is(err, ErrSecret) {
			t.Errorf("Verify(secret %.20q) = %v, %d, %v; want false, 5, ErrSecret", s, ok, step, err)
		}
	}
}

// Steps below 1 are never accepted, so "lastStep 0 = none" stays unambiguous
// and negative times cannot reach the unsigned counter.
func TestEarlyTimes(t *testing.T) {
	for _, u := range []int64{-1 << 62, -31, -1, 0, 29} {
		at := time.Unix(u, 0)
		c, err := totp.GenerateCodeCustom(rfcSecret, at, opts)
		if err != nil {
			c = "000000"
		}
		if ok, _, err := Verify(rfcSecret, c, at, 0); ok || err != nil {
			t.Errorf("Verify at unix %d = %v, %v; want false, nil", u, ok, err)
		}
	}
}

func TestEnrollURL(t *testing.T) {
	e, err := Enroll("Tollgate Mail", "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Tollgate Mail:admin@example.com" {
		t.Errorf("URL %q: want otpauth://totp/Tollgate Mail:admin@example.com", e.URL)
	}
	q := u.Query()
	for k, want := range map[string]string{"issuer": "Tollgate Mail", "algorithm": "SHA1",
		"digits": "6", "period": "30", "secret": e.Secret} {
		if got := q.Get(k); got != want {
			t.Errorf("URL %q: %s=%q, want %q", e.URL, k, got, want)
		}
	}
}

// The label limits must keep even the longest URL (every byte
// percent-encoded, the issuer written twice) within a 256-pixel QR code.
func TestEnrollPNG(t *testing.T) {
	for _, l := range [][2]string{{"Tollgate", "admin@example.com"},
		{strings.Repeat("é", 64), strings.Repeat("é", 64)}} {
		e, err := Enroll(l[0], l[1])
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(e.PNG))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
			t.Fatalf("QR code is %dx%d, want 256x256", b.Dx(), b.Dy())
		}
	}
}

func TestEnrollBadLabels(t *testing.T) {
	for _, c := range [][2]string{{"", "a"}, {"T", ""}, {"Toll:gate", "a"}, {"T", "a\nb"},
		{"T", strings.Repeat("a", 129)}, {"\xff", "a"}} {
		if _, err := Enroll(c[0], c[1]); !errors.Is(err, ErrLabel) {
			t.Errorf("Enroll(%q, %q) error = %v, want ErrLabel", c[0], c[1], err)
		}
	}
}
