package dsn

import (
	"io"
	"net"
	"sort"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

func statusHeader() message.Header {
	var fs fields
	fs.add("Content-Description", "Delivery report")
	fs.add("Content-Type", "message/delivery-status")
	fs.add("Content-Transfer-Encoding", "7bit")
	return fs.message()
}

// writeStatus writes the machine-readable report (RFC 3464 section 2): the
// per-message fields, then one block of per-recipient fields each. Every
// block is a header block written by textproto.WriteHeader, which ends it
// with the blank line that separates it from the next; it also folds long
// values so no line exceeds 998 octets. Values are 7-bit and single-line
// (asciiValue), so nothing from a remote reply can add a field.
func writeStatus(w io.Writer, r *Report) error {
	if err := textproto.WriteHeader(w, perMessage(r).header()); err != nil {
		return err
	}
	for i := range r.Recipients {
		if err := textproto.WriteHeader(w, perRecipient(&r.Recipients[i]).header()); err != nil {
			return err
		}
	}
	return nil
}

func perMessage(r *Report) fields {
	var fs fields
	fs.add("Reporting-MTA", "dns; "+r.ReportingMTA)
	fs.add("Original-Envelope-Id", asciiValue(r.EnvelopeID))
	fs.add("Arrival-Date", formatDate(r.ArrivalDate))
	fs.add("X-Tollgate-Queue-ID", asciiValue(r.QueueID))
	return fs
}

func perRecipient(rc *Recipient) fields {
	var fs fields
	fs.add("Original-Recipient", originalValue(rc.Original))
	fs.add("Final-Recipient", addressValue(rc.Final))
	fs.add("Action", rc.Action)
	fs.add("Status", rc.Status)
	if mta := remoteMTA(rc.RemoteMTA); mta != "" {
		fs.add("Remote-MTA", "dns; "+mta)
	}
	if d := diagnostic(rc.DiagnosticCode); d != "" {
		fs.add("Diagnostic-Code", "smtp; "+d)
	}
	fs.add("Last-Attempt-Date", formatDate(rc.LastAttempt))
	if rc.Action == "delayed" {
		fs.add("Will-Retry-Until", formatDate(rc.WillRetryUntil))
	}
	for _, e := range extras(rc.Extra) {
		fs.add("X-Tollgate-"+e.key, asciiValue(e.value))
	}
	return fs
}

// remoteMTA is the remote server's name, with an IP address in brackets as
// an address literal, since the field's type is "dns".
func remoteMTA(s string) string {
	s = asciiValue(s)
	if ip := net.ParseIP(s); ip != nil {
		return "[" + s + "]"
	}
	return s
}

// diagnostic is the remote reply without a "smtp;" prefix the caller may
// already have put there, so it is not written twice.
func diagnostic(s string) string {
	s = asciiValue(s)
	if len(s) >= 5 && strings.EqualFold(s[:5], "smtp;") {
		s = strings.TrimSpace(s[5:])
	}
	return s
}

// extras returns the extension fields with usable names, in sorted order so
// the output is the same on every run.
func extras(m map[string]string) []field {
	var out []field
	for k, v := range m {
		if key := fieldKey(k); key != "" {
			out = append(out, field{key, v})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].key != out[j].key {
			return out[i].key < out[j].key
		}
		return out[i].value < out[j].value
	})
	return out
}
