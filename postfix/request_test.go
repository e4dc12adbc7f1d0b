package postfix

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadRequest(t *testing.T) {
	in := "request=smtpd_access_policy\nprotocol_state=RCPT\r\nsender=a@x.test\nccert_subject=\nweird=a=b\n\n" +
		"\n\nrequest=smtpd_access_policy\nrecipient=b@y.test\n\n"
	br := bufio.NewReader(strings.NewReader(in))
	r, err := ReadRequest(br)
	if err != nil {
		t.Fatal(err)
	}
	want := Request{"request": "smtpd_access_policy", "protocol_state": "RCPT", "sender": "a@x.test", "ccert_subject": "", "weird": "a=b"}
	if len(r) != len(want) {
		t.Fatalf("got %v, want %v", r, want)
	}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("%s = %q, want %q", k, r[k], v)
		}
	}
	// The same connection carries the next request (blank lines between
	// requests are skipped).
	r, err = ReadRequest(br)
	if err != nil || r["recipient"] != "b@y.test" {
		t.Fatalf("second request: %v %v", r, err)
	}
	if _, err := ReadRequest(br); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last request: %v, want EOF", err)
	}
}

func TestReadRequestBounds(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		want error
	}{
		"long line":      {"a=" + strings.Repeat("x", MaxLineBytes) + "\n\n", ErrLineTooLong},
		"too many lines": {strings.Repeat("a=b\n", MaxAttributes+1) + "\n", ErrRequestTooLong},
		"too large":      {strings.Repeat("a="+strings.Repeat("x", 4000)+"\n", 20) + "\n", ErrRequestTooLong},
		"no equals":      {"request\n\n", ErrMalformed},
		"empty name":     {"=x\n\n", ErrMalformed},
		"nul":            {"a=\x00\n\n", ErrMalformed},
		"cut off":        {"request=smtpd_access_policy\nsender=a", io.ErrUnexpectedEOF},
		"cut after line": {"request=smtpd_access_policy\n", io.ErrUnexpectedEOF},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadRequest(bufio.NewReader(strings.NewReader(tc.in)))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzReadRequest: any bytes give a request or an error, never a panic,
// and a request always stays within the bounds.
func FuzzReadRequest(f *testing.F) {
	f.Add([]byte("request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=127.0.0.2\n\n"))
	f.Add([]byte("a=b\r\n\r\n\n\nc=d\n\n"))
	f.Add([]byte("=\n\n"))
	f.Add([]byte(strings.Repeat("x", 5000)))
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReader(strings.NewReader(string(b)))
		for range 100 {
			r, err := ReadRequest(br)
			if err != nil {
				return
			}
			if len(r) == 0 || len(r) > MaxAttributes {
				t.Fatalf("request with %d attributes", len(r))
			}
			total := 0
			for k, v := range r {
				if k == "" || strings.ContainsAny(k, "=\n\x00") || strings.ContainsAny(v, "\n\x00") {
					t.Fatalf("bad attribute %q=%q", k, v)
				}
				total += len(k) + len(v) + 2
			}
			if total > MaxRequestBytes {
				t.Fatalf("request of %d bytes", total)
			}
		}
	})
}
