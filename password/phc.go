package password

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// b64 is the PHC encoding: standard alphabet, no padding. Strict rejects
// non-zero trailing bits, so each hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

// encode formats $argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses exactly the form encode writes. Anything else (other
// algorithms or versions, extra or reordered parameters, leading zeros, bad
// base64, parameters beyond the limits) is an error, never a panic.
func decode(phc string) (p Params, salt, key []byte, err error) {
	bad := func(format string, a ...any) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
	}
	if len(phc) > 512 {
		return bad("%d bytes long", len(phc))
	}
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want 5 $-separated fields")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm %q is not argon2id", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("version %q is not v=%d", parts[2], argon2.Version)
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return bad("parameters %q are not m=,t=,p=", parts[3])
	}
	var nums [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(kv[i], name)
		if !ok {
			return bad("parameters %q are not m=,t=,p=", parts[3])
		}
		if nums[i], ok = decimal(v); !ok {
			return bad("parameter %q is not a decimal number", kv[i])
		}
	}
	if nums[0] > maxMemory || nums[1] > maxTime || nums[2] > maxThreads {
		return bad("parameters %q exceed m≤%d,t≤%d,p≤%d", parts[3], maxMemory, maxTime, maxThreads)
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return bad("salt: %v", err)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return bad("hash: %v", err)
	}
	p = Params{Memory: uint32(nums[0]), Time: uint32(nums[1]), Threads: uint8(nums[2]),
		SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if err := p.validate(); err != nil {
		return Params{}, nil, nil, err
	}
	return p, salt, key, nil
}

// decimal parses a non-negative decimal without sign or leading zeros.
func decimal(s string) (uint64, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}
