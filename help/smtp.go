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
		Admin: "Check how the sending server connects. On the relay port, its public IP address must be inside the IP ranges of one of your connectors, or it must present the TLS certificate your certificate connector names: tollgate admin connectors --tenant ID lists them. " +
			"If your server's address changed, create a connector for the new one (tollgate admin connector-create --tenant ID --name NAME RANGE) and delete the old. " +
			"Users and apps should send on the submission port (587 or 465) and sign in with SMTP AUTH instead."})
	add(Page{Code: "5.7.57", Who: Sender,
		Reply:  "530 5.7.57 Client was not authenticated to send mail; use SMTP AUTH on this port",
		Title:  "Sign-in required on the submission port",
		Cause:  "The submission ports (587 and 465) take mail only from signed-in users. The client sent MAIL FROM without SMTP AUTH.",
		Sender: "Turn on \"my outgoing server requires authentication\" in your mail app, with your mailbox address and password (or an app password). If that does not help, send this page to your email admin.",
		Admin: "Make sure the client uses STARTTLS on port 587 (or TLS on 465) and then AUTH PLAIN or AUTH LOGIN with a user of your tenant (tollgate admin users --tenant ID). " +
			"Devices and apps that cannot sign in with the mailbox password can use an app password (tollgate admin app-password-create). Servers that cannot sign in should relay on port 25 through a connector."})
	add(Page{Code: "5.7.8", Who: Sender,
		Reply:  "535 5.7.8 Authentication failed",
		Title:  "Sign-in failed",
		Cause:  "The user name or password the mail program gave was not accepted, the user is disabled, or the app password was revoked.",
		Sender: "Check the user name (your full mailbox address) and the password in your mail app. If you changed your password recently, update it there too. If it still fails, send this page to your email admin.",
		Admin: "Check the user exists and is enabled (tollgate admin users --tenant ID), reset the password if needed (tollgate admin user-password), or give the device an app password (tollgate admin app-password-create). " +
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
		Cause:  "The client opened more connections than allowed (from its address or its network), failed to sign in too often, or had too many commands refused in one connection; Tollgate refuses it for a while, or closes the connection, to protect the service and the account.",
		Sender: "Wait a few minutes and try again. If your password was changed, update it in your mail app first. If a message had many refused recipients, remove the bad addresses before sending again.",
		Admin:  "See smtp.max_connections, smtp.max_connections_per_ip, smtp.max_connections_per_network, smtp.auth_max_failures, smtp.auth_failure_window and smtp.hard_error_limit (smtp.stress_error_limit when the gateway is under stress). Repeated failed sign-ins for one account may mean someone is guessing its password: check the audit log (tollgate admin audit) and consider resetting it. A client cut off for too many errors shows in the trace with rule error-limit."})
	add(Page{Code: "5.1.3", Who: Sender, Reply: "501 5.1.3 Bad recipient address syntax",
		Title: "Bad recipient address", Cause: "The recipient address is not a valid local@domain address.",
		Sender: "Check the recipient's address for typos.", Admin: "Tollgate accepts only local@domain recipients with a valid domain or address literal."})
	add(Page{Code: "5.1.7", Who: Sender, Reply: "553 5.1.7 Bad sender address syntax",
		Title: "Bad sender address", Cause: "The envelope sender is not a valid local@domain address.",
		Sender: "Check the address your mail app sends from.", Admin: "Fix the sending application's envelope sender (MAIL FROM)."})
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
