package help

// The pages of the SMTP front end (attribution, sign-in, malformed input,
// size and time limits) and the fallbacks for codes that come from
// receiving servers.
func init() {
	add(Page{Code: "5.7.64", Who: TenantAdmin,
		Reply:  "550 5.7.64 Relay access denied, connection not attributed to any tenant",
		Title:  "Relay access denied: the connection belongs to no tenant",
		Cause:  "Tollgate relays mail only for its tenants. This connection neither signed in (SMTP AUTH) nor came from an address or certificate of any tenant's connector, so Tollgate refused to relay it. This is what keeps Tollgate from being an open relay.",
		Sender: "Your mail server or app is not set up to send through this gateway. " + PassOn,
		Admin: "Check how the sending server connects. On the relay port, its public IP address must be inside the IP ranges of one of your connectors, or it must present the TLS certificate your certificate connector names: tollgate admin connector list --tenant ID lists them. " +
			"If your server's address changed, create a connector for the new one (tollgate admin connector create --tenant ID --name NAME RANGE) and delete the old. " +
			"Users and apps should send on the submission port (587 or 465) and sign in with SMTP AUTH instead."})
	add(Page{Code: "5.7.57", Who: Sender,
		Reply:  "530 5.7.57 Client was not authenticated to send mail; use SMTP AUTH on this port",
		Title:  "Sign-in required on the submission port",
		Cause:  "The submission ports (587 and 465) take mail only from signed-in users. The client sent MAIL FROM without SMTP AUTH.",
		Sender: "Turn on \"my outgoing server requires authentication\" in your mail app, with your mailbox address and password (or an app password). If that does not help, send this page to your email admin.",
		Admin: "Make sure the client uses STARTTLS on port 587 (or TLS on 465) and then AUTH PLAIN or AUTH LOGIN with a user of your tenant (tollgate admin user list --tenant ID). " +
			"Devices and apps that cannot sign in with the mailbox password can use an app password (tollgate admin app-password create). Servers that cannot sign in should relay on port 25 through a connector."})
	add(Page{Code: "5.7.8", Who: Sender,
		Reply:  "535 5.7.8 Authentication failed",
		Title:  "Sign-in failed",
		Cause:  "The user name or password the mail program gave was not accepted, the user is disabled, or the app password was revoked.",
		Sender: "Check the user name (your full mailbox address) and the password in your mail app. If you changed your password recently, update it there too. If it still fails, send this page to your email admin.",
		Admin: "Check the user exists and is enabled (tollgate admin user list --tenant ID), reset the password if needed (tollgate admin user password), or give the device an app password (tollgate admin app-password create). " +
			"Repeated failures lock the account or the client's address out for a while (4.7.0)."})
	add(Page{Code: "5.5.2", Who: TenantAdmin,
		Reply:  "550 5.5.2 Message contains a bare CR or LF",
		Title:  "Malformed message: bare line endings",
		Cause:  "Every line of a message sent over SMTP must end with CR LF. This message had a lone CR or LF. Tollgate refuses such messages because they are how SMTP smuggling attacks forge a second message behind the first.",
		Sender: "The program that sent the message is broken or outdated; resending the same way will fail again. " + PassOn,
		Admin:  "Fix the sending software to end lines with CRLF (RFC 5321 section 2.3.8). Tollgate does not exempt any client from this check, just as Postfix's smtpd_forbid_bare_newline does not."})
	add(Page{Code: "5.5.1", Who: TenantAdmin,
		Reply:  "503 5.5.1 AUTH is not allowed during a mail transaction; send RSET first",
		Title:  "Sign-in in the middle of a message",
		Cause:  "The client tried to sign in (AUTH) after it had started a message (MAIL FROM). SMTP allows sign-in only between messages (RFC 4954); Tollgate enforces it so that every check on a message applies to the account that sends it.",
		Sender: "Your mail program signs in at the wrong moment; resending the same way will fail again. " + PassOn,
		Admin:  "Configure the sending software to authenticate right after STARTTLS and before MAIL FROM, as every standard client does. A client that does this on purpose is probing the gateway: check the trace for its address (tollgate admin trace --since 1h)."})
	add(Page{Code: "5.3.4", Who: Sender,
		Reply:  "552 5.3.4 Maximum message size exceeded",
		Title:  "Message too large",
		Cause:  "The message, or its header, is larger than this gateway accepts (smtp.max_message_bytes, 35 MB by default; smtp.max_header_bytes for the header).",
		Sender: "Make the message smaller: share large files with a link instead of attaching them.",
		Admin:  "The limit is smtp.max_message_bytes in Tollgate's configuration (operators). Raise it only if your recipients' servers accept larger messages too."})
	add(Page{Code: "4.7.0", Who: Retry,
		Reply:  "421 4.7.0 Too many connections / too many failed logins / too many errors",
		Title:  "Temporarily refused: too many connections, failed sign-ins or errors",
		Cause:  "The client opened more connections than allowed (from its address or its network), failed to sign in too often, had too many commands refused in one connection, or sent more feedback reports to the feedback address than feedback.reports_per_hour; Tollgate refuses it for a while, or closes the connection, to protect the service and the account.",
		Sender: "Wait a few minutes and try again. If your password was changed, update it in your mail app first. If a message had many refused recipients, remove the bad addresses before sending again.",
		Admin:  "See smtp.max_connections, smtp.max_connections_per_ip, smtp.max_connections_per_network, smtp.auth_max_failures, smtp.auth_failure_window and smtp.hard_error_limit (smtp.stress_error_limit when the gateway is under stress), and feedback.reports_per_hour. Repeated failed sign-ins for one account may mean someone is guessing its password: check the audit log (tollgate admin audit) and consider resetting it. A client cut off for too many errors shows in the trace with rule error-limit."})
	add(Page{Code: "5.1.3", Who: Sender, Reply: "501 5.1.3 Bad recipient address syntax",
		Title: "Bad recipient address", Cause: "The recipient address is not a valid local@domain address (RFC 5321), or its local part holds a character no address can carry, such as a control character.",
		Sender: "Check the recipient's address for typos.",
		Admin: "Tollgate accepts only local@domain recipients with a valid domain or address literal ([192.0.2.1], [IPv6:2001:db8::1]). A local part with spaces or other special characters must be sent in double quotes, as RFC 5321 section 4.1.2 says; Tollgate keeps the quotes when it passes the address on. " +
			"Control characters (including NUL, CR and LF) cannot be written in any form and are refused. In a delivery report, 5.1.3 can also mean an address spooled by an older version could not be written to the next hop safely."})
	add(Page{Code: "5.1.2", Who: Sender, Reply: "550 5.1.2 Destination address not allowed: internal or reserved network",
		Title: "The recipient's domain cannot receive mail from here",
		Cause: "The recipient's address names no system Tollgate may deliver to: its domain does not exist, or the address itself " +
			"(an address literal such as [127.0.0.1]) or the domain's mail servers (its MX or A records) are in an internal or reserved " +
			"network: loopback, private (RFC 1918, fc00::/7), link-local, shared (CGNAT), cloud metadata, documentation, benchmarking or multicast. " +
			"Tollgate never connects to such addresses, so no connection was made.",
		Sender: "Check the recipient's address for typos. If it is right, the recipient's domain points its mail at servers that cannot be " +
			"reached from the internet: ask the recipient to fix the domain's MX records, or reach them another way.",
		Admin: "The delivery report's X-Tollgate-Reason and the message trace name the host, the address that was refused and its range. " +
			"Tollgate refuses these next hops so that nobody can use the gateway to reach the operator's internal network. " +
			"Operators who deliver to internal hosts on purpose list them in delivery.allowed_internal_next_hops (CIDRs); " +
			"the smarthost (delivery.smarthost) is always allowed."})
	add(Page{Code: "5.1.7", Who: Sender, Reply: "553 5.1.7 Bad sender address syntax",
		Title: "Bad sender address", Cause: "The envelope sender is not a valid local@domain address (RFC 5321), or its local part holds a character no address can carry, such as a control character.",
		Sender: "Check the address your mail app sends from.",
		Admin:  "Fix the sending application's envelope sender (MAIL FROM). A local part with spaces or other special characters must be in double quotes (RFC 5321 section 4.1.2); control characters are refused in any form."})
	add(Page{Code: "5.6.7", Who: Sender, Reply: "553 5.6.7 Non-ASCII address needs SMTPUTF8 on MAIL FROM",
		Title:  "International address without SMTPUTF8",
		Cause:  "An envelope address has non-ASCII characters, but the client did not announce SMTPUTF8 on MAIL FROM (RFC 6531). Tollgate would have to pass it on to a next hop that is not told to expect it. In a delivery report, 5.6.7 means the receiving server does not support SMTPUTF8, which the message needs.",
		Sender: "Use an ASCII address, or a mail program that supports international addresses. If the report came after the message was accepted, the recipient's server cannot take international addresses: use an ASCII address for them.",
		Admin:  "Configure the sending software to use SMTPUTF8 (it is offered in EHLO) when an address is not ASCII."})
	add(Page{Code: "5.6.0", Who: TenantAdmin, Reply: "550 5.6.0 Message contains a NUL byte, which RFC 5322 forbids; not accepted",
		Title:  "Malformed message: NUL byte",
		Cause:  "The message had a NUL byte (a zero byte) in its header or body. RFC 5322 forbids them in mail, and receiving servers handle them differently (some cut the message short there), so Tollgate refuses the message rather than pass it on. Nothing of it was kept.",
		Sender: "The program that sent the message is broken or sends a file without encoding it; resending the same way will fail again. " + PassOn,
		Admin:  "Fix the sending software: binary content must be sent as a MIME attachment encoded with base64. Tollgate does not offer BINARYMIME, so no client may send raw binary data."})
	add(Page{Code: "4.4.2", Who: Retry, Reply: "421 4.4.2 Timeout",
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
