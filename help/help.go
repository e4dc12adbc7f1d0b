// Package help holds the explanation of every status code Tollgate gives:
// what happened, what the sender can do, and what their admin must fix. The
// admin port serves them as pages at /ndr/<code>, and SMTP replies link there.
package help

import "strings"

// Page explains one code.
type Page struct {
	Code   string // enhanced status code, e.g. "5.7.64"
	Reply  string // the SMTP reply as Tollgate sends it
	Title  string
	Cause  string // what happened, in plain words
	Sender string // for the person who sent the message
	Admin  string // for their email admin
}

var pages = map[string]Page{}

func add(p Page) { pages[p.Code] = p }

// Lookup returns the page for code ("5.7.64"), falling back to the class and
// subject ("5.7.x") and then to the class ("5.x.x").
func Lookup(code string) (Page, bool) {
	if p, ok := pages[code]; ok {
		return p, true
	}
	parts := strings.Split(code, ".")
	if len(parts) == 3 {
		if p, ok := pages[parts[0]+"."+parts[1]+".x"]; ok {
			return p, true
		}
		if p, ok := pages[parts[0]+".x.x"]; ok {
			return p, true
		}
	}
	return Page{}, false
}

// Codes lists the specific codes with pages.
func Codes() []string {
	var out []string
	for c := range pages {
		if !strings.Contains(c, "x") {
			out = append(out, c)
		}
	}
	return out
}

func init() {
	add(Page{Code: "5.7.64", Reply: "550 5.7.64 Relay access denied, connection not attributed to any tenant",
		Title:  "Relay access denied: the connection belongs to no tenant",
		Cause:  "Tollgate relays mail only for its tenants. This connection neither signed in (SMTP AUTH) nor came from an address or certificate of any tenant's connector, so Tollgate refused to relay it. This is what keeps Tollgate from being an open relay.",
		Sender: "Your mail server or app is not set up to send through this gateway. Only your email admin can fix this: send them this page.",
		Admin:  "Check how the sending server connects. On the relay port, its public IP address must be inside the IP ranges of one of your connectors (or it must present the TLS certificate your certificate connector names); if your server's address changed, update the connector. Users and apps should send on the submission port (587 or 465) and sign in with SMTP AUTH."})
	add(Page{Code: "4.7.711", Reply: "451 4.7.711 Connector on probation has reached its daily quota; an admin must confirm it",
		Title:  "New connector on probation",
		Cause:  "This mail came through a connector that was created recently and not yet confirmed by an admin. Until it is, it may relay only a small number of messages a day (policy.connector_probation_quota). This stops someone who stole an admin password from opening a spam channel with a new connector.",
		Sender: "Nothing is lost: your server keeps the mail and retries. Ask your email admin to confirm the connector.",
		Admin:  "If you created this connector, confirm it: sign in and confirm it with a fresh code from your authenticator (POST /api/v1/tenants/{tenant}/connectors/{id}/confirm, or the admin center). If you did not create it, delete it at once, change your admin passwords and check the audit log for who created it."})
	add(Page{Code: "5.7.57", Reply: "530 5.7.57 Client was not authenticated to send mail",
		Title:  "Sign-in required on the submission port",
		Cause:  "The submission ports (587 and 465) take mail only from signed-in users. The client sent MAIL FROM without SMTP AUTH.",
		Sender: "Turn on \"my outgoing server requires authentication\" in your mail app, with your mailbox address and password (or an app password).",
		Admin:  "Make sure the client uses STARTTLS on port 587 (or TLS on 465) and then AUTH PLAIN or AUTH LOGIN with a user of your tenant. Servers that cannot sign in should relay on port 25 through a connector."})
	add(Page{Code: "5.5.2", Reply: "550 5.5.2 Message contains a bare CR or LF",
		Title:  "Malformed message: bare line endings",
		Cause:  "Every line of a message sent over SMTP must end with CR LF. This message had a lone CR or LF. Tollgate refuses such messages because they are how SMTP smuggling attacks forge a second message behind the first.",
		Sender: "The program that sent the message is broken or outdated. Ask your email admin to fix it; resending the same way will fail again.",
		Admin:  "Fix the sending software to end lines with CRLF (RFC 5321 section 2.3.8). Tollgate does not exempt any client from this check, just as Postfix's smtpd_forbid_bare_newline does not."})
	add(Page{Code: "5.3.4", Reply: "552 5.3.4 Maximum message size exceeded",
		Title:  "Message too large",
		Cause:  "The message, or its header, is larger than this gateway accepts (smtp.max_message_bytes, 35 MB by default; smtp.max_header_bytes for the header).",
		Sender: "Make the message smaller: share large files with a link instead of attaching them.",
		Admin:  "The limit is smtp.max_message_bytes in Tollgate's configuration. Raise it only if your recipients' servers accept larger messages too."})
	add(Page{Code: "4.5.3", Reply: "452 4.5.3 Maximum limit of 500 recipients reached",
		Title:  "Too many recipients in one message",
		Cause:  "A message may have at most smtp.max_recipients recipients (500 by default). The client may send the rest in another transaction.",
		Sender: "Split the recipient list, or use a distribution list.",
		Admin:  "Well-behaved clients send the remaining recipients in a new transaction on their own. The limit is smtp.max_recipients (1 to 1000)."})
	add(Page{Code: "4.7.0", Reply: "421 4.7.0 Too many connections / too many failed logins",
		Title:  "Temporarily refused: too many connections or failed sign-ins",
		Cause:  "The client opened more connections than allowed, or failed to sign in too often; Tollgate refuses it for a while to protect the service and the account.",
		Sender: "Wait a few minutes and try again. If your password was changed, update it in your mail app first.",
		Admin:  "See smtp.max_connections, smtp.max_connections_per_ip, smtp.auth_max_failures and smtp.auth_failure_window. Repeated failed sign-ins for one account may mean someone is guessing its password: check the sign-in log."})
	add(Page{Code: "5.1.3", Reply: "501 5.1.3 Bad recipient address syntax",
		Title: "Bad recipient address", Cause: "The recipient address is not a valid local@domain address.",
		Sender: "Check the recipient's address for typos.", Admin: "Tollgate accepts only local@domain recipients with a valid domain or address literal."})
	add(Page{Code: "5.1.7", Reply: "553 5.1.7 Bad sender address syntax",
		Title: "Bad sender address", Cause: "The envelope sender is not a valid local@domain address.",
		Sender: "Check the address your mail app sends from.", Admin: "Fix the sending application's envelope sender (MAIL FROM)."})
	add(Page{Code: "4.3.0", Reply: "451 4.3.0 Local error while queueing",
		Title: "Temporary local error", Cause: "Tollgate could not write the message to its spool (disk full or failing).",
		Sender: "Nothing to do: your mail program retries by itself.", Admin: "Operators: check the spool disk (queue.dir) and Tollgate's log."})
	add(Page{Code: "4.4.2", Reply: "421 4.4.2 Timeout",
		Title: "Connection too slow", Cause: "The client sent data too slowly (smtp.min_data_rate) or went idle (smtp.command_timeout, smtp.data_timeout).",
		Sender: "Try again; if it keeps happening, your connection is too slow or unstable.", Admin: "Check the network path of the sending server."})
	add(Page{Code: "5.1.x", Title: "The recipient's address was not accepted",
		Cause:  "The receiving server said the address does not exist or cannot receive mail.",
		Sender: "Check the address for typos, or ask the recipient for a correct one.",
		Admin:  "The remote server's reply in the delivery report says exactly why."})
	add(Page{Code: "5.4.x", Title: "The message could not be delivered in time",
		Cause:  "The recipient's servers could not be reached, or kept answering with temporary errors, until the message expired (queue.max_age).",
		Sender: "Try again later, or reach the recipient another way.",
		Admin:  "The last error in the delivery report tells why the receiving side could not be reached."})
	add(Page{Code: "5.x.x", Title: "Delivery failed",
		Cause:  "The message could not be delivered.",
		Sender: "Read the reason in the delivery report; your email admin can help.",
		Admin:  "The enhanced status code and the remote server's reply say why."})
	add(Page{Code: "4.x.x", Title: "Temporarily refused",
		Cause:  "The message was refused for now.",
		Sender: "Your mail program retries by itself.",
		Admin:  "The reply text says what to wait for."})
}
