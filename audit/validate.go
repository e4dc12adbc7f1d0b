package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on what one entry may hold. The log is read by people and kept for
// years, so runaway values are refused rather than stored.
const (
	MaxActorLen  = 200       // characters
	MaxActionLen = 200       // characters
	MaxTargetLen = 1000      // characters
	MaxStateLen  = 256 << 10 // bytes of compacted JSON, each of Before and After
)

// invalid wraps ErrInvalid with the field at fault, e.g. "audit: action: invalid: ...".
func invalid(field string, reason error) error {
	return fmt.Errorf("audit: %s: %w: %v", field, ErrInvalid, reason)
}

// prepare validates the caller's fields and returns e with SourceIP and the
// JSON states in their canonical stored form. ID, Time and the hashes are
// not the caller's to set and are cleared.
func prepare(e Entry) (Entry, error) {
	if err := checkText(e.Actor, MaxActorLen, true); err != nil {
		return Entry{}, invalid("actor", err)
	}
	if err := checkAction(e.Action); err != nil {
		return Entry{}, invalid("action", err)
	}
	if err := checkText(e.Target, MaxTargetLen, false); err != nil {
		return Entry{}, invalid("target", err)
	}
	if e.TenantID < 0 {
		return Entry{}, invalid("tenant", fmt.Errorf("id %d is negative", e.TenantID))
	}
	if e.SourceIP != "" {
		ip, err := netip.ParseAddr(e.SourceIP)
		if err != nil {
			return Entry{}, invalid("source ip", err)
		}
		e.SourceIP = ip.String()
	}
	var err error
	if e.Before, err = compactJSON(e.Before); err != nil {
		return Entry{}, invalid("before", err)
	}
	if e.After, err = compactJSON(e.After); err != nil {
		return Entry{}, invalid("after", err)
	}
	e.ID, e.Time, e.PrevHash, e.Hash = 0, time.Time{}, "", ""
	return e, nil
}

// checkText refuses empty (if required), over-long, non-UTF-8 and control
// characters: a newline in an actor name could forge lines when the log is
// printed, and PostgreSQL TEXT refuses NUL and invalid UTF-8.
func checkText(s string, maxLen int, required bool) error {
	switch {
	case s == "" && required:
		return errors.New("is required")
	case !utf8.ValidString(s):
		return errors.New("is not valid UTF-8")
	case utf8.RuneCountInString(s) > maxLen:
		return fmt.Errorf("is longer than %d characters", maxLen)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return errors.New("contains control characters")
	}
	return nil
}

// checkAction requires a dotted lowercase verb like "auth.signin.fail":
// segments of [a-z0-9_-] separated by single dots. The fixed shape is what
// makes Filter.ActionPrefix ("connector" for every connector.*) reliable.
func checkAction(a string) error {
	if err := checkText(a, MaxActionLen, true); err != nil {
		return err
	}
	for _, seg := range strings.Split(a, ".") {
		if seg == "" {
			return fmt.Errorf("%q has an empty segment; want a dotted verb like connector.create", a)
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return fmt.Errorf("%q contains %q; use lowercase letters, digits, '_' and '-' between dots", a, c)
			}
		}
	}
	return nil
}

// compactJSON returns nil for no state, or the compacted form of valid JSON,
// which is what is stored and hashed.
func compactJSON(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if buf.Len() > MaxStateLen {
		return nil, fmt.Errorf("is %d bytes of JSON, more than %d", buf.Len(), MaxStateLen)
	}
	if !utf8.Valid(buf.Bytes()) {
		return nil, errors.New("is not valid UTF-8")
	}
	return json.RawMessage(buf.Bytes()), nil
}
