package dsn

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

var testTime = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

const testOriginal = "From: Alice <alice@tenant.example>\r\n" +
	"To: bob@example.net, carol@example.org, dan@example.com\r\n" +
	"Subject: Quarterly figures\r\n" +
	"Message-ID: <orig-1@tenant.example>\r\n" +
	"Date: Tue, 03 Nov 2026 09:59:00 +0000\r\n" +
	"\r\n" +
	"Hello,\r\nthe figures are attached.\r\n"

// sampleReport is two failed recipients and one delayed, the mix the queue
// produces when a message to three domains meets three different fates.
func sampleReport() Report {
	return Report{
		ReportingMTA: "gw.tollgate.example",
		To:           "<alice@tenant.example>",
		QueueID:      "Q1234ABC",
		EnvelopeID:   "env-42",
		ArrivalDate:  testTime.Add(-time.Minute),
		HelpURL:      "http://gw.tollgate.example:8025/ndr/5.1.1",
		Now:          func() time.Time { return testTime },
		Original:     strings.NewReader(testOriginal),
		Recipients: []Recipient{
			{
				Original:       "rfc822;Bob@example.net",
				Final:          "bob@example.net",
				Action:         "failed",
				Status:         "5.1.1",
				DiagnosticCode: "550 5.1.1 No such user",
				RemoteMTA:      "mx.example.net",
				LastAttempt:    testTime,
				Extra:          map[string]string{"Rule": "none", "Figures": "attempts=1"},
			},
			{
				Final:          "carol@example.org",
				Action:         "failed",
				Status:         "5.2.2",
				DiagnosticCode: "552 5.2.2 Mailbox full",
				RemoteMTA:      "192.0.2.7",
				LastAttempt:    testTime,
			},
			{
				Final:          "dan@example.com",
				Action:         "delayed",
				Status:         "4.7.1",
				DiagnosticCode: "451 4.7.1 Greylisted, try again later",
				RemoteMTA:      "mx.example.com",
				LastAttempt:    testTime,
				WillRetryUntil: testTime.Add(5 * 24 * time.Hour),
			},
		},
	}
}

func mustCompose(t testing.TB, r Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Compose(&b, r); err != nil {
		t.Fatalf("Compose: %v", err)
	}
	return b.Bytes()
}

// parsed is a DSN read back with go-message.
type parsed struct {
	top     message.Header
	parts   []part
	perMsg  textproto.Header
	perRcpt []textproto.Header
}

type part struct {
	header    message.Header
	mediaType string
	body      []byte // decoded
}

// parseDSN checks what must hold for any DSN, whatever the input: CRLF line
// endings only, no line over 998 octets, a multipart/report that go-message
// reads part by part, and a delivery-status part whose blocks parse with
// textproto.ReadHeader. It returns an error rather than failing, so the
// fuzz target can report the input.
func parseDSN(out []byte) (*parsed, error) {
	if err := checkLines(out); err != nil {
		return nil, err
	}
	e, err := message.Read(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("message.Read: %v", err)
	}
	p := &parsed{top: e.Header}
	mt, params, err := e.Header.ContentType()
	if err != nil || mt != "multipart/report" || params["report-type"] != "delivery-status" {
		return nil, fmt.Errorf("top Content-Type = %q %v (%v)", mt, params, err)
	}
	mr := e.MultipartReader()
	for {
		pe, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("NextPart: %v", err)
		}
		body, err := io.ReadAll(pe.Body)
		if err != nil {
			return nil, fmt.Errorf("read part: %v", err)
		}
		pmt, _, _ := pe.Header.ContentType()
		p.parts = append(p.parts, part{header: pe.Header, mediaType: pmt, body: body})
	}
	if len(p.parts) < 2 || p.parts[0].mediaType != "text/plain" || p.parts[1].mediaType != "message/delivery-status" {
		return nil, fmt.Errorf("parts: %d, want text/plain, message/delivery-status first", len(p.parts))
	}
	if err := p.readStatus(p.parts[1].body); err != nil {
		return nil, err
	}
	return p, nil
}

// readStatus reads the message/delivery-status body the way RFC 3464
// describes it: a block of per-message fields, then blocks of
// per-recipient fields, each ended by a blank line.
func (p *parsed) readStatus(body []byte) error {
	br := bufio.NewReader(bytes.NewReader(body))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return fmt.Errorf("per-message fields: %v", err)
	}
	if !strings.HasPrefix(h.Get("Reporting-MTA"), "dns; ") {
		return fmt.Errorf("Reporting-MTA = %q", h.Get("Reporting-MTA"))
	}
	p.perMsg = h
	for {
		h, err := textproto.ReadHeader(br)
		if err != nil {
			return fmt.Errorf("per-recipient fields: %v", err)
		}
		if h.Len() == 0 {
			break
		}
		for _, k := range []string{"Final-Recipient", "Action", "Status"} {
			if h.Get(k) == "" {
				return fmt.Errorf("recipient block %d has no %s", len(p.perRcpt), k)
			}
		}
		p.perRcpt = append(p.perRcpt, h)
	}
	return nil
}

// checkLines enforces RFC 5322 section 2.1.1 and 2.3 on the raw output:
// CR and LF only together, as CRLF, and at most 998 octets per line.
func checkLines(out []byte) error {
	for i, c := range out {
		switch {
		case c == '\r' && (i+1 == len(out) || out[i+1] != '\n'):
			return fmt.Errorf("bare CR at offset %d", i)
		case c == '\n' && (i == 0 || out[i-1] != '\r'):
			return fmt.Errorf("bare LF at offset %d", i)
		}
	}
	for n, line := range bytes.Split(out, []byte("\r\n")) {
		if len(line) > maxLine {
			return fmt.Errorf("line %d is %d octets long", n+1, len(line))
		}
	}
	return nil
}

// flat joins the wrapped lines of the human-readable part, so tests look for
// sentences, not for where the wrapping happened to break them.
func flat(b []byte) string {
	return strings.Join(strings.Fields(string(b)), " ")
}

// parseInner reads the header of a returned message/rfc822 back. Its body
// is the sender's own content, encoded however the sender's program chose.
func parseInner(b []byte) (*message.Entity, error) {
	e, err := message.Read(bytes.NewReader(b))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, err
	}
	return e, nil
}
