package mfa

import (
	"testing"
	"time"
)

// FuzzVerify checks that no secret, code, time or stored step panics, and
// that the result keeps the replay invariants: an accepted step is newer
// than lastStep and within one step of now; a refusal returns lastStep.
func FuzzVerify(f *testing.F) {
	f.Add(rfcSecret, "287082", int64(59), int64(0))
	f.Add(rfcSecret, "287082", int64(59), int64(1))
	f.Add(rfcSecret, "123 456", int64(1_800_000_000), int64(-5))
	f.Add("", "", int64(0), int64(0))
	f.Add("gezdgnbvgy3tqojqgezdgnbvgy3tqojq====", "000000", int64(-1), int64(1<<62))
	f.Add("GEZDGNBV\nGY3TQOJQGEZDGNBVGY3TQOJQ", "12a456", int64(1<<62), int64(-1<<62))
	f.Fuzz(func(t *testing.T, secret, code string, unix, last int64) {
		ok, step, err := Verify(secret, code, time.Unix(unix, 0), last)
		if !ok {
			if step != last {
				t.Fatalf("refused but step %d != lastStep %d", step, last)
			}
			return
		}
		if err != nil {
			t.Fatalf("accepted with error %v", err)
		}
		cur := unix / 30
		if unix%30 < 0 {
			cur--
		}
		if step <= last || step < cur-1 || step > cur+1 || step < 1 {
			t.Fatalf("accepted step %d (now step %d, lastStep %d)", step, cur, last)
		}
		// The same code must now be refused.
		if ok, _, _ := Verify(secret, code, time.Unix(unix, 0), step); ok {
			t.Fatal("replay accepted")
		}
	})
}
