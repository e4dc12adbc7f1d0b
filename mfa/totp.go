package mfa

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// The TOTP parameters are fixed to what every authenticator app supports;
// apps silently ignore others and then show codes that never verify.
const (
	// Period is the TOTP time step in seconds.
	Period = 30
	// Digits is the length of a TOTP code.
	Digits = 6
	// secretBytes is 160 bits, RFC 4226's recommended key length.
	secretBytes = 20
	// minSecretBytes is RFC 4226's minimum (128 bits); shorter stored
	// secrets are refused rather than trusted.
	minSecretBytes = 16
	// maxSecretChars bounds the work done on a stored secret before it is
	// decoded (128 bytes encode to 205 base32 characters).
	maxSecretChars = 256
	// maxCodeChars bounds the work done on a typed code before it is
	// normalised; real codes are 6 digits plus a space or two.
	maxCodeChars = 32
	// qrSize is the width and height of Enrollment.PNG in pixels.
	qrSize = 256
	// maxLabel bounds issuer and account so the otpauth URL always fits a
	// QR code that can be drawn at qrSize pixels.
	maxLabel = 128
)

var (
	// ErrSecret is returned for a stored secret that is not usable base32
	// of at least 128 bits: a corrupt admin record, not a wrong code.
	ErrSecret = errors.New("mfa: invalid TOTP secret")
	// ErrCodeFormat is returned for a typed code that is not 6 digits, so
	// the caller can tell the user how a code looks. It is still a failed
	// attempt and should count against rate limits like a wrong code.
	ErrCodeFormat = errors.New("mfa: a TOTP code is 6 digits")
	// ErrLabel is returned by Enroll for an unusable issuer or account.
	ErrLabel = errors.New("mfa: invalid issuer or account name")
)

// b32 is the encoding authenticator apps expect in otpauth URLs: RFC 4648
// upper case without padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Enrollment is what an admin scans on first sign-in.
type Enrollment struct {
	Secret string // base32 without padding; store it, show it once for manual entry
	URL    string // otpauth://totp/... for the QR code
	PNG    []byte // the URL as a QR code, 256x256 pixels
}

// Enroll makes a new random 160-bit secret for account at issuer, with SHA1,
// 6 digits and a 30 s period: the only combination all authenticator apps
// honour. The caller stores Secret and should activate it only after the
// admin has entered one valid code, proving the scan worked.
func Enroll(issuer, account string) (Enrollment, error) {
	if err := checkLabel(issuer, true); err != nil {
		return Enrollment{}, fmt.Errorf("%w: issuer: %v", ErrLabel, err)
	}
	if err := checkLabel(account, false); err != nil {
		return Enrollment{}, fmt.Errorf("%w: account: %v", ErrLabel, err)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      Period,
		SecretSize:  secretBytes,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return Enrollment{}, fmt.Errorf("mfa: generate key: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return Enrollment{}, fmt.Errorf("mfa: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrollment{}, fmt.Errorf("mfa: QR code: %w", err)
	}
	return Enrollment{Secret: key.Secret(), URL: key.URL(), PNG: buf.Bytes()}, nil
}

// checkLabel keeps labels short, printable UTF-8. The issuer may not hold a
// colon because the otpauth label is "issuer:account" and apps split at the
// first colon.
func checkLabel(s string, issuer bool) error {
	switch {
	case s == "":
		return errors.New("empty")
	case len(s) > maxLabel:
		return fmt.Errorf("longer than %d bytes", maxLabel)
	case !utf8.ValidString(s):
		return errors.New("not UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return errors.New("control character")
	case issuer && strings.Contains(s, ":"):
		return errors.New("contains ':'")
	}
	return nil
}

// Verify checks code against secret at time now. lastStep is the last time
// step (unix/30) already accepted for this admin, 0 if none.
//
// totp.Validate alone would accept one code again and again for as long as
// it is valid (up to 90 s with skew), so a code seen by a shoulder surfer or
// a phishing proxy could be reused. Here a code is accepted once: a code for
// a step <= lastStep is refused even inside the validity window. Codes for
// one step either side of now are accepted, for clock drift and typing time.
//
// On success step is the matched step, to be stored as the new lastStep. On
// failure step is lastStep, so storing it unconditionally is harmless.
// err is ErrSecret for a bad stored secret and ErrCodeFormat for a code that
// is not 6 digits (spaces are ignored); ok is then false.
func Verify(secret, code string, now time.Time, lastStep int64) (ok bool, step int64, err error) {
	key, err := canonicalSecret(secret)
	if err != nil {
		return false, lastStep, err
	}
	typed, err := normaliseCode(code)
	if err != nil {
		return false, lastStep, err
	}
	// Floor division: Unix times before 1970 are negative.
	cur := now.Unix() / Period
	if now.Unix()%Period < 0 {
		cur--
	}
	matched, found := int64(0), false
	// Every candidate is generated and compared, matched or not, so the
	// time taken does not tell which step matched.
	for s := cur - 1; s <= cur+1; s++ {
		// Steps below 1 predate 1970-01-01T00:00:30Z; refusing them keeps
		// "0 = none" unambiguous and the counter conversion safe.
		if s < 1 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(key, uint64(s), hotp.ValidateOpts{
			Digits:    otp.DigitsSix,
			Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return false, lastStep, fmt.Errorf("%w: %v", ErrSecret, err)
		}
		if subtle.ConstantTimeCompare([]byte(want), typed) == 1 && s > lastStep {
			// The latest matching step wins: it refuses the most codes
			// afterwards should one code match two steps (chance 1e-6).
			matched, found = s, true
		}
	}
	if !found {
		return false, lastStep, nil
	}
	return true, matched, nil
}

// canonicalSecret accepts the secret as Enroll returns it, and also in
// lower case or with '=' padding, and returns the upper-case unpadded form.
// Secrets are limited to maxSecretChars, and must hold at least 128 bits.
func canonicalSecret(secret string) (string, error) {
	if len(secret) > maxSecretChars {
		return "", fmt.Errorf("%w: %d characters", ErrSecret, len(secret))
	}
	s := strings.ToUpper(strings.TrimRight(secret, "="))
	raw, err := b32.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("%w: not base32", ErrSecret)
	}
	if len(raw) < minSecretBytes {
		return "", fmt.Errorf("%w: %d bits, want at least %d", ErrSecret, 8*len(raw), 8*minSecretBytes)
	}
	// Re-encoding drops anything the decoder skipped (it ignores CR and
	// LF), so hotp sees exactly the key that was checked.
	return b32.EncodeToString(raw), nil
}

// normaliseCode drops the spaces apps show ("123 456") and people paste
// around a code, and requires exactly Digits ASCII digits.
func normaliseCode(code string) ([]byte, error) {
	if len(code) > maxCodeChars {
		return nil, ErrCodeFormat
	}
	out := make([]byte, 0, Digits)
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == ' ' || c == '\t':
		case c >= '0' && c <= '9' && len(out) < Digits:
			out = append(out, c)
		default:
			return nil, ErrCodeFormat
		}
	}
	if len(out) != Digits {
		return nil, ErrCodeFormat
	}
	return out, nil
}
