package classify

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// nested builds depth levels of multipart/mixed around a text part.
func nested(depth int, inner string) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nSubject: nest\r\nMIME-Version: 1.0\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\n" + inner + "\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.Bytes()
}

// hostileInputs are the shapes of attack on a parser the issue lists, each
// with a check on what the parser made of it.
var hostileInputs = []struct {
	name  string
	raw   func() []byte
	check func(t *testing.T, d *document, r Result)
}{
	{"100 levels of nesting", func() []byte { return nested(100, "deepsecretword") }, func(t *testing.T, d *document, r Result) {
		if !d.limitHit || !hasReason(r, "MIME_LIMIT") || bytes.Contains(d.text, []byte("deepsecretword")) {
			t.Errorf("walk not stopped at the depth cap: limitHit=%v reasons=%v", d.limitHit, r.Reasons)
		}
	}},
	{"50 MB single line", func() []byte {
		return append([]byte("Subject: long\r\n\r\n"), bytes.Repeat([]byte("a"), 50<<20)...)
	}, func(t *testing.T, d *document, r Result) {
		if !d.truncated || !hasReason(r, "TRUNCATED") {
			t.Errorf("a 50 MB line was not cut at the scan cap: %v", r.Reasons)
		}
	}},
	{"50 MB header line", func() []byte {
		return append([]byte("Subject: "), bytes.Repeat([]byte("a"), 50<<20)...)
	}, func(t *testing.T, d *document, r Result) {
		if !d.malformed {
			t.Error("a header cut by the cap is not flagged malformed")
		}
	}},
	{"invalid charset", func() []byte {
		return msg([]string{"Subject: =?x-bogus?Q?hi?=", "Content-Type: text/plain; charset=x-no-such-charset"}, "plain words here\n")
	}, func(t *testing.T, d *document, r Result) {
		if !d.badCharset || !bytes.Contains(d.text, []byte("plain words")) {
			t.Errorf("unknown charset: badCharset=%v text=%q", d.badCharset, d.text)
		}
	}},
	{"huge base64 part", func() []byte {
		body := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("spam "), 4<<20))
		return msg([]string{"Content-Type: text/plain", "Content-Transfer-Encoding: base64"}, body)
	}, func(t *testing.T, d *document, r Result) {
		if d.decoded > DefaultCaps().MaxDecodedBytes || !d.truncated {
			t.Errorf("decoded %d bytes, cap %d, truncated=%v", d.decoded, DefaultCaps().MaxDecodedBytes, d.truncated)
		}
	}},
	{"corrupt base64", func() []byte {
		return msg([]string{"Content-Type: text/plain", "Content-Transfer-Encoding: base64"}, "aGVsbG8gd29ybGQ=\n!!!!####\n")
	}, func(t *testing.T, d *document, r Result) {
		if !d.malformed {
			t.Error("corrupt base64 not flagged malformed")
		}
	}},
	{"HTML bomb", func() []byte {
		return msg([]string{"Content-Type: text/html"}, strings.Repeat("<div><b><i>", 200000)+"bombword"+strings.Repeat("</i></b></div>", 200000))
	}, func(t *testing.T, d *document, r Result) {
		if len(d.text) > DefaultCaps().MaxDecodedBytes*2 {
			t.Errorf("HTML text %d bytes", len(d.text))
		}
	}},
	{"missing boundary parameter", func() []byte {
		return msg([]string{"Content-Type: multipart/mixed"}, "--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n")
	}, nil},
	{"missing closing boundary", func() []byte {
		return msg([]string{"Content-Type: multipart/mixed; boundary=x"}, "--x\r\nContent-Type: text/plain\r\n\r\nunterminated words\r\n")
	}, func(t *testing.T, d *document, r Result) {
		if !bytes.Contains(d.text, []byte("unterminated words")) {
			t.Errorf("text before the missing boundary lost: %q", d.text)
		}
	}},
	{"garbage header", func() []byte { return []byte("this is not a header\r\nnor this\r\n\r\nbody words\r\n") }, func(t *testing.T, d *document, r Result) {
		if !d.malformed || !bytes.Contains(d.text, []byte("body words")) {
			t.Errorf("garbage header: malformed=%v text=%q", d.malformed, d.text)
		}
	}},
	{"10,000 parts", func() []byte {
		var b bytes.Buffer
		b.WriteString("Content-Type: multipart/mixed; boundary=p\r\n\r\n")
		for range 10000 {
			b.WriteString("--p\r\nContent-Type: text/plain\r\n\r\nx\r\n")
		}
		b.WriteString("--p--\r\n")
		return b.Bytes()
	}, func(t *testing.T, d *document, r Result) {
		if d.parts > DefaultCaps().MaxParts+1 || !d.limitHit {
			t.Errorf("walked %d parts, cap %d", d.parts, DefaultCaps().MaxParts)
		}
	}},
	{"nested message/rfc822", func() []byte {
		m := []byte("Subject: inner\r\n\r\ninner text\r\n")
		for range 50 {
			m = append([]byte("Content-Type: message/rfc822\r\n\r\n"), m...)
		}
		return m
	}, func(t *testing.T, d *document, r Result) {
		if !d.limitHit {
			t.Error("50 nested message/rfc822 parts not stopped at the depth cap")
		}
	}},
}

// TestClassifyHostile feeds each hostile shape to the engine: it must give a
// verdict (not an error, not a panic) within bounded time and allocation.
func TestClassifyHostile(t *testing.T) {
	e := defaultEngine(t)
	for _, h := range hostileInputs {
		t.Run(h.name, func(t *testing.T) {
			raw := h.raw()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			r, err := e.Classify(context.Background(), Input{Raw: raw})
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatalf("no verdict: %v", err)
			}
			if r.Verdict == "" {
				t.Fatal("empty verdict")
			}
			// Generous bounds (the race detector slows parsing ~10x): the
			// point is that cost does not grow with the hostile input's size.
			if took > 3*time.Second {
				t.Errorf("took %v", took)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			if h.check != nil {
				d, _ := parseDoc(raw, Caps{})
				h.check(t, d, r)
			}
		})
	}
}

// A self-closing <style/> (valid inside <svg>) does not hide the text after
// it from the classifier: mail clients show that text.
func TestSelfClosingStyleDoesNotHideText(t *testing.T) {
	e := defaultEngine(t)
	const spam = "URGENT winner claim your cash prize now, free money, click here to claim the lottery payout today"
	hidden := msg([]string{"Content-Type: text/html", "Subject: hi"}, "<p>Hello</p><svg><style/></svg><p>"+spam+"</p>")
	plain := msg([]string{"Content-Type: text/html", "Subject: hi"}, "<p>Hello</p><p>"+spam+"</p>")
	a, b := classifyOK(t, e, Input{Raw: hidden}), classifyOK(t, e, Input{Raw: plain})
	if d := a.Score - b.Score; d > 1 || d < -1 {
		t.Fatalf("the text after <style/> was hidden: score %.2f with it, %.2f without", a.Score, b.Score)
	}
}

// A message that is only an attachment (a scan, an invoice PDF) is not
// judged by the "no words" feature of image-only spam.
func TestAttachmentOnlyIsNotWordless(t *testing.T) {
	e := defaultEngine(t)
	raw := msg([]string{"Content-Type: multipart/mixed; boundary=b", "Subject: budget"},
		"--b\nContent-Type: text/plain\n\n\n--b\nContent-Type: application/pdf; name=budget.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b--\n")
	r := classifyOK(t, e, Input{Raw: raw})
	if hasReason(r, "rule:WORDS_0") {
		t.Fatalf("an attachment-only message scored as wordless: %+v", r)
	}
}
