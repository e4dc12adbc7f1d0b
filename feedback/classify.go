// Package feedback turns what the next hops say about a tenant's mail into
// counted evidence: each delivery attempt's remote reply is classified
// (delivered, hard bounce, spam or policy refusal, rate limit, mailbox full,
// other transient or permanent failure) and counted per tenant in the shared
// counters, and ARF (RFC 5965) complaint reports are matched to a tenant
// through the Feedback-ID header Tollgate adds to outbound mail and counted
// as complaints. Source reads the counts back as a policy.Feedback.
package feedback

import (
	"strconv"
	"strings"
)

// Class is what a next hop's reply says about the mail, from the tenant's
// point of view.
type Class string

const (
	// Delivered: the next hop accepted the message (2xx).
	Delivered Class = "delivered"
	// HardBounce: the address does not exist or cannot receive mail
	// (unknown user, disabled mailbox, no such domain). Many of these
	// mean a bought or guessed list.
	HardBounce Class = "hard-bounce"
	// SpamRefusal: the next hop refused the mail as spam, by policy
	// (DMARC, SPF, content), for the sending IP's reputation or because
	// of a blocklist; temporary or permanent.
	SpamRefusal Class = "spam-refusal"
	// RateLimited: the next hop asks us to slow down (4.7.28, "try again
	// later", too many connections).
	RateLimited Class = "rate-limited"
	// MailboxFull: the recipient's mailbox is over quota; not the
	// sender's fault and not counted against the tenant.
	MailboxFull Class = "mailbox-full"
	// Transient: any other temporary failure (greylisting, a local
	// problem at the next hop).
	Transient Class = "transient"
	// Failed: any other permanent failure (message too large, bad
	// syntax, a routing loop); not counted against the tenant.
	Failed Class = "failed"
	// NoReply: the next hop gave no reply at all (could not connect, the
	// connection broke); nothing was said about the mail.
	NoReply Class = "no-reply"
)

// Reply is a next hop's answer to one recipient in one attempt.
type Reply struct {
	Code     int    // the basic SMTP code, 250, 421, 550; 0 when the next hop gave none
	Enhanced string // RFC 3463, "5.1.1"; "" when none was given
	Text     string // the reply text, all lines
}

// Result is a classified reply: its class and a reason a person can read.
type Result struct {
	Class  Class
	Reason string
}

// Classify says what a reply means. Enhanced status codes (RFC 3463) decide
// first where they are specific (5.1.1 is an unknown user whatever the text
// says); the generic ones (x.0.0, 5.7.1, 4.7.0, and replies without one)
// fall through to the text patterns of the common mailbox providers; what
// no pattern matches falls back to the reply's class digit.
func Classify(r Reply) Result {
	if r.Code == 0 && r.Enhanced == "" {
		return Result{NoReply, "the next hop gave no reply"}
	}
	cls, subj, detail := parseEnhanced(r.Enhanced)
	if cls == 0 && r.Code >= 200 {
		cls = r.Code / 100
	}
	if r.Code == 0 && !(cls == 5 && localReply(subj, detail)) {
		return Result{NoReply, "no reply from the next hop (" + r.Enhanced + " is Tollgate's own)"}
	}
	if cls == 2 {
		return Result{Delivered, "accepted by the next hop"}
	}
	if res, ok := byCode(cls, subj, detail); ok {
		return res
	}
	if res, ok := byText(cls, strings.ToLower(r.Text)); ok {
		return res
	}
	switch {
	case cls == 5 && subj == 7:
		// 5.7.0/5.7.1 without a telling text: security or policy.
		return Result{SpamRefusal, "enhanced code " + r.Enhanced + ": refused by the next hop's security or policy rules"}
	case cls == 5:
		return Result{Failed, "permanent failure not about the sender's reputation or the address" + codeNote(r.Enhanced)}
	case cls == 4:
		return Result{Transient, "temporary failure" + codeNote(r.Enhanced)}
	}
	return Result{Failed, "unrecognised reply"}
}

// localReply lists the permanent codes the delivery side gives without a
// remote reply that still say something about the address: the
// recipient's domain does not exist (5.1.2), takes no mail (null MX,
// 5.1.10) or cannot be routed to (5.4.4).
func localReply(subj, detail int) bool {
	return (subj == 1 && (detail == 2 || detail == 10)) || (subj == 4 && detail == 4)
}

func codeNote(enh string) string {
	if enh == "" {
		return ""
	}
	return " (" + enh + ")"
}

// parseEnhanced splits "5.1.1"; zeros when it is not an enhanced code.
func parseEnhanced(s string) (cls, subj, detail int) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return 0, 0, 0
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 999 {
			return 0, 0, 0
		}
		n[i] = v
	}
	if n[0] != 2 && n[0] != 4 && n[0] != 5 {
		return 0, 0, 0
	}
	return n[0], n[1], n[2]
}

// byCode decides by the specific enhanced codes.
func byCode(cls, subj, detail int) (Result, bool) {
	code := strconv.Itoa(cls) + "." + strconv.Itoa(subj) + "." + strconv.Itoa(detail)
	if cls == 5 {
		switch {
		case subj == 1 && (detail == 1 || detail == 10):
			return Result{HardBounce, code + ": the recipient's mailbox does not exist"}, true
		case subj == 1 && detail == 2:
			return Result{HardBounce, code + ": the recipient's domain does not exist or takes no mail"}, true
		case subj == 1 && (detail == 3 || detail == 6):
			return Result{HardBounce, code + ": the recipient address is invalid or has moved"}, true
		case subj == 2 && detail == 1:
			return Result{HardBounce, code + ": the recipient's mailbox is disabled"}, true
		case subj == 4 && detail == 4, subj == 4 && detail == 1:
			// 5.4.4 unable to route; 5.4.1 is Microsoft's "recipient
			// address rejected: access denied" for an address its
			// directory does not know.
			return Result{HardBounce, code + ": no such recipient or domain at the next hop"}, true
		case subj == 7 && detail >= 606 && detail <= 649:
			return Result{SpamRefusal, code + ": the sending IP is banned by the next hop"}, true
		case subj == 7 && (detail == 23 || detail == 24 || detail == 25 || detail == 26 || detail == 27):
			return Result{SpamRefusal, code + ": refused for failed sender authentication (SPF, DKIM, DMARC or reverse DNS)"}, true
		case subj == 7 && detail >= 2:
			// 5.7.x beyond the generic 5.7.0/5.7.1: every one is a
			// security or policy refusal (5.7.9 Yahoo policy, 5.7.28
			// Gmail unsolicited rate, 5.7.350 Microsoft spam, ...).
			return Result{SpamRefusal, code + ": refused by the next hop's security or policy rules"}, true
		}
	}
	if subj == 2 && detail == 2 {
		return Result{MailboxFull, code + ": the recipient's mailbox is full"}, true
	}
	if cls == 4 && subj == 7 && detail == 28 {
		return Result{RateLimited, code + ": the next hop rate-limits mail from this IP"}, true
	}
	if cls == 4 && subj == 7 && (detail == 23 || detail == 24 || detail == 25 || detail == 26 || detail == 27) {
		return Result{SpamRefusal, code + ": deferred for failed sender authentication (SPF, DKIM, DMARC or reverse DNS)"}, true
	}
	return Result{}, false
}

// pattern is a phrase of the reply text and the class it gives.
type pattern struct {
	phrase string
	class  Class
	why    string
}

// textPatterns are tried in order: unknown users first (their texts often
// say "rejected" too), then full mailboxes, greylisting, spam and policy,
// rate limits. Phrases are lower case.
var textPatterns = []pattern{
	{"user unknown", HardBounce, "unknown user"},
	{"unknown user", HardBounce, "unknown user"},
	{"no such user", HardBounce, "unknown user"},
	{"unknown recipient", HardBounce, "unknown recipient"},
	{"no such recipient", HardBounce, "unknown recipient"},
	{"invalid recipient", HardBounce, "invalid recipient"},
	{"recipient not found", HardBounce, "unknown recipient"},
	{"recipientnotfound", HardBounce, "unknown recipient"},
	{"mailbox not found", HardBounce, "no such mailbox"},
	{"mailbox unavailable", HardBounce, "no such mailbox"},
	{"mailbox is disabled", HardBounce, "mailbox disabled"},
	{"account is disabled", HardBounce, "mailbox disabled"},
	{"account has been disabled", HardBounce, "mailbox disabled"},
	{"does not exist", HardBounce, "no such mailbox"},
	{"doesn't exist", HardBounce, "no such mailbox"},
	{"doesn't have a", HardBounce, "no such account"},
	{"no mailbox", HardBounce, "no such mailbox"},
	{"unrouteable address", HardBounce, "no such address"},
	{"address rejected: undeliverable", HardBounce, "no such address"},

	{"mailbox full", MailboxFull, "mailbox full"},
	{"mailbox is full", MailboxFull, "mailbox full"},
	{"over quota", MailboxFull, "mailbox over quota"},
	{"quota exceeded", MailboxFull, "mailbox over quota"},
	{"insufficient storage", MailboxFull, "mailbox full"},

	{"greylist", Transient, "greylisted"},
	{"graylist", Transient, "greylisted"},

	{"spamhaus", SpamRefusal, "listed on Spamhaus"},
	{"spamcop", SpamRefusal, "listed on SpamCop"},
	{"barracuda", SpamRefusal, "listed by Barracuda"},
	{"blocked using", SpamRefusal, "on a DNS blocklist"},
	{"block list", SpamRefusal, "on a blocklist"},
	{"blocklist", SpamRefusal, "on a blocklist"},
	{"blacklist", SpamRefusal, "on a blocklist"},
	{"black list", SpamRefusal, "on a blocklist"},
	{"s3150", SpamRefusal, "Microsoft's IP block list (S3150)"},
	{"dnsbl", SpamRefusal, "on a DNS blocklist"},
	{"unsolicited", SpamRefusal, "judged unsolicited"},
	{"spam", SpamRefusal, "judged spam"},
	{"junk", SpamRefusal, "judged junk"},
	{"dmarc", SpamRefusal, "failed DMARC"},
	{"reputation", SpamRefusal, "poor sender reputation"},
	{"complaints", SpamRefusal, "recipients' complaints"},
	{"banned", SpamRefusal, "sender banned"},
	{"blocked", SpamRefusal, "sender blocked"},
	{"polic", SpamRefusal, "refused by policy"},
	{"prohibited", SpamRefusal, "refused by policy"},
	{"prohibition", SpamRefusal, "refused by policy"},
	{"suspicious", SpamRefusal, "judged suspicious"},

	{"rate limit", RateLimited, "rate limited"},
	{"rate-limit", RateLimited, "rate limited"},
	{"ratelimit", RateLimited, "rate limited"},
	{"throttl", RateLimited, "throttled"},
	{"too many", RateLimited, "too many messages or connections"},
	{"try again later", RateLimited, "asked to try again later"},
	{"temporarily deferred", RateLimited, "temporarily deferred"},
	{"slow down", RateLimited, "asked to slow down"},
}

// byText decides by the reply text. An unknown user said in a 4xx is not a
// hard bounce (the next hop is not sure yet); a full mailbox, a spam
// refusal and a rate limit are what they say in either class.
func byText(cls int, text string) (Result, bool) {
	if text == "" {
		return Result{}, false
	}
	for _, p := range textPatterns {
		if !strings.Contains(text, p.phrase) {
			continue
		}
		c := p.class
		if c == HardBounce && cls != 5 {
			c = Transient
		}
		if c == RateLimited && cls == 5 {
			c = Failed
		}
		return Result{c, "reply text \"" + p.phrase + "\": " + p.why}, true
	}
	return Result{}, false
}
