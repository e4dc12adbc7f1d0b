package feedback

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// SenderID is the last field of every Feedback-ID Tollgate writes: the
// "SenderId" of Gmail's a:b:c:SenderId format, which mailbox providers
// group their complaint statistics by.
const SenderID = "tollgate"

// FeedbackID is what Tollgate's Feedback-ID header says:
// "<tenant id>:<kind>:<tag>:tollgate". The tenant id is the directory's
// number (not the tenant's name), kind is how the message came in ("user"
// for SMTP AUTH, "connector" for a tenant's server), and tag is the
// installation's keyed tag of the tenant id (see Signer), so a report
// cannot name a tenant by its number alone. Nothing in it names a person
// or an address: recipients see the header.
type FeedbackID struct {
	TenantID int64
	Kind     string
	Tag      string
}

// String is the header value.
func (f FeedbackID) String() string {
	return strconv.FormatInt(f.TenantID, 10) + ":" + field(f.Kind) + ":" + field(f.Tag) + ":" + SenderID
}

// field keeps a Feedback-ID field free of the separator and of anything
// that is not printable ASCII.
func field(s string) string {
	s = strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' || r == ':' || r == ';' {
			return -1
		}
		return r
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		return "-"
	}
	return s
}

// ParseFeedbackID reads a Feedback-ID value Tollgate wrote; ok is false for
// anyone else's (another sender id, a malformed value).
func ParseFeedbackID(v string) (FeedbackID, bool) {
	parts := strings.Split(strings.TrimSpace(v), ":")
	if len(parts) != 4 || !strings.EqualFold(strings.TrimSpace(parts[3]), SenderID) {
		return FeedbackID{}, false
	}
	id, err := strconv.ParseInt(strings.TrimSpace(parts[0]), 10, 64)
	if err != nil || id <= 0 {
		return FeedbackID{}, false
	}
	return FeedbackID{TenantID: id, Kind: parts[1], Tag: parts[2]}, true
}

// Report is what an ARF (RFC 5965) feedback report says, as far as
// matching and counting need it.
type Report struct {
	FeedbackType     string   // abuse, fraud, virus, other, not-spam, auth-failure (lower case)
	UserAgent        string   // the reporting system
	OriginalMailFrom string   // the envelope sender of the reported message
	OriginalRcptTo   []string // its envelope recipients, when the reporter tells
	ArrivalDate      string   // as the reporter wrote it
	SourceIP         string   // the IP the reporter received it from (ours)
	ReportedDomain   string

	// From the original message or its headers (the report's third part).
	FeedbackID    FeedbackID // Tollgate's Feedback-ID, when found
	HasFeedbackID bool
	MessageID     string // the original's Message-ID, angle brackets kept
	OriginalTo    string // the original's To field, when Original-Rcpt-To is missing
}

// Recipient is the complained recipient, when the report says: the
// envelope recipient, else the original's To.
func (r *Report) Recipient() string {
	if len(r.OriginalRcptTo) > 0 {
		return r.OriginalRcptTo[0]
	}
	return r.OriginalTo
}

// ErrNotARF is wrapped by every parse error: the input is not an ARF
// feedback report.
var ErrNotARF = errors.New("not an ARF feedback report")

// Parse bounds: a report is small (its original is often headers only);
// these keep a hostile one from costing more.
const (
	maxParts       = 8
	maxFieldsBytes = 64 << 10 // the machine-readable part, and the original's header
)

// ParseARF reads an ARF report: a multipart/report whose parts are a
// human-readable text, a message/feedback-report and the original message
// (message/rfc822) or its header (text/rfc822-headers). The caller bounds
// the input's size.
func ParseARF(r io.Reader) (*Report, error) {
	e, err := message.Read(r)
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, fmt.Errorf("%w: %v", ErrNotARF, err)
	}
	mt, params, err := e.Header.ContentType()
	if err != nil || !strings.EqualFold(mt, "multipart/report") {
		return nil, fmt.Errorf("%w: content type is %q, want multipart/report", ErrNotARF, mt)
	}
	if rt := params["report-type"]; rt != "" && !strings.EqualFold(rt, "feedback-report") {
		return nil, fmt.Errorf("%w: report-type is %q, want feedback-report", ErrNotARF, rt)
	}
	mr := e.MultipartReader()
	if mr == nil {
		return nil, fmt.Errorf("%w: no multipart body", ErrNotARF)
	}
	rep := &Report{}
	var sawReport bool
	for i := 0; ; i++ {
		if i >= maxParts {
			return nil, fmt.Errorf("%w: more than %d parts", ErrNotARF, maxParts)
		}
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && (p == nil || (!message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err))) {
			return nil, fmt.Errorf("%w: part %d: %v", ErrNotARF, i+1, err)
		}
		pt, _, _ := p.Header.ContentType()
		switch strings.ToLower(pt) {
		case "message/feedback-report":
			h, err := readFields(p.Body)
			if err != nil {
				return nil, fmt.Errorf("%w: message/feedback-report: %v", ErrNotARF, err)
			}
			rep.fillReport(h)
			sawReport = true
		case "message/rfc822", "text/rfc822-headers", "message/rfc822-headers":
			h, err := readFields(p.Body)
			if err != nil {
				return nil, fmt.Errorf("%w: original message: %v", ErrNotARF, err)
			}
			rep.fillOriginal(h)
		}
	}
	if !sawReport {
		return nil, fmt.Errorf("%w: no message/feedback-report part", ErrNotARF)
	}
	if rep.FeedbackType == "" {
		return nil, fmt.Errorf("%w: no Feedback-Type field", ErrNotARF)
	}
	return rep, nil
}

// readFields reads a header block of at most maxFieldsBytes. A block cut
// off by the bound, or without the blank line that would end it (a
// text/rfc822-headers part may end without one), is read as far as it goes.
func readFields(r io.Reader) (textproto.Header, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFieldsBytes))
	if err != nil {
		return textproto.Header{}, err
	}
	if i := bytes.LastIndexByte(b, '\n'); len(b) == maxFieldsBytes && i >= 0 {
		b = b[:i+1] // drop a line the bound cut in two
	}
	b = append(b, "\r\n\r\n"...)
	return textproto.ReadHeader(bufio.NewReader(bytes.NewReader(b)))
}

func (rep *Report) fillReport(h textproto.Header) {
	rep.FeedbackType = strings.ToLower(strings.TrimSpace(h.Get("Feedback-Type")))
	rep.UserAgent = clip(h.Get("User-Agent"), 200)
	rep.OriginalMailFrom = clip(stripAngle(h.Get("Original-Mail-From")), 320)
	for _, v := range h.Values("Original-Rcpt-To") {
		if a := stripAngle(v); a != "" && len(rep.OriginalRcptTo) < 10 {
			rep.OriginalRcptTo = append(rep.OriginalRcptTo, clip(a, 320))
		}
	}
	rep.ArrivalDate = clip(h.Get("Arrival-Date"), 100)
	if rep.ArrivalDate == "" {
		rep.ArrivalDate = clip(h.Get("Received-Date"), 100) // the draft's name for it
	}
	rep.SourceIP = clip(strings.TrimSpace(h.Get("Source-IP")), 64)
	rep.ReportedDomain = clip(strings.TrimSpace(h.Get("Reported-Domain")), 255)
}

func (rep *Report) fillOriginal(h textproto.Header) {
	for _, v := range h.Values("Feedback-Id") { // topmost first: ours is the top one
		if f, ok := ParseFeedbackID(v); ok {
			rep.FeedbackID, rep.HasFeedbackID = f, true
			break
		}
	}
	rep.MessageID = clip(strings.TrimSpace(h.Get("Message-Id")), 998)
	rep.OriginalTo = clip(stripAngle(h.Get("To")), 320)
}

// stripAngle turns "<a@b>" (or "Name <a@b>") into "a@b".
func stripAngle(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			return strings.TrimSpace(s[i+1 : i+j])
		}
	}
	return s
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n]
	}
	return s
}
