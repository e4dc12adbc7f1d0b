package smtpd

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestStrictReader(t *testing.T) {
	good := []string{"", "a\r\n", "a\r\nb\r\n\r\n", "no newline at all"}
	bad := []string{"a\n", "a\rb", "a\r\n.\n", "x\r", "\n", "a\r\r\n"}
	for _, s := range good {
		if _, err := io.ReadAll(&strictReader{r: strings.NewReader(s)}); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
		// Split into 1-byte reads: a CR at the end of one read and LF at the
		// start of the next is still CRLF.
		if _, err := io.ReadAll(&strictReader{r: iotest.OneByteReader(strings.NewReader(s))}); err != nil {
			t.Errorf("%q refused when read a byte at a time: %v", s, err)
		}
	}
	for _, s := range bad {
		if _, err := io.ReadAll(&strictReader{r: iotest.OneByteReader(strings.NewReader(s))}); !errors.Is(err, errBare) {
			t.Errorf("%q accepted, want errBare (got %v)", s, err)
		}
	}
}

func TestReadHeaderBlock(t *testing.T) {
	cases := []struct {
		in, hdr, body string
	}{
		{"Subject: a\r\nFrom: b\r\n\r\nbody\r\n", "Subject: a\r\nFrom: b\r\n\r\n", "body\r\n"},
		{"Subject: a\r\n  folded\r\n\r\n", "Subject: a\r\n  folded\r\n\r\n", ""},
		{"just a body line\r\nmore\r\n", "", "just a body line\r\nmore\r\n"},
		{"Subject: a\r\nnot a header line\r\n", "Subject: a\r\n\r\n", "not a header line\r\n"},
		{"\r\nbody only\r\n", "\r\n", "body only\r\n"},
		{"Subject: only headers\r\n", "Subject: only headers\r\n", ""},
	}
	for _, c := range cases {
		br := bufio.NewReaderSize(strings.NewReader(c.in), 16)
		hdr, first, err := readHeaderBlock(br, 1<<20)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		rest, _ := io.ReadAll(br)
		if string(hdr) != c.hdr || string(first)+string(rest) != c.body {
			t.Errorf("%q: header %q body %q; want %q and %q", c.in, hdr, string(first)+string(rest), c.hdr, c.body)
		}
	}
	big := "Subject: " + strings.Repeat("x", 2000) + "\r\n\r\n"
	if _, _, err := readHeaderBlock(bufio.NewReaderSize(strings.NewReader(big), 16), 1000); err != errHeaderTooLarge {
		t.Fatalf("oversized header: %v", err)
	}
}

func TestHasField(t *testing.T) {
	h := []byte("Subject: x\r\n  Message-ID: folded, not a field\r\nmessage-id: <a@b>\r\n\r\n")
	if !hasField(h, "message-id") {
		t.Fatal("message-id not found")
	}
	if hasField([]byte("Subject: x\r\n Message-ID: <a@b>\r\n\r\n"), "message-id") {
		t.Fatal("a continuation line is not a field")
	}
}

// FuzzDataPath runs message data through the same readers Data uses and
// checks they never panic, and that what passes has only CRLF line endings
// and no NUL.
func FuzzDataPath(f *testing.F) {
	f.Add([]byte("Subject: a\r\n\r\nbody\r\n"))
	f.Add([]byte("a\n.\nb"))
	f.Add([]byte("Subject: a\r\n\tb\r\nX: y\r\nbody\r\n"))
	f.Add([]byte("\r\n\r\n\r"))
	f.Add([]byte("Subject: a\r\n\r\nb\x00dy\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &strictReader{r: bytes.NewReader(data)}
		br := bufio.NewReaderSize(in, 16)
		hdr, first, err := readHeaderBlock(br, 4096)
		if err != nil {
			return
		}
		rest, err := io.ReadAll(br)
		if err != nil {
			return
		}
		out := append(append(append([]byte{}, hdr...), first...), rest...)
		for i, c := range out {
			if c == 0 {
				t.Fatalf("NUL passed in %q", out)
			}
			if c == '\n' && (i == 0 || out[i-1] != '\r') {
				t.Fatalf("bare LF passed in %q", out)
			}
			if c == '\r' && (i+1 >= len(out) || out[i+1] != '\n') && i+1 < len(out) {
				t.Fatalf("bare CR passed in %q", out)
			}
		}
		hasField(hdr, "message-id")
		headerInfo(hdr)
	})
}
