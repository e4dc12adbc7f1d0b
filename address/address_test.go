package address

import (
	"strings"
	"testing"
)

func TestParseString(t *testing.T) {
	for _, tc := range []struct{ in, local, domain, wire string }{
		{"a@example.com", "a", "example.com", "a@example.com"},
		{"first.last+tag@sub.example.co.uk", "first.last+tag", "sub.example.co.uk", "first.last+tag@sub.example.co.uk"},
		{`"ceo@b.example> AUTH=<ceo@b.example>"@a.example`, "ceo@b.example> AUTH=<ceo@b.example>", "a.example",
			`"ceo@b.example> AUTH=<ceo@b.example>"@a.example`},
		{`"x> NOTIFY=NEVER ORCPT=rfc822;y@z"@a.example`, "x> NOTIFY=NEVER ORCPT=rfc822;y@z", "a.example",
			`"x> NOTIFY=NEVER ORCPT=rfc822;y@z"@a.example`},
		{`"a\"b\\c"@x.example`, `a"b\c`, "x.example", `"a\"b\\c"@x.example`},
		{`"plain"@x.example`, "plain", "x.example", "plain@x.example"},             // quotes it does not need go
		{`"a\b"@x.example`, "ab", "x.example", "ab@x.example"},                     // nor escapes
		{"a..b@docomo.example", "a..b", "docomo.example", `"a..b"@docomo.example`}, // not a Dot-string: quoted
		{"a.@x.example", "a.", "x.example", `"a."@x.example`},
		{`"a b"@x.example`, "a b", "x.example", `"a b"@x.example`},
		{"x@[127.0.0.1]", "x", "[127.0.0.1]", "x@[127.0.0.1]"},
		{"x@[ipv6:2001:DB8::1]", "x", "[IPv6:2001:db8::1]", "x@[IPv6:2001:db8::1]"},
		{"üser@exämple.de", "üser", "exämple.de", "üser@exämple.de"},
		{`"jö rg"@x.example`, "jö rg", "x.example", `"jö rg"@x.example`},
	} {
		a, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if a.Local != tc.local || a.Domain != tc.domain || a.String() != tc.wire {
			t.Errorf("Parse(%q) = %q @ %q, written %q; want %q @ %q, %q", tc.in, a.Local, a.Domain, a.String(), tc.local, tc.domain, tc.wire)
		}
		if a.Path() != "<"+tc.wire+">" {
			t.Errorf("Path(%q) = %q", tc.in, a.Path())
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, in := range []string{
		"", "postmaster", "@example.com", "a@", "a@-bad.com", "a@bad..com", "a@b_c.com", "a@b.c.",
		"a@[999.1.1.1]", "a@[127.0.0.1", "a@[::1]", "a@[IPv6:127.0.0.1]", "a@[IPv6:fe80::1%eth0]", "a@[tag:x]",
		strings.Repeat("l", 65) + "@x.com", "a@" + strings.Repeat("a.", 130) + "com",
		"a b@x.com", "a>b@x.com", `a"b@x.com`, "a@b@x.com", "a@x.com> AUTH=x",
		"a\x00b@x.com", `"a` + "\x00" + `b"@x.com`, `"a` + "\r\n" + `b"@x.com`, `"a\` + "\x01" + `"@x.com`,
		`"a\`, `"abc`, `"abc"x@y.com`, `""@x.com`, "a\xffb@x.com", "a@x\u2028.com", "a\u0085@x.com",
	} {
		if a, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) accepted: %q", in, a.String())
		}
	}
}

func TestReversePathAndNew(t *testing.T) {
	for _, in := range []string{"", "<>"} {
		if a, err := ParseReversePath(in); err != nil || !a.IsZero() || a.Path() != "<>" {
			t.Errorf("ParseReversePath(%q) = %+v, %v", in, a, err)
		}
	}
	if _, err := Parse(""); err != ErrNull {
		t.Errorf("Parse(\"\") = %v, want ErrNull", err)
	}
	a, err := New("a b", "x.example")
	if err != nil || a.String() != `"a b"@x.example` {
		t.Errorf("New = %q, %v", a.String(), err)
	}
	if _, err := New("a\nb", "x.example"); err == nil {
		t.Error("New took a newline")
	}
	if a, _ := Parse("üser@x.example"); a.ASCII() {
		t.Error("üser is not ASCII")
	}
}

// FuzzRoundTrip checks that what Parse accepts, String writes so that Parse
// reads back the same address (parse -> write -> parse is the identity),
// writing is idempotent, and the written path ends exactly where it should:
// no '>', space, tab, CR, LF or NUL outside the quoted local part that a next
// hop's parser would take as the end of the path or the start of a
// parameter, and no CR, LF or NUL anywhere.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{
		"a@b.example", `"ceo@b.example> AUTH=<ceo@b.example>"@a.example`, `"x> NOTIFY=NEVER"@a.example`,
		`"a\"b\\"@c.example`, "a..b@c.example", "x@[IPv6:::1]", "x@[10.0.0.1]", "üser@exämple.de", `"\ "@x.example`,
		`"a` + "\r\n" + `"@x.example`, "a@b@c.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		w := a.String()
		b, err := Parse(w)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its written form %q does not parse: %v", s, w, err)
		}
		if b != a {
			t.Fatalf("round trip of %q: %+v, then %q gives %+v", s, a, w, b)
		}
		if b.String() != w {
			t.Fatalf("writing %q is not idempotent: %q", w, b.String())
		}
		if end := pathEnd(w); end != len(w) {
			t.Fatalf("a next hop reads the path <%s> as ending at byte %d: %q", w, end, w[:end])
		}
		if strings.ContainsAny(w, "\r\n\x00") {
			t.Fatalf("written form %q holds CR, LF or NUL", w)
		}
		if len(w) > MaxMailbox || !strings.Contains(w, "@") {
			t.Fatalf("written form %q breaks the limits", w)
		}
		if n, err := New(a.Local, a.Domain); err != nil || n != a {
			t.Fatalf("New(%q, %q) = %+v, %v", a.Local, a.Domain, n, err)
		}
	})
}

// pathEnd is where an RFC 5321 parser stops reading the mailbox w (written
// inside "<" and ">"): at the first '>', space, tab, CR, LF or NUL outside a
// quoted string; len(w) if none.
func pathEnd(w string) int {
	quoted := false
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case quoted && c == '\\':
			i++
		case c == '"' && (quoted || i == 0):
			quoted = !quoted
		case !quoted && strings.IndexByte("> \t\r\n\x00", c) >= 0:
			return i
		}
	}
	return len(w)
}
