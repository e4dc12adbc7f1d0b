package dsn

import (
	"crypto/rand"
	"encoding/hex"
	"mime"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// fields is an ordered list of header fields. go-message's Header.Add puts
// each new field at the top, so building through this list is how the
// output keeps the order we write the fields in.
type fields []field

type field struct{ key, value string }

// add appends a field unless its value is empty: optional RFC 3464 fields
// are left out rather than written blank.
func (fs *fields) add(key, value string) {
	if value != "" {
		*fs = append(*fs, field{key, value})
	}
}

// header builds the go-message header. Add would write "Reporting-Mta"
// and "Message-Id" (net/textproto canonical case); field names are
// case-insensitive, but the RFCs' spelling is what admins grep for. So each
// field is formatted (and folded) by go-message, then its name, which has
// the same length, is put back in our spelling.
func (fs fields) header() textproto.Header {
	var h textproto.Header
	for i := len(fs) - 1; i >= 0; i-- {
		f := fs[i]
		var one textproto.Header
		one.Add(f.key, f.value)
		raw, err := one.Raw(f.key)
		if err != nil || !strings.EqualFold(string(raw[:len(f.key)]), f.key) {
			h.Add(f.key, f.value) // WriteHeader will report the error
			continue
		}
		h.AddRaw(append([]byte(f.key), raw[len(f.key):]...))
	}
	return h
}

func (fs fields) message() message.Header {
	return message.Header{Header: fs.header()}
}

// dateFormat is the RFC 5322 date-time, as required for Arrival-Date,
// Last-Attempt-Date and Will-Retry-Until (RFC 3464 section 2.2.5).
const dateFormat = "Mon, 02 Jan 2006 15:04:05 -0700"

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(dateFormat)
}

// topHeader is the DSN's own RFC 5322 header. Auto-Submitted (RFC 3834)
// tells auto-responders and vacation scripts not to answer it; In-Reply-To
// and References let the sender's mail program thread it with the message
// that bounced.
func topHeader(r *Report, orig *original) message.Header {
	var fs fields
	from := r.From
	if !strings.ContainsAny(from, "<>") { // a bare address: give it a name
		from = "Mail Delivery System <" + from + ">"
	}
	fs.add("From", from)
	fs.add("To", "<"+r.To+">")
	fs.add("Subject", mime.QEncoding.Encode("utf-8", subject(r, orig)))
	fs.add("Date", r.Now().Format(dateFormat))
	fs.add("Message-ID", "<"+randomToken()+"@"+idDomain(r.ReportingMTA)+">")
	if id := orig.messageID(); id != "" {
		fs.add("In-Reply-To", id)
		fs.add("References", id)
	}
	fs.add("Auto-Submitted", "auto-replied")
	fs.add("MIME-Version", "1.0")
	// Setting the boundary ourselves keeps go-message from rewriting (and
	// so moving) the Content-Type field. "=_" can never occur in
	// quoted-printable output, so no encoded part can contain it.
	fs.add("Content-Type", mime.FormatMediaType("multipart/report", map[string]string{
		"report-type": "delivery-status",
		"boundary":    "=_tollgate_" + randomToken(),
	}))
	return fs.message()
}

// subject names what happened and which message it was about: failures
// first, since one failed recipient is what the sender most needs to know.
func subject(r *Report, orig *original) string {
	o := summarize(r.Recipients)
	prefix, fallback := "Delivered", "Delivery Status Notification (Success)"
	switch {
	case o.failed > 0:
		prefix, fallback = "Undeliverable", "Delivery Status Notification (Failure)"
	case o.delayed > 0:
		prefix, fallback = "Delayed", "Delivery Status Notification (Delay)"
	}
	if s := orig.subject(); s != "" {
		return prefix + ": " + s
	}
	return fallback
}

// randomToken is 128 random bits in hex, unique enough for a Message-ID or
// a MIME boundary that no original message can contain by chance.
func randomToken() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// idDomain keeps only the characters a Message-ID's right-hand side (a
// dot-atom) may hold.
func idDomain(host string) string {
	s := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
			return c
		}
		return -1
	}, host)
	s = strings.Trim(s, ".")
	if s == "" {
		return "localhost"
	}
	return s
}
