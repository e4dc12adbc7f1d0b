package dsn

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
)

func TestComposeTwoFailedOneDelayed(t *testing.T) {
	out := mustCompose(t, sampleReport())
	p, err := parseDSN(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	// The top-level header.
	top := p.top
	for k, want := range map[string]string{
		"To":             "<alice@tenant.example>",
		"From":           "Mail Delivery System <MAILER-DAEMON@gw.tollgate.example>",
		"Subject":        "Undeliverable: Quarterly figures",
		"Auto-Submitted": "auto-replied",
		"MIME-Version":   "1.0",
		"In-Reply-To":    "<orig-1@tenant.example>",
		"References":     "<orig-1@tenant.example>",
		"Date":           "Tue, 03 Nov 2026 10:00:00 +0000",
	} {
		if got := top.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if id := top.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@gw.tollgate.example>") {
		t.Errorf("Message-ID = %q, want <...@gw.tollgate.example>", id)
	}
	if len(p.parts) != 3 || p.parts[2].mediaType != "text/rfc822-headers" {
		t.Fatalf("want 3 parts ending in text/rfc822-headers, got %d", len(p.parts))
	}

	// Per-message fields.
	if got := p.perMsg.Get("Reporting-MTA"); got != "dns; gw.tollgate.example" {
		t.Errorf("Reporting-MTA = %q", got)
	}
	if got := p.perMsg.Get("Original-Envelope-Id"); got != "env-42" {
		t.Errorf("Original-Envelope-Id = %q", got)
	}
	if got := p.perMsg.Get("X-Tollgate-Queue-ID"); got != "Q1234ABC" {
		t.Errorf("X-Tollgate-Queue-ID = %q", got)
	}
	if d, err := mail.ParseDate(p.perMsg.Get("Arrival-Date")); err != nil || !d.Equal(testTime.Add(-time.Minute)) {
		t.Errorf("Arrival-Date = %q (%v)", p.perMsg.Get("Arrival-Date"), err)
	}

	// Per-recipient fields.
	if len(p.perRcpt) != 3 {
		t.Fatalf("got %d recipient blocks, want 3", len(p.perRcpt))
	}
	want := []map[string]string{
		{
			"Original-Recipient": "rfc822; Bob@example.net",
			"Final-Recipient":    "rfc822; bob@example.net",
			"Action":             "failed",
			"Status":             "5.1.1",
			"Remote-MTA":         "dns; mx.example.net",
			"Diagnostic-Code":    "smtp; 550 5.1.1 No such user",
			"Last-Attempt-Date":  "Tue, 03 Nov 2026 10:00:00 +0000",
			"X-Tollgate-Rule":    "none",
			"X-Tollgate-Figures": "attempts=1",
			"Will-Retry-Until":   "",
		},
		{
			"Original-Recipient": "",
			"Final-Recipient":    "rfc822; carol@example.org",
			"Action":             "failed",
			"Status":             "5.2.2",
			"Remote-MTA":         "dns; [192.0.2.7]",
			"Diagnostic-Code":    "smtp; 552 5.2.2 Mailbox full",
			"Will-Retry-Until":   "",
		},
		{
			"Final-Recipient":  "rfc822; dan@example.com",
			"Action":           "delayed",
			"Status":           "4.7.1",
			"Diagnostic-Code":  "smtp; 451 4.7.1 Greylisted, try again later",
			"Will-Retry-Until": "Sun, 08 Nov 2026 10:00:00 +0000",
		},
	}
	for i, fields := range want {
		for k, v := range fields {
			if got := p.perRcpt[i].Get(k); got != v {
				t.Errorf("recipient %d: %s = %q, want %q", i, k, got, v)
			}
		}
	}
	// Extension fields come last, in sorted key order.
	var keys []string
	for f := p.perRcpt[0].Fields(); f.Next(); {
		keys = append(keys, f.Key())
	}
	if n := len(keys); n < 2 || keys[n-2] != "X-Tollgate-Figures" || keys[n-1] != "X-Tollgate-Rule" {
		t.Errorf("recipient 0 fields = %v, want the X-Tollgate extras last, sorted", keys)
	}

	// The human-readable part.
	human := flat(p.parts[0].body)
	for _, s := range []string{
		"What happened", "For the sender", "For the email admin",
		"bob@example.net", "550 5.1.1 No such user", "The email address does not exist",
		"carol@example.org", "mailbox is full", "Who can fix it: the recipient",
		"dan@example.com", "keep trying until Sun, 08 Nov 2026 10:00:00 +0000",
		"Queue ID: Q1234ABC", "Remote MTA: mx.example.net", "Rule: none",
		"More help: http://gw.tollgate.example:8025/ndr/5.1.1",
	} {
		if !strings.Contains(human, s) {
			t.Errorf("human-readable part lacks %q:\n%s", s, human)
		}
	}
	if i, j := strings.Index(human, "For the sender"), strings.Index(human, "For the email admin"); i > j {
		t.Errorf("the sender's section should come before the admin's")
	}

	// The original's header block, and nothing of its body.
	headers := string(p.parts[2].body)
	wantHeaders := testOriginal[:strings.Index(testOriginal, "\r\n\r\n")+2]
	if headers != wantHeaders {
		t.Errorf("text/rfc822-headers = %q, want %q", headers, wantHeaders)
	}
}

func TestReturnFull(t *testing.T) {
	r := sampleReport()
	r.ReturnFull = true
	p, err := parseDSN(mustCompose(t, r))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.parts) != 3 || p.parts[2].mediaType != "message/rfc822" {
		t.Fatalf("third part: want message/rfc822")
	}
	if got := string(p.parts[2].body); got != testOriginal {
		t.Errorf("returned message = %q, want the original %q", got, testOriginal)
	}
	inner, err := message.Read(bytes.NewReader(p.parts[2].body))
	if err != nil {
		t.Fatal(err)
	}
	if inner.Header.Get("Subject") != "Quarterly figures" {
		t.Errorf("inner Subject = %q", inner.Header.Get("Subject"))
	}
	if !strings.Contains(flat(p.parts[0].body), noteFull) {
		t.Errorf("human part should say the message is attached")
	}
}

func TestReturnFullOverLimitFallsBackToHeaders(t *testing.T) {
	r := sampleReport()
	r.ReturnFull = true
	r.MaxReturnBytes = int64(len(testOriginal) - 1)
	p, err := parseDSN(mustCompose(t, r))
	if err != nil {
		t.Fatal(err)
	}
	if p.parts[2].mediaType != "text/rfc822-headers" {
		t.Fatalf("third part = %s, want text/rfc822-headers", p.parts[2].mediaType)
	}
	if strings.Contains(string(p.parts[2].body), "figures are attached") {
		t.Errorf("body of the original was returned despite MaxReturnBytes")
	}
	if !strings.Contains(flat(p.parts[0].body), noteTooLarge) {
		t.Errorf("human part should say why only the header is attached")
	}

	// Exactly at the limit, it still goes back whole.
	r = sampleReport()
	r.ReturnFull = true
	r.MaxReturnBytes = int64(len(testOriginal))
	p, err = parseDSN(mustCompose(t, r))
	if err != nil {
		t.Fatal(err)
	}
	if p.parts[2].mediaType != "message/rfc822" {
		t.Errorf("at the limit: third part = %s, want message/rfc822", p.parts[2].mediaType)
	}
}

// countingReader counts what Compose reads of the original.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestHeadersOnlyReadsOnlyTheHeader(t *testing.T) {
	body := strings.Repeat("x", 5<<20)
	src := &countingReader{r: strings.NewReader(testOriginal + body)}
	r := sampleReport()
	r.Original = src
	if _, err := parseDSN(mustCompose(t, r)); err != nil {
		t.Fatal(err)
	}
	if limit := len(testOriginal) + 8<<10; src.n > limit {
		t.Errorf("read %d bytes of the original, want at most about the header (%d)", src.n, limit)
	}
}

func TestHeaderInjectionFromRemoteReply(t *testing.T) {
	r := sampleReport()
	r.Recipients[0].DiagnosticCode = "550 5.1.1 No such user\r\nBcc: x@y"
	r.Recipients[0].RemoteMTA = "mx.example.net\nX-Injected: 1"
	r.Recipients[1].Final = "carol@example.org\r\n\r\nFinal-Recipient: rfc822; evil@example.com"
	r.Recipients[1].Extra = map[string]string{"Rule\r\nBcc": "v\r\nBcc: z@y"}
	r.To = "alice@tenant.example\r\nBcc: x@y"
	r.HelpURL = "http://h/\r\n\r\n--boundary"
	out := mustCompose(t, r)
	p, err := parseDSN(out)
	if err != nil {
		t.Fatal(err)
	}
	if p.top.Has("Bcc") {
		t.Errorf("a Bcc field reached the top-level header")
	}
	if len(p.perRcpt) != 3 {
		t.Fatalf("got %d recipient blocks, want 3 (a reply split one)", len(p.perRcpt))
	}
	for i, h := range p.perRcpt {
		if h.Has("Bcc") || h.Has("X-Injected") {
			t.Errorf("recipient %d: injected field present", i)
		}
	}
	if got := p.perRcpt[0].Get("Diagnostic-Code"); got != "smtp; 550 5.1.1 No such user Bcc: x@y" {
		t.Errorf("Diagnostic-Code = %q, want the reply on one line", got)
	}
	if got := p.perRcpt[1].Get("Final-Recipient"); strings.Count(got, "Final-Recipient") != 1 {
		t.Errorf("Final-Recipient = %q, want the injected text kept inside the value", got)
	}
	if !p.perRcpt[1].Has("X-Tollgate-RuleBcc") {
		t.Errorf("extra key not reduced to letters: %v", p.perRcpt[1].Map())
	}
	for _, line := range strings.Split(string(out), "\r\n") {
		if strings.HasPrefix(line, "Bcc:") || strings.HasPrefix(line, "X-Injected:") {
			t.Errorf("injected line in output: %q", line)
		}
	}
}

func TestBrokenOriginals(t *testing.T) {
	cases := map[string]string{
		"empty":              "",
		"no header":          "just some text\r\nand more\r\n",
		"garbage":            "\x00\x01\x02\xff\xfe\r\r\n\n\x1b[31m",
		"leading space":      " Subject: x\r\n\r\nbody",
		"blank line first":   "\r\nbody only\r\n",
		"bare LF":            "Subject: lf\nTo: a@b\n\nbody\nline\n",
		"bare CR":            "Subject: c\rr\r\nTo: a@b\r\n\r\nbo\rdy\r\n",
		"broken after one":   "Subject: ok\r\nthis is no header\r\n\r\nbody\r\n",
		"no blank line":      "Subject: only headers\r\nTo: a@b",
		"header line 5000":   "Subject: " + strings.Repeat("s", 5000) + "\r\n\r\nbody\r\n",
		"body line 5000":     "Subject: x\r\n\r\n" + strings.Repeat("b", 5000) + "\r\n",
		"8-bit header":       "Subject: Grüße\r\nFrom: \xff\xfe@x\r\n\r\nbody\r\n",
		"NUL in body":        "Subject: x\r\n\r\na\x00b\r\n",
		"bad message-id":     "Message-ID: <a b@c>\r\nSubject: x\r\n\r\n",
		"encoded subject":    "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\n",
		"bad encoded subj":   "Subject: =?x-unknown?q?abc?=\r\n\r\n",
		"smuggling sequence": "Subject: x\r\n\r\nhello\n.\nMAIL FROM:<evil@x>\r\n.\r\n",
	}
	for name, orig := range cases {
		for _, full := range []bool{false, true} {
			r := sampleReport()
			r.Original = strings.NewReader(orig)
			r.ReturnFull = full
			var b bytes.Buffer
			if err := Compose(&b, r); err != nil {
				t.Errorf("%s (full=%v): %v", name, full, err)
				continue
			}
			p, err := parseDSN(b.Bytes())
			if err != nil {
				t.Errorf("%s (full=%v): %v", name, full, err)
				continue
			}
			if len(p.perRcpt) != 3 {
				t.Errorf("%s (full=%v): %d recipient blocks", name, full, len(p.perRcpt))
			}
		}
	}
}

func TestMaxReturnBytesHuge(t *testing.T) {
	r := sampleReport()
	r.ReturnFull = true
	r.MaxReturnBytes = math.MaxInt64
	p, err := parseDSN(mustCompose(t, r))
	if err != nil {
		t.Fatal(err)
	}
	if p.parts[2].mediaType != "message/rfc822" {
		t.Errorf("third part = %s, want message/rfc822", p.parts[2].mediaType)
	}
}

func TestFromWithDisplayName(t *testing.T) {
	r := sampleReport()
	r.From = "Postmaster <postmaster@gw.tollgate.example>"
	p, err := parseDSN(mustCompose(t, r))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.top.Get("From"); got != r.From {
		t.Errorf("From = %q, want %q", got, r.From)
	}
}

func TestNoOriginal(t *testing.T) {
	r := sampleReport()
	r.Original = nil
	p, err := parseDSN(mustCompose(t, r))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.parts) != 2 {
		t.Errorf("got %d parts, want 2 without an original", len(p.parts))
	}
	if got := p.top.Get("Subject"); got != "Delivery Status Notification (Failure)" {
		t.Errorf("Subject = %q", got)
	}
}

func TestHugeHeaderIsCapped(t *testing.T) {
	var b strings.Builder
	for b.Len() < 2<<20 {
		b.WriteString("X-Filler: " + strings.Repeat("f", 100) + "\r\n")
	}
	b.WriteString("\r\nbody\r\n")
	for _, full := range []bool{false, true} {
		r := sampleReport()
		r.Original = strings.NewReader(b.String())
		r.ReturnFull = full
		p, err := parseDSN(mustCompose(t, r))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.parts) != 3 || p.parts[2].mediaType != "text/rfc822-headers" {
			t.Fatalf("full=%v: want the capped header block as text/rfc822-headers", full)
		}
		if n := len(p.parts[2].body); n > maxHeaderBytes {
			t.Errorf("full=%v: returned %d header bytes, cap is %d", full, n, maxHeaderBytes)
		}
		if !strings.Contains(flat(p.parts[0].body), noteBigHeader) {
			t.Errorf("full=%v: human part should say the header was cut", full)
		}
	}
}

func TestSubjectsByOutcome(t *testing.T) {
	for _, tc := range []struct {
		actions []string
		want    string
	}{
		{[]string{"failed", "delayed"}, "Undeliverable: Quarterly figures"},
		{[]string{"delayed", "delayed"}, "Delayed: Quarterly figures"},
		{[]string{"delivered"}, "Delivered: Quarterly figures"},
	} {
		r := sampleReport()
		r.Recipients = nil
		for _, a := range tc.actions {
			r.Recipients = append(r.Recipients, Recipient{Final: "x@example.com", Action: a})
		}
		p, err := parseDSN(mustCompose(t, r))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.top.Get("Subject"); got != tc.want {
			t.Errorf("%v: Subject = %q, want %q", tc.actions, got, tc.want)
		}
	}
}

func TestUTF8(t *testing.T) {
	r := sampleReport()
	r.Original = strings.NewReader("Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\nbody\r\n")
	r.Recipients[0].Final = "jürgen@bücher.example"
	r.Recipients[0].DiagnosticCode = "550 5.1.1 Benutzer unbekannt: jürgen"
	p, err := parseDSN(mustCompose(t, r))
	if err != nil {
		t.Fatal(err)
	}
	subj, err := p.top.Text("Subject")
	if err != nil || subj != "Undeliverable: Grüße" {
		t.Errorf("Subject = %q (%v)", subj, err)
	}
	if got := p.perRcpt[0].Get("Final-Recipient"); got != `utf-8; j\x{FC}rgen@b\x{FC}cher.example` {
		t.Errorf("Final-Recipient = %q", got)
	}
	if !isASCII(string(p.parts[1].body)) {
		t.Errorf("message/delivery-status part is not 7-bit")
	}
	if got := p.parts[0].header.Get("Content-Transfer-Encoding"); got != "quoted-printable" {
		t.Errorf("human part CTE = %q, want quoted-printable for UTF-8 text", got)
	}
	if !strings.Contains(string(p.parts[0].body), "jürgen@bücher.example") {
		t.Errorf("human part should show the address as written")
	}
}

func TestLongDiagnosticIsFoldedAndCapped(t *testing.T) {
	r := sampleReport()
	r.Recipients[0].DiagnosticCode = "550 " + strings.Repeat("x", 5000) + " " + strings.Repeat("word ", 600)
	out := mustCompose(t, r)
	p, err := parseDSN(out) // also checks every line is at most 998 octets
	if err != nil {
		t.Fatal(err)
	}
	got := p.perRcpt[0].Get("Diagnostic-Code")
	if !strings.HasPrefix(got, "smtp; 550 xxx") || !strings.HasSuffix(got, "...") {
		t.Errorf("Diagnostic-Code = %.40q...%q", got, got[max(0, len(got)-10):])
	}
}

func TestSenderAndAdminOverride(t *testing.T) {
	r := sampleReport()
	r.Sender = "Ask Bob for his new address.\r\nThen resend."
	r.Admin = "Nothing to do on our side."
	p, err := parseDSN(mustCompose(t, r))
	if err != nil {
		t.Fatal(err)
	}
	human := string(p.parts[0].body)
	for _, s := range []string{"Ask Bob for his new address.\r\nThen resend.", "Nothing to do on our side.", "Technical details", "Status: 5.1.1"} {
		if !strings.Contains(human, s) {
			t.Errorf("human part lacks %q", s)
		}
	}
	if strings.Contains(human, "How to fix it:") || strings.Contains(human, "outdated or bought address list") {
		t.Errorf("built-in advice written despite the override")
	}
}

func TestIsNullSender(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "<>": true, " <> ": true, "< >": true,
		"a@b": false, "<a@b>": false, "MAILER-DAEMON@host": false,
	} {
		if got := IsNullSender(s); got != want {
			t.Errorf("IsNullSender(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestComposeRefuses(t *testing.T) {
	mod := map[string]func(*Report){
		"null sender":      func(r *Report) { r.To = "<>" },
		"no reporting MTA": func(r *Report) { r.ReportingMTA = " \r\n" },
		"no recipients":    func(r *Report) { r.Recipients = nil },
		"bad action":       func(r *Report) { r.Recipients[1].Action = "bounced" },
		"no final":         func(r *Report) { r.Recipients[2].Final = "<>" },
	}
	for name, m := range mod {
		r := sampleReport()
		m(&r)
		var b bytes.Buffer
		err := Compose(&b, r)
		if err == nil {
			t.Errorf("%s: Compose succeeded", name)
		}
		if b.Len() != 0 {
			t.Errorf("%s: wrote %d bytes before failing", name, b.Len())
		}
		if name == "null sender" && !errors.Is(err, ErrNullSender) {
			t.Errorf("null sender: err = %v, want ErrNullSender", err)
		}
	}
}

func TestMissingStatusDefaultsByAction(t *testing.T) {
	r := sampleReport()
	r.Recipients[0].Status = ""
	r.Recipients[1].Status = "550"
	r.Recipients[2].Status = "4.7"
	p, err := parseDSN(mustCompose(t, r))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"5.0.0", "5.0.0", "4.0.0"} {
		if got := p.perRcpt[i].Get("Status"); got != want {
			t.Errorf("recipient %d: Status = %q, want %q", i, got, want)
		}
	}
	if got := sampleReport().Recipients[0].Status; got != "5.1.1" {
		t.Errorf("Compose changed the caller's recipients: %q", got)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestOriginalReadErrorIsReturned(t *testing.T) {
	disk := errors.New("disk on fire")
	for _, full := range []bool{false, true} {
		r := sampleReport()
		r.Original = io.MultiReader(strings.NewReader("Subject: x\r\n"), failingReader{disk})
		r.ReturnFull = full
		var b bytes.Buffer
		err := Compose(&b, r)
		if !errors.Is(err, disk) {
			t.Errorf("full=%v: err = %v, want it to wrap the read error", full, err)
		}
		if b.Len() != 0 {
			t.Errorf("full=%v: wrote output despite the error", full)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestWriteErrorIsReturned(t *testing.T) {
	if err := Compose(failingWriter{}, sampleReport()); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("err = %v, want the write error", err)
	}
}
