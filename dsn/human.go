package dsn

import (
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
)

// textWidth is where prose is wrapped: readable in any mail program, with
// room for quoted-printable (when needed) to escape a few characters before
// it must break a line itself at 76.
const textWidth = 72

// humanHeader declares the human-readable part. Plain ASCII text is sent as
// 7bit; anything else (a UTF-8 address, a remote reply in another script, a
// line too long to wrap) as quoted-printable, so the DSN never needs the
// 8BITMIME extension for this part.
func humanHeader(text string) message.Header {
	cte := "7bit"
	if !isASCII(text) || longestLine(text) > maxLine {
		cte = "quoted-printable"
	}
	var fs fields
	fs.add("Content-Description", "Notification")
	fs.add("Content-Type", mime.FormatMediaType("text/plain", map[string]string{"charset": "utf-8"}))
	fs.add("Content-Transfer-Encoding", cte)
	return fs.message()
}

func writeHuman(w io.Writer, text string) error {
	_, err := io.WriteString(w, strings.ReplaceAll(text, "\n", "\r\n"))
	return err
}

// humanText is the part people read. It says, in this order: what happened
// to each recipient, who can fix it and how ("For the sender"), and the
// technical details ("For the email admin"), then where to find more help.
// Lines end in "\n" here; writeHuman turns them into CRLF.
func humanText(r *Report, orig *original) string {
	var t text
	t.para("This is the mail system at " + oneLine(r.ReportingMTA) + ". This is an automatic report about a message you sent; there is no need to reply to it.")
	o := summarize(r.Recipients)
	if o.failed > 0 {
		t.para(fmt.Sprintf("Your message could not be delivered to %s. The mail system will not try again.", count(o.failed)))
	}
	if o.delayed > 0 {
		t.para(fmt.Sprintf("Your message has not been delivered yet to %s. The mail system is still trying; you do not need to send it again.", count(o.delayed)))
	}
	if o.other > 0 {
		t.para(fmt.Sprintf("Your message was delivered or passed on to %s.", count(o.other)))
	}

	t.heading("What happened")
	for i := range r.Recipients {
		happened(&t, &r.Recipients[i])
	}

	t.heading("For the sender")
	if r.Sender != "" {
		t.verbatim(r.Sender)
	} else {
		forSender(&t, r.Recipients)
	}

	t.heading("For the email admin")
	if r.Admin != "" {
		t.verbatim(r.Admin)
	} else {
		forAdmin(&t, r.Recipients)
	}
	details(&t, r)
	if orig.note != "" {
		t.para(orig.note)
	}
	if u := oneLine(r.HelpURL); u != "" {
		t.para("More help: " + u)
	}
	return strings.TrimRight(t.String(), "\n") + "\n"
}

// happened tells one recipient's story: the address, the outcome, the
// remote server's own words, and for a delay, until when we keep trying.
func happened(t *text, rc *Recipient) {
	_, e := explain(rc)
	t.wrap("", oneLine(rc.Final))
	t.wrap("  ", outcomeWord(rc.Action)+". "+e.title)
	if d := stripSMTP(oneLine(rc.DiagnosticCode)); d != "" {
		if mta := oneLine(rc.RemoteMTA); mta != "" {
			t.wrap("  ", "The receiving server ("+mta+") replied:")
		} else {
			t.wrap("  ", "The reply was:")
		}
		t.wrap("    ", d)
	}
	if rc.Action == "delayed" && !rc.WillRetryUntil.IsZero() {
		t.wrap("  ", "The mail system will keep trying until "+formatDate(rc.WillRetryUntil)+".")
	}
	t.blank()
}

func outcomeWord(action string) string {
	switch action {
	case "failed":
		return "Not delivered"
	case "delayed":
		return "Delayed"
	}
	return "Delivered"
}

// group is one kind of failure and the recipients it hit, so a message to
// fifty unknown addresses gets one piece of advice, not fifty.
type group struct {
	code  string
	e     explanation
	addrs []string
}

func groups(rs []Recipient) []*group {
	var out []*group
	byKey := map[string]*group{}
	for i := range rs {
		key, e := explain(&rs[i])
		g := byKey[key]
		if g == nil {
			g = &group{code: rs[i].Status, e: e}
			byKey[key] = g
			out = append(out, g)
		}
		g.addrs = append(g.addrs, oneLine(rs[i].Final))
	}
	return out
}

func forSender(t *text, rs []Recipient) {
	for _, g := range groups(rs) {
		t.wrap("", strings.TrimSuffix(g.e.title, ".")+": "+listAddrs(g.addrs))
		t.wrap("  ", "Who can fix it: "+g.e.fixer+".")
		t.wrap("  ", "How to fix it: "+g.e.sender)
		t.blank()
	}
}

func forAdmin(t *text, rs []Recipient) {
	for _, g := range groups(rs) {
		t.wrap("", g.code+": "+g.e.admin)
		t.blank()
	}
}

// details repeats the delivery-status fields in readable form, with the
// same 7-bit values, so what the admin reads matches what programs parse.
func details(t *text, r *Report) {
	t.wrap("", "Technical details:")
	t.field("  ", "Reporting MTA", r.ReportingMTA)
	t.field("  ", "Queue ID", asciiValue(r.QueueID))
	t.field("  ", "Envelope ID", asciiValue(r.EnvelopeID))
	t.field("  ", "Arrival date", formatDate(r.ArrivalDate))
	t.field("  ", "Original sender", oneLine(r.To))
	for i := range r.Recipients {
		rc := &r.Recipients[i]
		t.blank()
		t.field("  ", "Recipient", oneLine(rc.Final))
		t.field("    ", "Original recipient", originalValue(rc.Original))
		t.field("    ", "Action", rc.Action)
		t.field("    ", "Status", rc.Status)
		t.field("    ", "Remote MTA", remoteMTA(rc.RemoteMTA))
		if d := diagnostic(rc.DiagnosticCode); d != "" {
			t.field("    ", "Diagnostic", "smtp; "+d)
		}
		t.field("    ", "Last attempt", formatDate(rc.LastAttempt))
		if rc.Action == "delayed" {
			t.field("    ", "Will retry until", formatDate(rc.WillRetryUntil))
		}
		for _, e := range extras(rc.Extra) {
			t.field("    ", e.key, asciiValue(e.value))
		}
	}
	t.blank()
}

func count(n int) string {
	if n == 1 {
		return "1 recipient"
	}
	return fmt.Sprintf("%d recipients", n)
}

// listAddrs names up to three addresses and counts the rest.
func listAddrs(addrs []string) string {
	if len(addrs) <= 3 {
		return strings.Join(addrs, ", ")
	}
	return strings.Join(addrs[:3], ", ") + fmt.Sprintf(" and %d more", len(addrs)-3)
}

func stripSMTP(s string) string {
	if len(s) >= 5 && strings.EqualFold(s[:5], "smtp;") {
		return strings.TrimSpace(s[5:])
	}
	return s
}

func longestLine(s string) int {
	longest := 0
	for _, l := range strings.Split(s, "\n") {
		longest = max(longest, len(l))
	}
	return longest
}

// text builds the human-readable part: paragraphs wrapped at textWidth,
// headings underlined, blank lines between blocks.
type text struct{ strings.Builder }

func (t *text) blank() { t.WriteByte('\n') }

func (t *text) para(s string) {
	t.wrap("", s)
	t.blank()
}

func (t *text) heading(s string) {
	t.WriteString(s + "\n" + strings.Repeat("-", utf8.RuneCountInString(s)) + "\n\n")
}

// field writes "Name: value", skipping empty values like the report does.
func (t *text) field(indent, name, value string) {
	if value != "" {
		t.wrap(indent, name+": "+value)
	}
}

// verbatim writes caller-supplied text (Report.Sender, Report.Admin): its
// line breaks are kept, each line is cleaned and wrapped.
func (t *text) verbatim(s string) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if l := oneLine(line); l != "" {
			t.wrap("", l)
		} else {
			t.blank()
		}
	}
	t.blank()
}

// wrap writes s (already one line) as lines of at most textWidth runes
// each starting with indent; a word longer than a line gets a line of its
// own rather than being cut.
func (t *text) wrap(indent, s string) {
	n := 0
	for _, word := range strings.Fields(s) {
		w := utf8.RuneCountInString(word)
		switch {
		case n == 0:
			t.WriteString(indent)
			n = utf8.RuneCountInString(indent)
		case n+1+w > textWidth:
			t.WriteString("\n" + indent)
			n = utf8.RuneCountInString(indent)
		default:
			t.WriteByte(' ')
			n++
		}
		t.WriteString(word)
		n += w
	}
	if n > 0 {
		t.WriteByte('\n')
	}
}
