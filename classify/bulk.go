package classify

import (
	"strings"

	"github.com/emersion/go-message"
)

// Bulk points per signal. A newsletter from a mailing platform has
// List-Unsubscribe (3), one-click unsubscribe (1), a platform header (2) and
// many recipients or an unsubscribe link: level 6 or more. Personal mail has
// none of these: level 0.
const (
	bulkListUnsubscribe = 3
	bulkOneClick        = 1
	bulkPrecedence      = 2
	bulkListID          = 1
	bulkMailer          = 2
	bulkUnsubscribeText = 1
	bulkTemplated       = 1
	bulkCampaign        = 3
	maxBulk             = 9
)

// massMailerHeaders are headers bulk-mail platforms and mass-mailing
// software add (Mailchimp, SendGrid, Mailgun, Amazon SES, Salesforce,
// Constant Contact and the complaint-feedback ones every large sender sets).
var massMailerHeaders = []string{
	"X-Campaign", "X-Campaign-Id", "X-CampaignID", "X-Mailgun-Tag", "X-Mailgun-Variables",
	"X-SG-EID", "X-SES-Outgoing", "X-MC-User", "X-Mailchimp-Campaign", "X-SFMC-Stack",
	"X-CSA-Complaints", "Feedback-ID", "X-Feedback-ID", "X-Mailer-RecptId", "X-Roving-ID",
}

// massMailerPrograms are X-Mailer values of mass-mailing programs.
var massMailerPrograms = []string{"phpmailer", "mailchimp", "sendgrid", "mailgun", "sendinblue", "mass", "bulk", "newsletter", "campaign", "acymailing", "mailpoet", "listmonk"}

// bulkLevel scores the signals a bulk sender leaves, 0 to 9, with a reason
// for each signal (its weight is in bulk points, not score units).
func bulkLevel(h message.Header, recipients int, d *document, campaign bool) (int, []Reason) {
	level := 0
	var reasons []Reason
	add := func(name string, points int) {
		level += points
		reasons = append(reasons, Reason{"bulk:" + name, float64(points)})
	}
	if h.Has("List-Unsubscribe") {
		add("LIST_UNSUBSCRIBE", bulkListUnsubscribe)
		if h.Has("List-Unsubscribe-Post") {
			add("ONE_CLICK_UNSUBSCRIBE", bulkOneClick)
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "list", "junk":
		add("PRECEDENCE", bulkPrecedence)
	}
	if h.Has("List-Id") {
		add("LIST_ID", bulkListID)
	}
	if massMailer(h, d.mailer) {
		add("MASS_MAILER", bulkMailer)
	}
	switch {
	case recipients >= 500:
		add("RECIPIENTS_500", 3)
	case recipients >= 50:
		add("RECIPIENTS_50", 2)
	case recipients >= 10:
		add("RECIPIENTS_10", 1)
	}
	if d.unsubscribeText {
		add("UNSUBSCRIBE_TEXT", bulkUnsubscribeText)
	}
	if d.hasHTML && d.images >= 3 && len(d.hosts) >= 5 {
		add("TEMPLATED_HTML", bulkTemplated)
	}
	if campaign {
		add("CAMPAIGN", bulkCampaign)
	}
	return min(level, maxBulk), reasons
}

func massMailer(h message.Header, mailer string) bool {
	for _, k := range massMailerHeaders {
		if h.Has(k) {
			return true
		}
	}
	m := strings.ToLower(mailer)
	for _, p := range massMailerPrograms {
		if strings.Contains(m, p) {
			return true
		}
	}
	return false
}
