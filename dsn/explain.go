package dsn

import "strings"

// explanation is what the human-readable part says about one kind of
// failure, in the shape of the /ndr/<code> help pages: what went wrong, who
// can fix it, how the sender fixes it, and what an admin should look at.
type explanation struct {
	title  string // what went wrong, one short sentence
	fixer  string // who can fix it
	sender string // how to fix it, for the sender
	admin  string // what to check, for an email admin
}

// Who can fix it, in the words the hosted service's NDRs use.
const (
	fixSender    = "you, the sender"
	fixYourAdmin = "your email admin"
	fixRecipient = "the recipient or their email admin"
	fixNobody    = "no one needs to do anything yet"
	fixUnknown   = "the recipient's email admin, or your own if it keeps happening"
)

// explanations are keyed by a full status code, by class.subject, or by
// class alone; lookup tries them in that order, so a specific code can
// override its family. Codes 5.7.705, 5.7.708, 5.7.750, 5.7.64 and 5.1.8 are
// Tollgate's own refusals (see DESIGN.md).
var explanations = map[string]explanation{
	"5.1.1": {
		title:  "The email address does not exist.",
		fixer:  fixSender,
		sender: "Check the address for typing mistakes and send the message again. If you took it from an old message or from your address book's suggestions, ask the recipient for their current address another way.",
		admin:  "The receiving server rejected the recipient as unknown. If the address should exist, the recipient's admin must check it. Many such failures from one sender point to an outdated or bought address list.",
	},
	"5.1.2": {
		title:  "The recipient's domain does not exist or does not accept email.",
		fixer:  fixSender,
		sender: "Check the part of the address after the @ for typing mistakes and send the message again.",
		admin:  "The recipient domain has no usable MX or address record. Check its DNS; if it has just been set up, the records may not have propagated yet.",
	},
	"5.1.10": {
		title:  "The recipient's domain does not accept email (null MX).",
		fixer:  fixSender,
		sender: "The domain after the @ says it receives no email. Check the address, or contact the recipient another way.",
		admin:  "The recipient domain publishes a null MX record (RFC 7505): it accepts no mail at all.",
	},
	"5.1.8": {
		title:  "Your account is not allowed to send email at the moment.",
		fixer:  fixYourAdmin,
		sender: "Your account was restricted because it sent messages that looked like spam. Do not keep resending. Contact your email admin; change your password if you did not send those messages yourself.",
		admin:  "The user is restricted by the outbound spam policy. Check the message trace for the user, secure the account (reset the password, end its sessions, look for forwarding rules and app passwords you did not create), then lift the restriction in the console.",
	},
	"5.1": {
		title:  "There is a problem with the recipient's address.",
		fixer:  fixSender,
		sender: "Check the address for typing mistakes and send the message again.",
		admin:  "The receiving server refused the recipient address; the diagnostic below has its reason.",
	},
	"5.2.2": {
		title:  "The recipient's mailbox is full.",
		fixer:  fixRecipient,
		sender: "Let the recipient know another way (phone, another address) that their mailbox is full, then send the message again once they have made room.",
		admin:  "The receiving server reported the mailbox over its quota. Nothing needs fixing on the sending side.",
	},
	"5.2.3": {
		title:  "The message is too large for the recipient's mailbox.",
		fixer:  fixSender,
		sender: "Send a smaller message: remove large attachments and share them as links instead.",
		admin:  "The receiving server refused the message for its size.",
	},
	"5.2": {
		title:  "The recipient's mailbox is not available.",
		fixer:  fixRecipient,
		sender: "The mailbox may be disabled or suspended. Contact the recipient another way.",
		admin:  "The receiving server reported a problem with the mailbox itself; the diagnostic below has its reason.",
	},
	"5.3.4": {
		title:  "The message is too large.",
		fixer:  fixSender,
		sender: "Send a smaller message: remove large attachments and share them as links instead.",
		admin:  "The message exceeds a size limit, ours or the receiving server's.",
	},
	"5.3": {
		title:  "The recipient's mail system has a problem.",
		fixer:  fixRecipient,
		sender: "Try again later. If it fails again, contact the recipient another way and let them know.",
		admin:  "The receiving mail system reported a fault of its own; the diagnostic below has its reason.",
	},
	"5.4.7": {
		title:  "The message could not be delivered in time.",
		fixer:  fixUnknown,
		sender: "The mail system kept trying, but the recipient's server could not be reached or kept putting the message off. Try again later; if it fails again, contact the recipient another way, as their mail server may be down or misconfigured.",
		admin:  "Every attempt failed temporarily until the message expired from the queue. Look at the last diagnostic and the remote MTA: DNS (MX) problems, connection time-outs, TLS failures, greylisting or rate limits are the usual causes.",
	},
	"5.4": {
		title:  "The recipient's mail server could not be reached.",
		fixer:  fixUnknown,
		sender: "Check the address after the @ for typing mistakes. If it is right, the recipient's mail server has a problem: contact the recipient another way.",
		admin:  "There is a network or routing problem towards the recipient domain: check its MX records and whether its servers accept connections.",
	},
	"5.5": {
		title:  "The recipient's server did not understand our mail system.",
		fixer:  fixUnknown,
		sender: "Try again later. If it fails again, contact your email admin.",
		admin:  "The SMTP conversation failed with a protocol error; the diagnostic below has the reply.",
	},
	"5.6": {
		title:  "The message's content could not be delivered as it is.",
		fixer:  fixSender,
		sender: "Send the message again without unusual attachments or formatting, or as plain text.",
		admin:  "The receiving server refused the message's media or encoding.",
	},
	"5.7.1": {
		title:  "The recipient's server refused the message by its policy.",
		fixer:  fixRecipient,
		sender: "The recipient's organisation does not accept this message from you. Contact the recipient another way and ask them to allow your address.",
		admin:  "The receiving server refused the message by policy. Read the diagnostic: sender reputation, a blocklist, SPF/DKIM/DMARC or an allow-list on the recipient side are the usual causes.",
	},
	"5.7.23": {
		title:  "The message failed the sender domain's SPF check.",
		fixer:  fixYourAdmin,
		sender: "Forward this report to your email admin: your domain's settings need a change.",
		admin:  "SPF failed at the receiving server. Add this service's sending addresses to the SPF record of the sender domain.",
	},
	"5.7.26": {
		title:  "The message failed the recipient's sender authentication checks.",
		fixer:  fixYourAdmin,
		sender: "Forward this report to your email admin: your domain's settings need a change.",
		admin:  "SPF, DKIM or DMARC failed at the receiving server. Check that the sender domain's SPF record includes this service, that messages are DKIM-signed for the domain, and the DMARC policy.",
	},
	"5.7.64": {
		title:  "The mail system could not tell which organisation the message came from.",
		fixer:  fixYourAdmin,
		sender: "Forward this report to your email admin.",
		admin:  "No user login and no connector matched the connection. Check the connector's sender IP ranges or its TLS certificate name against what your server uses now.",
	},
	"5.7.705": {
		title:  "Your organisation is blocked from sending: it sent too much spam.",
		fixer:  fixYourAdmin,
		sender: "Forward this report to your email admin. Do not keep resending.",
		admin:  "Your tenant's outbound spam or bulk volume crossed the threshold, or its subscription has expired. Find the cause in the message trace (often a compromised account or server), fix it, then ask for an unblock in the console.",
	},
	"5.7.708": {
		title:  "Mail from this address is not accepted from your organisation.",
		fixer:  fixYourAdmin,
		sender: "Forward this report to your email admin.",
		admin:  "Your tenant sent from an IP address with a low reputation and holds no exception for it. Send through your usual servers, or ask the operator for an exception.",
	},
	"5.7.750": {
		title:  "Your organisation sent too much from domains it has not registered.",
		fixer:  fixYourAdmin,
		sender: "Forward this report to your email admin.",
		admin:  "Add the sender domain as an accepted domain and verify it with its DNS TXT record, or stop sending from domains you do not own.",
	},
	"5.7": {
		title:  "The message was refused for a security or policy reason.",
		fixer:  fixUnknown,
		sender: "Forward this report to your email admin; the details below say which rule refused it.",
		admin:  "A security or policy check refused the message; the diagnostic below has its reason.",
	},
	"5": {
		title:  "The message could not be delivered.",
		fixer:  fixUnknown,
		sender: "Check the recipient's address and send the message again. If it fails again, forward this report to your email admin.",
		admin:  "The message failed permanently; the diagnostic below has the receiving server's reason.",
	},
	"4.2.2": {
		title:  "The recipient's mailbox is full; the mail system is still trying.",
		fixer:  fixRecipient,
		sender: "You do not need to send the message again. If it is urgent, let the recipient know another way that their mailbox is full.",
		admin:  "The receiving server reported the mailbox over its quota, for now. Nothing needs fixing on the sending side.",
	},
	"4": {
		title:  "The message has not been delivered yet; the mail system is still trying.",
		fixer:  fixNobody,
		sender: "You do not need to send the message again: you will get another report only if it finally fails. If it is urgent, contact the recipient another way.",
		admin:  "Delivery failed temporarily. Read the diagnostic: greylisting, rate limits at the receiving side, DNS problems and connection time-outs are the usual causes.",
	},
	"2": {
		title:  "The message was delivered.",
		fixer:  fixNobody,
		sender: "Nothing to do.",
		admin:  "The message was delivered or handed on; this report was asked for with NOTIFY=SUCCESS.",
	},
}

// explain picks the explanation for one recipient. The action decides over
// the status: a message that failed after temporary errors ("failed" with a
// 4.x.x status) expired, and "delayed" is always still being tried.
func explain(rc *Recipient) (key string, e explanation) {
	code := rc.Status
	switch rc.Action {
	case "failed":
		if strings.HasPrefix(code, "4.") || strings.HasPrefix(code, "2.") {
			code = "5.4.7"
		}
	case "delayed":
		if !strings.HasPrefix(code, "4.") {
			code = "4.0.0"
		}
	default:
		code = "2.0.0"
	}
	for _, k := range []string{code, subjectOf(code), code[:1]} {
		if e, ok := explanations[k]; ok {
			return k, e
		}
	}
	return "5", explanations["5"]
}

// subjectOf is "class.subject" of a status code.
func subjectOf(code string) string {
	if i := strings.LastIndexByte(code, '.'); i > 0 {
		return code[:i]
	}
	return code
}
