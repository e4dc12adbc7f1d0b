package dsn

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWriteLines(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		header bool
		want   string
	}{
		{"crlf kept", "a\r\nb\r\n", false, "a\r\nb\r\n"},
		{"bare lf", "a\nb\n", false, "a\r\nb\r\n"},
		{"bare cr in body ends a line", "a\rb", false, "a\r\nb"},
		{"bare cr in header is a space", "K: a\rb\r\n", true, "K: a b\r\n"},
		{"cr cr lf", "K: a\r\r\n", true, "K: a \r\n"},
		{"nul in body", "a\x00b", false, "a b"},
		{"controls in header", "K: a\x00\x1b\x7fb\tc\r\n", true, "K: a   b\tc\r\n"},
		{"smuggling", "x\n.\nMAIL", false, "x\r\n.\r\nMAIL"},
	} {
		var b bytes.Buffer
		if err := writeLines(&b, []byte(tc.in), tc.header); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, b.String(), tc.want)
		}
	}
}

func TestWriteLinesSplitsLongLines(t *testing.T) {
	long := strings.Repeat("é", 1500) // 3000 octets, two per rune
	for _, header := range []bool{false, true} {
		var b bytes.Buffer
		if err := writeLines(&b, []byte("K: "+long+"\r\n"), header); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n")
		if len(lines) < 4 {
			t.Errorf("header=%v: %d lines, want the 3003 octets split", header, len(lines))
		}
		for i, l := range lines {
			if len(l) > maxLine {
				t.Errorf("header=%v: line %d has %d octets", header, i, len(l))
			}
			if !utf8.ValidString(l) {
				t.Errorf("header=%v: line %d was split inside a UTF-8 sequence", header, i)
			}
			if header && i > 0 && !strings.HasPrefix(l, " ") {
				t.Errorf("header: continuation line %d does not start with a space", i)
			}
		}
		joined := strings.Join(lines, "")
		if header {
			joined = strings.ReplaceAll(joined, " ", "")
			if joined != "K:"+long {
				t.Errorf("header: content changed beyond the folds")
			}
		} else if joined != "K: "+long {
			t.Errorf("body: content changed beyond the splits")
		}
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"  a\r\nb  ":          "a b",
		"a\x00\u0085\u2028b":  "a b",
		"a\xffb":              "a\uFFFDb",
		"\t\r\n":              "",
		"550\r\n\r\nBcc: x@y": "550 Bcc: x@y",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
	if got := oneLine(strings.Repeat("a", 10*maxValue)); len(got) != maxValue+3 {
		t.Errorf("oneLine of a huge value: %d octets, want %d", len(got), maxValue+3)
	}
}

func TestAddressValues(t *testing.T) {
	for in, want := range map[string]string{
		"bob@example.net":      "rfc822; bob@example.net",
		"rfc822;bob@x":         "rfc822; bob@x",
		"RFC822; <bob@x>":      "rfc822; bob@x",
		"x400;c=us;a=b":        "x400; c=us;a=b",
		"jörg+tag@x":           `utf-8; j\x{F6}rg\x{2B}tag@x`,
		"rfc822;jörg@x":        `utf-8; j\x{F6}rg@x`,
		"utf-8;j\\x{F6}rg@x":   `utf-8; j\x{F6}rg@x`,
		"":                     "",
		"rfc822;":              "",
		"a@b\r\nBcc: evil@foo": "rfc822; a@b Bcc: evil@foo",
	} {
		if got := originalValue(in); got != want {
			t.Errorf("originalValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExplain(t *testing.T) {
	for _, tc := range []struct {
		action, status, key string
	}{
		{"failed", "5.1.1", "5.1.1"},
		{"failed", "5.1.9", "5.1"},
		{"failed", "5.2.2", "5.2.2"},
		{"failed", "5.4.7", "5.4.7"},
		{"failed", "4.4.1", "5.4.7"}, // failed after temporary errors: expired
		{"failed", "5.7.1", "5.7.1"},
		{"failed", "5.7.705", "5.7.705"},
		{"failed", "5.7.99", "5.7"},
		{"failed", "5.9.9", "5"},
		{"delayed", "4.2.2", "4.2.2"},
		{"delayed", "4.7.1", "4"},
		{"delayed", "5.1.1", "4"}, // delayed is still being tried, whatever the code
		{"delivered", "2.0.0", "2"},
	} {
		key, e := explain(&Recipient{Action: tc.action, Status: tc.status})
		if key != tc.key {
			t.Errorf("%s %s: explanation %q, want %q", tc.action, tc.status, key, tc.key)
		}
		if e.title == "" || e.fixer == "" || e.sender == "" || e.admin == "" {
			t.Errorf("%s %s: incomplete explanation %+v", tc.action, tc.status, e)
		}
	}
	for k, e := range explanations {
		if e.title == "" || e.fixer == "" || e.sender == "" || e.admin == "" {
			t.Errorf("explanation %s is incomplete", k)
		}
	}
}

func TestValidStatus(t *testing.T) {
	for s, want := range map[string]bool{
		"5.1.1": true, "4.7.500": true, "2.0.0": true, "5.7.705": true,
		"": false, "5.1": false, "3.1.1": false, "5.1.1.1": false, "5.1234.1": false,
		"5.a.1": false, "55.1.1": false, "5..1": false,
	} {
		if got := validStatus(s); got != want {
			t.Errorf("validStatus(%q) = %v", s, got)
		}
	}
}
