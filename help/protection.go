package help

// The pages of the outbound protection: tenant blocks, IP reputation,
// unregistered domains, restricted senders and connectors, and the sending
// limits. The codes and reply texts are those of the checks in protect/,
// policy/ and reputation/ (a test keeps them in step); the CLI commands
// named here are `tollgate admin` commands, each a thin client of the API.
func init() {
	add(Page{Code: "5.7.705", Who: TenantAdmin,
		Reply: "550 5.7.705 Access denied, tenant has exceeded threshold",
		Title: "Your organisation is blocked from sending",
		Cause: "Tollgate refuses all outbound mail of your organisation (tenant), for one of two reasons. " +
			"(1) Threshold: within a short window, the tenant sent many messages that Tollgate's content check judged spam, they were a large share of everything it sent, " +
			"and the other evidence agreed: they went mostly to recipients the organisation had never written to, or far from its usual mail, or the receiving servers refused or complained about its mail " +
			"(or the receiving servers' bounces and complaints alone reached the pause rate: rule tenant-feedback). " +
			"That almost always means an account, an app password or a mail server of the organisation is in someone else's hands. The block stays until an operator lifts it. " +
			"(2) Subscription expired: the reply then ends in \"(subscription expired)\". Mail flows again the moment the subscription is renewed.",
		Sender: PassOn + " Nothing you change on your side will get this message through; every user of your organisation gets the same answer until the block is lifted.",
		Admin: "First see which reason applies: tollgate admin status TENANT (or the Protection page of the console) shows the state, the reason and, for a threshold block, its evidence: " +
			"the window's figures, the evidence beyond the verdicts (recipient novelty, baseline, campaign spread, delivery feedback) with its figures, the top senders and connectors, connectors created or deleted shortly before, and sample messages. " +
			"Threshold block: 1) find the hole: a sender or connector that stands out in the evidence, a connector nobody here created, an admin or user who signed in from somewhere unusual (tollgate admin audit). " +
			"2) Close it: reset the passwords of the accounts involved (tollgate admin user password), revoke their app passwords (app-password-revoke), delete connectors you do not recognise (connector-delete), change every admin's password and turn MFA on for all of them. " +
			"3) Ask for the unblock: tollgate admin unblock-request create TENANT --cause \"what happened\" --fix \"what you changed\" (or POST /api/v1/tenants/{tenant}/unblock-requests). " +
			"An operator reviews it beside the evidence and a checklist Tollgate computes (new connectors since the block, admin passwords changed after it, MFA on for every admin), then approves or denies it; follow it with tollgate admin status. " +
			"4) After approval the tenant sends on probation: a small daily quota (451 4.7.500 beyond it) that doubles with every clean day. " +
			"Expired subscription: renew it with your provider; operators set it with tollgate admin tenant licence --tenant ID --license licensed, and mail flows at once on every node."})

	add(Page{Code: "5.7.708", Who: Operator,
		Reply: "550 5.7.708 Access denied, traffic not accepted from this IP",
		Title: "Mail not accepted from this IP address",
		Cause: "Your organisation is on a trial (it has no purchased licences), and this message came from an IP address with a low reputation here: " +
			"one Tollgate has never seen or seen only briefly, one that sent a high share of spam, one on the operator's deny list, or one listed on a DNS blocklist the operator consults. " +
			"Trial organisations may send only from addresses with a good record, so that a free sign-up cannot be used to spray spam.",
		Sender: PassOn,
		Admin: "The refusal's figures (in the message trace) name the IP and why its reputation is low (level new, unknown, poor or listed; first seen; messages; spam ratio; the list or blocklist). " +
			"Ways out: 1) send from the addresses you normally use: a server that moved to a new address starts with no reputation. " +
			"2) If the address is yours and legitimate, ask your provider's operators for an exception for your tenant and that IP or range; exceptions carry an expiry and stop applying by themselves. " +
			"3) Buy licences: licensed organisations are not held to this check. " +
			"If the address is on a public blocklist, find out why (a compromised machine behind it is the usual cause) and have it delisted; Tollgate sees the change at the next lookup."})

	add(Page{Code: "5.7.750", Who: TenantAdmin,
		Reply: "550 5.7.750 Client blocked from sending from unregistered domain",
		Title: "Too much mail from domains your organisation has not registered",
		Cause: "The envelope sender or the From header of this message is not in one of your organisation's verified accepted domains. " +
			"A small daily allowance of such mail is allowed (forwarding, a partner's newsletter); your organisation has used it up for the last 24 hours. " +
			"Sending as domains you do not own is how spam and phishing hide, so it is held to an allowance.",
		Sender: PassOn + " Meanwhile, mail sent from your own organisation's address still goes through.",
		Admin: "1) Make sure each domain you send from is an accepted domain and verified: tollgate admin domain list --tenant ID lists them with the TXT record each needs; " +
			"tollgate admin domain add --tenant ID DOMAIN adds one, and tollgate admin domain verify --tenant ID DOMAIN looks its record up and says what it found. " +
			"2) A mail server of yours that relays for customers' or partners' domains should use a certificate connector whose certificate names one of your verified domains: such mail is not counted (tollgate admin connector create --cert-domain). " +
			"3) If none of this applies, find the sender in the message trace: mail from domains you do not know is a sign of a compromised account or server. " +
			"Operators can change the allowance (policy.unregistered_per_day, or per tenant: tollgate admin policy set TENANT unregistered_per_day=N)."})

	add(Page{Code: "5.7.751", Who: TenantAdmin,
		Reply: "550 5.7.751 Access denied, sender domain belongs to another tenant",
		Title: "The sender's domain belongs to another organisation",
		Cause: "The envelope sender, or an address in the From, Sender, Resent-From or Resent-Sender field, is in a domain (or a subdomain of a domain) that another organisation using this service has verified as its own. " +
			"Only the organisation that verified a domain may send as it here, however the mail arrives (a user's login, an app password, an IP or certificate connector), and there is no allowance for it: " +
			"receivers would take such mail for the owner's, which is how phishing works.",
		Sender: PassOn + " If you meant to send as your own address, check the From address your mail program uses and send again.",
		Admin: "The refusal's figures (in the message trace: tollgate admin trace) name the sender, where it was found (envelope, header From, Sender, Resent-From or Resent-Sender) and the verified domain it matched; they never name the other organisation. " +
			"1) If the address is not yours, find who sends as it: a user or a server of yours sending as someone else's domain is a misconfiguration or a compromise (tollgate admin user list, tollgate admin connector list). " +
			"2) If you relay for a customer or partner that is itself a tenant of this service, it must send through its own tenant. " +
			"3) If the domain is really yours (it moved to you, or a former supplier verified it), ask your provider's operators: a domain is verified for one organisation only, and they can find who holds it and release it; then add and verify it yourself (tollgate admin domain add, tollgate admin domain verify)."})

	add(Page{Code: "5.7.60", Who: TenantAdmin,
		Reply: "550 5.7.60 Client does not have permissions to send as this sender",
		Title: "This login may not send as that address",
		Cause: "Your organisation ties each login to its own address: a user signed in with SMTP AUTH may send only as its login address and the aliases an admin gave it, in the envelope sender and in the From, Sender, Resent-From and Resent-Sender fields. " +
			"This message named another address (the refusal's figures say which, and where).",
		Sender: "Send from your own address (the one you sign in with). If you need to send as another address, such as a shared mailbox, " + PassOn,
		Admin: "1) See which address was refused and for which login: the message trace (tollgate admin trace) shows the figures (user, sender, checked). " +
			"2) If the user should send as that address, give it as an alias: tollgate admin alias add --tenant ID --user USER_ID ADDRESS (the address must be in one of your verified domains; tollgate admin alias list lists them and alias-remove takes one away). " +
			"3) If nobody should, the login may be in someone else's hands: reset its password (tollgate admin user password) and revoke its app passwords. " +
			"The binding is your organisation's choice: tollgate admin tenant sender-binding --tenant ID off turns it off, login turns it on."})

	add(Page{Code: "5.1.8", Who: TenantAdmin,
		Reply: "550 5.1.8 Access denied, bad outbound sender",
		Title: "This sender is restricted from sending",
		Cause: "Tollgate stopped this sender (a user, one of its app passwords, or a sender address on your mail server) because it crossed your organisation's outbound spam policy: " +
			"too many external or internal recipients in an hour, too many recipients in a day, or too many messages judged spam. " +
			"Only this sender is stopped; the rest of your organisation keeps sending.",
		Sender: PassOn + " Sending again or from another device will not help; if you did not send a lot of mail recently, tell your admin that too: someone may be using your account.",
		Admin: "1) See the restriction and the figures that caused it: tollgate admin restriction list TENANT (or the console's Restrictions page, or GET /api/v1/tenants/{tenant}/restrictions). " +
			"2) If the user did not send that mail, the account is compromised: reset its password (tollgate admin user password), revoke its app passwords (app-password-revoke), check its mail rules and sign-ins. " +
			"3) Release it: tollgate admin restriction release TENANT RESTRICTION_ID. The release applies at once on every node (the hosted service this models takes up to a day). " +
			"By default a restriction also ends by itself at the next midnight UTC; if your policy's restrict_action is \"restrict\" it lasts until released. " +
			"The limits are per tenant settings (tollgate admin policy show TENANT shows them: user_external_per_hour, user_internal_per_hour, user_daily_recipients, user_spam_per_hour, restrict_action)."})

	add(Page{Code: "5.7.711", Who: TenantAdmin,
		Reply: "550 5.7.711 Access denied, bad inbound connector",
		Title: "This connector is restricted from sending",
		Cause: "Mail from your mail server arrives through a connector, and Tollgate stopped that connector because the mail it relayed crossed the spam limit (policy.user_spam_per_hour). " +
			"Only this connector is stopped: your users and other connectors keep sending.",
		Sender: PassOn,
		Admin: "A connector that relays spam usually means the server behind it is compromised, or relays for someone it should not (an open relay, a hacked web form or script). " +
			"1) See the restriction and its figures: tollgate admin restriction list TENANT. " +
			"2) Check the server: its queue and logs, accounts and scripts that send through it, whether it accepts mail from the internet and relays it. " +
			"3) If you do not recognise the connector at all, delete it (tollgate admin connector delete --tenant ID CONNECTOR_ID), change every admin's password and read the audit log for who created it. " +
			"4) Once the server is clean: tollgate admin restriction release TENANT RESTRICTION_ID. Not to be confused with 4.7.711, a new connector on probation."})

	add(Page{Code: "5.1.90", Who: TenantAdmin,
		Reply: "550 5.1.90 Sender has reached its daily limit for message recipients",
		Title: "Daily recipient limit reached",
		Cause: "A sender may send to at most policy.user_recipients_per_day recipients (10,000 by default) in any 24 hours; this sender reached it. " +
			"The count is rolling: capacity comes back as the recipients of 24 hours ago age out.",
		Sender: "Wait, and try again in a few hours. For mailings to many people, ask your email admin about a bulk-mail service: an individual mailbox is not meant for it. If you did not send much mail today, " + PassOn,
		Admin: "1) Check that the volume is real: the message trace shows what the sender sent. A mailbox that suddenly sends to thousands is usually compromised: reset the password and revoke app passwords. " +
			"2) For legitimate mass mail, use a service built for it rather than raising the limit. " +
			"3) Operators can raise it for a tenant: tollgate admin policy set TENANT user_recipients_per_day=N."})

	add(Page{Code: "5.7.233", Who: TenantAdmin,
		Reply:  "550 5.7.233 Tenant has exceeded its external recipient rate limit",
		Title:  "Organisation's external recipient limit reached",
		Cause:  "Your whole organisation may send to at most so many recipients outside it in any 24 hours: 500 × licences^0.7 + 9500 by default (about 10,300 with 10 licences, 13,000 with 100). It reached that.",
		Sender: PassOn + " Mail to colleagues inside your organisation still goes through.",
		Admin: "1) See who sent the volume (tollgate admin status TENANT for today's figures, the message trace for senders); an unexpected surge means a compromised account or server: see 5.1.8 and 5.7.705 for what to do. " +
			"2) The limit grows with your licences: buying more raises it. " +
			"3) Operators can set it per tenant: tollgate admin policy set TENANT tenant_external_per_day=N (0 returns to the formula). Capacity comes back as the last 24 hours' recipients age out."})

	add(Page{Code: "4.7.500", Who: Retry,
		Reply: "451 4.7.500 Sending rate exceeded: too many messages a minute from this sender; try again later",
		Title: "Sending too fast: try again later",
		Cause: "A temporary refusal, for one of two reasons: the sender sent more than policy.user_messages_per_minute messages in a minute (30 by default), " +
			"or the organisation was recently released from a block and is on probation with a daily quota it has reached for now (the reply then says \"on probation\").",
		Sender: "Nothing is lost: your mail program keeps the message and sends it again in a few minutes. If you send many messages in a row, slow down.",
		Admin: "Rate: a program sending in bursts will get through at the allowed pace; a mailbox that sends dozens of messages a minute unexpectedly may be compromised. Operators set the rate per tenant with tollgate admin policy set TENANT user_messages_per_minute=N. " +
			"Probation: tollgate admin status TENANT shows the quota; it doubles with every clean day until the probation ends. Spam during probation keeps it small."})

	add(Page{Code: "4.5.3", Who: Retry,
		Reply:  "452 4.5.3 Too many recipients for one message",
		Title:  "Too many recipients in one message",
		Cause:  "A message may have at most policy.recipients_per_message recipients (500 by default; the listener's smtp.max_recipients is a second ceiling). The recipients beyond it were refused for now. On the relay port, a transaction to the feedback address (feedback.address) carries that recipient alone, so a tenant's server mixing it with others is told the same.",
		Sender: "Most mail programs send the rest in another message by themselves. If yours does not, split the recipient list, or use a distribution list.",
		Admin:  "Well-behaved clients send the remaining recipients in a new transaction. Operators can change the limit per tenant (tollgate admin policy set TENANT recipients_per_message=N, 1 to 1000) or globally (smtp.max_recipients)."})

	add(Page{Code: "4.3.0", Who: Retry,
		Reply: "451 4.3.0 Temporary policy failure: sending limits cannot be checked right now; try again later",
		Title: "Temporary local error",
		Cause: "Tollgate could not finish the message for now: it could not write it to its spool (disk full or failing), or it could not read its sending-limit counters (the shared Redis unreachable). " +
			"It refuses with a temporary error rather than accept mail it cannot keep or check, so nothing is lost and no limit is skipped.",
		Sender: "Nothing to do: your mail program sends it again by itself.",
		Admin:  "Tenant admins: nothing to change on your side; if it lasts, tell your provider. Operators: check the spool disk (queue.dir), the Redis server in counters.redis_url, and Tollgate's log (\"counter unavailable\" or queue errors)."})

	add(Page{Code: "4.7.711", Who: TenantAdmin,
		Reply: "451 4.7.711 Connector on probation has reached its daily quota; an admin must confirm it",
		Title: "New connector on probation",
		Cause: "This mail came through a connector that was created recently and not yet confirmed by an admin. Until it is, it may relay only a small number of messages a day (policy.connector_probation_quota). " +
			"This stops someone who stole an admin password from opening a spam channel with a new connector.",
		Sender: "Nothing is lost: your server keeps the mail and retries. " + PassOn,
		Admin: "If you created this connector, confirm it with a fresh code from your authenticator: tollgate admin connector confirm --tenant ID --code CODE CONNECTOR_ID (with your signed-in admin session token), " +
			"or POST /api/v1/tenants/{tenant}/connectors/{id}/confirm, or the console. The held mail then flows at the server's next retry. " +
			"If you did not create it, delete it at once (tollgate admin connector delete), change your admin passwords and read the audit log (tollgate admin audit --action connector.create) for who created it."})
}
