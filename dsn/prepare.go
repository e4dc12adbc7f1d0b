package dsn

import (
	"fmt"
	"strings"
	"time"
)

// Actions are the five RFC 3464 section 2.3.3 values of the Action field.
var actions = map[string]bool{
	"failed": true, "delayed": true, "delivered": true, "relayed": true, "expanded": true,
}

// prepare checks what the caller must get right and fills in defaults, so
// the writers below can trust every field. It copies the recipients: the
// caller's slice is never modified.
func prepare(r Report) (Report, error) {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.MaxReturnBytes <= 0 {
		r.MaxReturnBytes = DefaultMaxReturnBytes
	}
	r.ReportingMTA = asciiValue(r.ReportingMTA)
	if r.ReportingMTA == "" {
		return r, fmt.Errorf("dsn: ReportingMTA is required")
	}
	if IsNullSender(r.To) {
		return r, ErrNullSender
	}
	r.To = wireAddress(r.To)
	r.From = bareAddress(r.From)
	if r.From == "" {
		r.From = "MAILER-DAEMON@" + r.ReportingMTA
	}
	if len(r.Recipients) == 0 {
		return r, fmt.Errorf("dsn: no recipients to report")
	}
	rcpts := make([]Recipient, len(r.Recipients))
	for i, rc := range r.Recipients {
		rc.Action = strings.ToLower(strings.TrimSpace(rc.Action))
		if !actions[rc.Action] {
			return r, fmt.Errorf("dsn: recipient %d: invalid Action %q", i, rc.Action)
		}
		rc.Final = wireAddress(rc.Final)
		if rc.Final == "" {
			return r, fmt.Errorf("dsn: recipient %d: Final recipient is required", i)
		}
		rc.Status = strings.TrimSpace(rc.Status)
		if !validStatus(rc.Status) {
			rc.Status = defaultStatus(rc.Action)
		}
		rcpts[i] = rc
	}
	r.Recipients = rcpts
	return r, nil
}

// validStatus reports whether s is an RFC 3463 status code:
// class "." subject "." detail, class 2, 4 or 5, subject and detail 1-3 digits.
func validStatus(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || !strings.Contains("245", parts[0]) {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) < 1 || len(p) > 3 {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// defaultStatus is the undefined-detail status that matches an action, for
// replies that carried no enhanced code: the Status field is mandatory.
func defaultStatus(action string) string {
	switch action {
	case "failed":
		return "5.0.0"
	case "delayed":
		return "4.0.0"
	}
	return "2.0.0"
}

// outcome sums up a report for the subject line and the opening sentence.
type outcome struct{ failed, delayed, other int }

func summarize(rs []Recipient) outcome {
	var o outcome
	for _, rc := range rs {
		switch rc.Action {
		case "failed":
			o.failed++
		case "delayed":
			o.delayed++
		default:
			o.other++
		}
	}
	return o
}
