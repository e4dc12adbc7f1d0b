// Package password hashes and verifies secrets (users' SMTP passwords, later
// admins' passwords) with argon2id, stored as PHC strings.
//
// Each hash costs about Params.Memory KiB of RAM (19 MiB by default), so the
// number of hashes running at once is bounded process-wide (see
// SetConcurrency): a flood of AUTH attempts queues instead of exhausting
// memory.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters used by Hash.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes of derived hash
}

// DefaultParams is the OWASP minimum recommendation for argon2id
// (m=19 MiB, t=2, p=1).
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits on parameters, both for SetParams and for PHC strings read from the
// database, so a bad record cannot make one Verify allocate gigabytes or spin
// for minutes.
const (
	maxMemory  = 1 << 20 // KiB = 1 GiB
	maxTime    = 10
	maxThreads = 16
	minKeyLen  = 16
	maxKeyLen  = 64
	minSaltLen = 8
	maxSaltLen = 64
)

// ErrMalformed is wrapped by errors about unparsable or out-of-range PHC strings.
var ErrMalformed = errors.New("malformed password hash")

var current atomic.Pointer[Params]

func init() { SetParams(DefaultParams) }

// SetParams changes the parameters Hash uses. Tests use it to set cheap
// parameters; production code should leave DefaultParams alone. It panics on
// parameters outside the limits Verify accepts, since hashes made with them
// could never be verified.
func SetParams(p Params) {
	if err := p.validate(); err != nil {
		panic("password.SetParams: " + err.Error())
	}
	current.Store(&p)
}

// CurrentParams returns the parameters Hash uses.
func CurrentParams() Params { return *current.Load() }

func (p Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: t=%d not in 1..%d", ErrMalformed, p.Time, maxTime)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("%w: p=%d not in 1..%d", ErrMalformed, p.Threads, maxThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("%w: m=%d not in %d..%d", ErrMalformed, p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: hash length %d not in %d..%d", ErrMalformed, p.KeyLen, minKeyLen, maxKeyLen)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("%w: salt length %d not in %d..%d", ErrMalformed, p.SaltLen, minSaltLen, maxSaltLen)
	}
	return nil
}

// Hash returns a PHC string for secret made with the current parameters.
func Hash(secret string) (string, error) { return HashContext(context.Background(), secret) }

// HashContext is Hash that gives up with ctx's error while waiting for a
// hashing slot.
func HashContext(ctx context.Context, secret string) (string, error) {
	p := CurrentParams()
	salt := make([]byte, p.SaltLen)
	rand.Read(salt) // never fails (Go 1.24+ crashes the program instead)
	release, err := acquire(ctx)
	if err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	release()
	return encode(p, salt, key), nil
}

// Verify reports whether secret matches the PHC string phc. The error is
// only for malformed PHC strings (wrapping ErrMalformed).
func Verify(secret, phc string) (bool, error) {
	return VerifyContext(context.Background(), secret, phc)
}

// VerifyContext is Verify that gives up with ctx's error while waiting for a
// hashing slot. A malformed phc is reported before waiting.
func VerifyContext(ctx context.Context, secret, phc string) (bool, error) {
	p, salt, want, err := decode(phc)
	if err != nil {
		return false, err
	}
	release, err := acquire(ctx)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	release()
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
