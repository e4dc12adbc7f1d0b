package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
)

// hashVersion is the first field hashed, so a future encoding can never
// produce the same bytes as this one.
const hashVersion = "tollgate-audit-v1"

// ComputeHash returns the hex SHA-256 that e.Hash must hold. It is the
// definition of the chain; any other implementation (PostgreSQL, an
// external verifier of an export) must produce the same bytes:
//
// The hash input is these 11 fields in this order, each written as its
// length in bytes (8-byte big-endian unsigned) followed by its bytes:
//
//  1. the text "tollgate-audit-v1"
//  2. PrevHash, lowercase hex ("" for the first entry)
//  3. ID, in decimal
//  4. Time as unix nanoseconds, in decimal (a leading '-' before 1970)
//  5. Actor
//  6. TenantID, in decimal
//  7. SourceIP
//  8. Action
//  9. Target
//  10. Before, the compacted JSON (encoding/json.Compact) exactly as stored,
//     or "" when there is none (valid JSON is never empty, so this is
//     unambiguous)
//  11. After, likewise
//
// Strings are hashed as their UTF-8 bytes; the digest is lowercase hex.
// The length prefixes make the encoding unambiguous: no two different
// entries give the same input.
func (e Entry) ComputeHash() string {
	h := sha256.New()
	var num [20]byte
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	str := func(s string) { field([]byte(s)) }
	integer := func(i int64) { field(strconv.AppendInt(num[:0], i, 10)) }

	str(hashVersion)
	str(e.PrevHash)
	integer(e.ID)
	integer(e.Time.UnixNano())
	str(e.Actor)
	integer(e.TenantID)
	str(e.SourceIP)
	str(e.Action)
	str(e.Target)
	field(e.Before)
	field(e.After)
	return hex.EncodeToString(h.Sum(nil))
}
