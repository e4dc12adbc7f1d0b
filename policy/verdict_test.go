package policy

import "testing"

// Bulk is a property beside the class: clean bulk mail counts towards the
// thresholds as bulk, spam as spam, and the old "bulk" class still reads
// the same.
func TestVerdictKind(t *testing.T) {
	cases := []struct {
		v         Verdict
		kind      Class
		spamOrBlk bool
	}{
		{Verdict{}, "", false},
		{Verdict{Class: "clean"}, "clean", false},
		{Verdict{Class: "clean", Bulk: 7, IsBulk: true}, "bulk", true},
		{Verdict{Class: "spam", Bulk: 7, IsBulk: true}, "spam", true},
		{Verdict{Class: "spam"}, "spam", true},
		{Verdict{Class: "bulk", Bulk: 6}, "bulk", true},
	}
	for _, c := range cases {
		if got := c.v.Kind(); got != c.kind || c.v.SpamOrBulk() != c.spamOrBlk {
			t.Errorf("%+v: kind %q spamOrBulk %v, want %q %v", c.v, got, c.v.SpamOrBulk(), c.kind, c.spamOrBlk)
		}
	}
}
