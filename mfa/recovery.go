package mfa

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/tollgate-mail/tollgate/password"
)

const (
	// DefaultRecoveryCodes is how many codes RecoveryCodes makes for n <= 0.
	DefaultRecoveryCodes = 10
	// maxRecoveryCodes bounds n: UseRecoveryCode hashes once per stored
	// code, so many codes would make every attempt expensive.
	maxRecoveryCodes = 32
	// recoveryAlphabet is lower case without look-alikes (0 o, 1 l i), so a
	// code copied from paper is typed right. 31 symbols, 12 of them per code:
	// about 59 bits, ample for a one-time code behind argon2id and rate limits.
	recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"
	recoveryGroups   = 3
	recoveryGroupLen = 4
	recoveryLen      = recoveryGroups * recoveryGroupLen
	// maxRecoveryInput bounds the work on a typed code before normalising.
	maxRecoveryInput = 64
)

// RecoveryCodes makes n one-time codes such as "k7q2-9vxd-p3mh" (n <= 0
// means DefaultRecoveryCodes). plain is for showing once; hashes are argon2id
// PHC strings of the normalised codes, in the same order, to store. Making
// them takes n argon2id hashes, so it is slow with production parameters.
func RecoveryCodes(n int) (plain []string, hashes []string, err error) {
	if n <= 0 {
		n = DefaultRecoveryCodes
	}
	if n > maxRecoveryCodes {
		return nil, nil, fmt.Errorf("mfa: %d recovery codes, at most %d", n, maxRecoveryCodes)
	}
	seen := make(map[string]bool, n)
	for len(plain) < n {
		raw := randomRecovery()
		if seen[raw] { // 59 bits make this practically impossible, but cheap to rule out
			continue
		}
		seen[raw] = true
		h, err := password.Hash(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("mfa: hash recovery code: %w", err)
		}
		plain = append(plain, formatRecovery(raw))
		hashes = append(hashes, h)
	}
	return plain, hashes, nil
}

// randomRecovery returns recoveryLen symbols from crypto/rand. Bytes of
// 248 (= 8·31) and above are dropped so every symbol is equally likely.
func randomRecovery() string {
	out := make([]byte, 0, recoveryLen)
	buf := make([]byte, 2*recoveryLen)
	for len(out) < recoveryLen {
		rand.Read(buf) // never fails (Go 1.24+ crashes the program instead)
		for _, b := range buf {
			if int(b) < 8*len(recoveryAlphabet) && len(out) < recoveryLen {
				out = append(out, recoveryAlphabet[int(b)%len(recoveryAlphabet)])
			}
		}
	}
	return string(out)
}

// formatRecovery splits a normalised code into dash-separated groups.
func formatRecovery(raw string) string {
	groups := make([]string, 0, recoveryGroups)
	for i := 0; i < len(raw); i += recoveryGroupLen {
		groups = append(groups, raw[i:i+recoveryGroupLen])
	}
	return strings.Join(groups, "-")
}

// normaliseRecovery lower-cases code and drops spaces and dashes, which
// people add, drop or change when copying a code. It reports false if what
// is left cannot be a recovery code, so no hash need be computed.
func normaliseRecovery(code string) (string, bool) {
	if len(code) > maxRecoveryInput {
		return "", false
	}
	out := make([]byte, 0, recoveryLen)
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch {
		case c == ' ' || c == '\t' || c == '-':
		case strings.IndexByte(recoveryAlphabet, c) >= 0 && len(out) < recoveryLen:
			out = append(out, c)
		default:
			return "", false
		}
	}
	return string(out), len(out) == recoveryLen
}

// UseRecoveryCode returns the index in hashes of the code, or -1. The caller
// then deletes that hash (atomically with this check) so the code works once.
//
// Input that cannot be a code returns -1 at once. Otherwise every hash is
// checked, even after a match, so a correct code costs as much as a wrong
// one (len(hashes) argon2id runs: rate-limit attempts). Malformed hashes are
// skipped; if nothing matched and some were malformed, the error wraps
// password.ErrMalformed so the caller can report the corrupt record. A done
// ctx returns -1 and ctx's error.
func UseRecoveryCode(ctx context.Context, code string, hashes []string) (int, error) {
	norm, ok := normaliseRecovery(code)
	if !ok {
		return -1, nil
	}
	match, malformed := -1, 0
	for i, h := range hashes {
		ok, err := password.VerifyContext(ctx, norm, h)
		switch {
		case errors.Is(err, password.ErrMalformed):
			malformed++
		case err != nil:
			return -1, err
		case ok && match < 0:
			match = i
		}
	}
	if match < 0 && malformed > 0 {
		return -1, fmt.Errorf("mfa: %d of %d recovery-code hashes skipped: %w", malformed, len(hashes), password.ErrMalformed)
	}
	return match, nil
}
