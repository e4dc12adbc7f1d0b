package classify

import "testing"

// TestClassifyHeaderForgeryRules: the learned header rules of feature
// version 5 fire on the tricks and stay quiet on the ordinary headers most
// like them.
func TestClassifyHeaderForgeryRules(t *testing.T) {
	for _, c := range []struct {
		subject string
		want    bool
	}{
		{"Save now                     ", true},
		{"you don't satisfy me               FGTPRIL7x", true},
		{"Hottest babes!      4139YAEk3--9", true},
		{"New Stock Pick: BBAN - Last Pick UP 309%.......................................... gsg", true},
		{"Your receipt [#TA-402569]", false},
		{"Re: meeting at 10:30", false},
		{"Invoice INV-2026-0042 for November", false},
		{"Weekly digest   ", true},
		{"Order   12345", false},
	} {
		if got := subjectPadded(c.subject); got != c.want {
			t.Errorf("subjectPadded(%q) = %v, want %v", c.subject, got, c.want)
		}
	}
	for _, c := range []struct {
		local string
		want  bool
	}{
		{"fsnf0r3s", true}, {"betsycallaway8827v30", true}, {"newpsychic414", true}, {"wvx37x", true},
		{"ann.lee", false}, {"billing", false}, {"jsmith84", false}, {"no-reply", false}, {"12345", false}, {"", false},
	} {
		if got := randomLocal(c.local); got != c.want {
			t.Errorf("randomLocal(%q) = %v, want %v", c.local, got, c.want)
		}
	}
	rules := func(raw string) map[string]bool {
		var d document
		d.parse([]byte(raw), DefaultCaps())
		c := &collector{mask: 1<<18 - 1, seen: map[uint32]struct{}{}}
		d.extract(c, nil)
		out := map[string]bool{}
		for _, n := range []string{"REPLYTO_FREEMAIL", "SUBJECT_PADDED", "SUBJECT_URL", "FROM_LOCAL_RANDOM"} {
			for _, i := range c.rules {
				if i == hashFeature(kindRule, []byte(n))&c.mask {
					out[n] = true
				}
			}
		}
		return out
	}
	got := rules("From: Sales <info@smokes.example.com>\r\nReply-To: buyer77@netzero.net\r\nSubject: http://www.deals.example/\r\n\r\nbuy now\r\n")
	if !got["REPLYTO_FREEMAIL"] || !got["SUBJECT_URL"] {
		t.Errorf("a reply diverted to a free mailbox, a subject that is a link: %v", got)
	}
	got = rules("From: Ann <ann@gmail.com>\r\nReply-To: ann@gmail.com\r\nSubject: lunch?\r\n\r\nsee you\r\n")
	if len(got) != 0 {
		t.Errorf("a person's own free mailbox in Reply-To: %v", got)
	}
}
