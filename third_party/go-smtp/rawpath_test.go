package smtp

import "testing"

// Tollgate patch: parseRawReversePath and parsePathRaw return the mailbox as
// written, so a quoted local part keeps what marks where it ends.
func TestParserRawPath(t *testing.T) {
	for _, tc := range []struct{ in, unquoted, raw, after string }{
		{`<"ceo@b.example> AUTH=<ceo@b.example>"@a.example> BODY=8BITMIME`,
			`ceo@b.example> AUTH=<ceo@b.example>@a.example`, `"ceo@b.example> AUTH=<ceo@b.example>"@a.example`, " BODY=8BITMIME"},
		{`<"a\"b"@c>`, `a"b@c`, `"a\"b"@c`, ""},
		{`<@r1,@r2:x@y>`, `x@y`, `x@y`, ""},
		{`<a@[IPv6:::1]> NOTIFY=NEVER`, `a@[IPv6:::1]`, `a@[IPv6:::1]`, " NOTIFY=NEVER"},
	} {
		p := parser{s: tc.in}
		mbox, raw, err := p.parsePathRaw()
		if err != nil || mbox != tc.unquoted || raw != tc.raw || p.s != tc.after {
			t.Errorf("parsePathRaw(%q) = %q, %q, %v, rest %q; want %q, %q, rest %q", tc.in, mbox, raw, err, p.s, tc.unquoted, tc.raw, tc.after)
		}
	}
	p := parser{s: "<> SIZE=1"}
	if raw, err := p.parseRawReversePath(); raw != "" || err != nil || p.s != " SIZE=1" {
		t.Errorf("parseRawReversePath(<>) = %q, %v, rest %q", raw, err, p.s)
	}
}
