package feedback

import (
	"strings"
	"testing"
)

// TestClassifyCommonReplies is a table of replies as the common mailbox
// providers and MTAs send them (texts as published in their help pages and
// seen in bounce logs; IPs and addresses made up).
func TestClassifyCommonReplies(t *testing.T) {
	cases := []struct {
		who  string
		r    Reply
		want Class
	}{
		// Delivered.
		{"gmail ok", Reply{250, "2.0.0", "OK  1700000000 a1-20020a17090a000000b00000000000si123456pjb.12 - gsmtp"}, Delivered},
		{"postfix queued", Reply{250, "2.0.0", "Ok: queued as 4Q1x2y3z4"}, Delivered},
		{"exim ok", Reply{250, "", "OK id=1rAbCd-0001Xy-2Z"}, Delivered},

		// Hard bounces.
		{"gmail unknown user", Reply{550, "5.1.1", "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp"}, HardBounce},
		{"microsoft unknown", Reply{550, "5.5.0", "Requested action not taken: mailbox unavailable (S2017062302). [AM0PR00MB0000.eurprd00.prod.outlook.com]"}, HardBounce},
		{"microsoft recipient not found", Reply{550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"}, HardBounce},
		{"microsoft dbeb", Reply{550, "5.4.1", "Recipient address rejected: Access denied. For more information see https://aka.ms/EXOSmtpErrors [DB5PEPF00000000.eurprd00.prod.outlook.com]"}, HardBounce},
		{"yahoo no account", Reply{554, "", "delivery error: dd This user doesn't have a yahoo.com account (someone@yahoo.com) [0] - mta1234.mail.ne1.yahoo.com"}, HardBounce},
		{"yahoo mailbox disabled", Reply{554, "", "30 Sorry, your message to someone@yahoo.com cannot be delivered. This mailbox is disabled (554.30)."}, HardBounce},
		{"yahoo not found", Reply{552, "", "1 Requested mail action aborted, mailbox not found"}, HardBounce},
		{"apple unknown", Reply{550, "5.1.1", "<someone@icloud.com>: user does not exist"}, HardBounce},
		{"proofpoint unknown", Reply{550, "5.1.1", "User Unknown"}, HardBounce},
		{"mimecast invalid", Reply{550, "", "Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550 [aBcDeFgHiJkLmNoPqRsT.uk12]"}, HardBounce},
		{"postfix virtual", Reply{550, "5.1.1", "<someone@example.org>: Recipient address rejected: User unknown in virtual mailbox table"}, HardBounce},
		{"postfix local", Reply{550, "5.1.1", "<nobody@example.org>: Recipient address rejected: User unknown in local recipient table"}, HardBounce},
		{"exim unrouteable", Reply{550, "", "Unrouteable address"}, HardBounce},
		{"exim no such user", Reply{550, "", "No Such User Here"}, HardBounce},
		{"disabled 5.2.1", Reply{550, "5.2.1", "The email account that you tried to reach is disabled. https://support.google.com/mail/?p=DisabledUser - gsmtp"}, HardBounce},
		{"no such domain (local)", Reply{0, "5.1.2", "domain example.invalid does not exist (no MX, A or AAAA record)"}, HardBounce},
		{"null MX (local)", Reply{0, "5.1.10", "domain example.net accepts no mail (null MX, RFC 7505)"}, HardBounce},

		// Spam and policy refusals.
		{"gmail unsolicited", Reply{550, "5.7.1", "[192.0.2.10      12] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. For more information, go to https://support.google.com/mail/?p=UnsolicitedMessageError a1si12 - gsmtp"}, SpamRefusal},
		{"gmail dmarc", Reply{550, "5.7.26", "Unauthenticated email from example.com is not accepted due to domain's DMARC policy. Please contact the administrator of example.com domain if this was a legitimate mail. To learn about the DMARC initiative, go to https://support.google.com/mail/?p=DmarcRejection a1si12 - gsmtp"}, SpamRefusal},
		{"gmail low reputation 4xx", Reply{421, "4.7.0", "[192.0.2.10] Our system has detected that this message is suspicious due to the very low reputation of the sending IP address. To protect our users from spam, mail sent from your IP address has been temporarily rejected. - gsmtp"}, SpamRefusal},
		{"gmail 5.7.28", Reply{550, "5.7.28", "[192.0.2.10] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been blocked. - gsmtp"}, SpamRefusal},
		{"microsoft S3150", Reply{550, "5.7.1", "Unfortunately, messages from [192.0.2.10] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [DB5EUR00FT000.eop-eur00.prod.protection.outlook.com]"}, SpamRefusal},
		{"microsoft banned ip", Reply{550, "5.7.606", "Access denied, banned sending IP [192.0.2.10]. To request removal from this list please visit https://sender.office.com/ and follow the directions."}, SpamRefusal},
		{"microsoft 5.7.649", Reply{550, "5.7.649", "Access denied, banned sending IP [192.0.2.10]"}, SpamRefusal},
		{"microsoft spam", Reply{550, "5.7.350", "Remote server returned message detected as spam -> 554 5.7.1 The message from (<a@example.com>) with the subject of (hi) matches a profile the Internet community may consider spam."}, SpamRefusal},
		{"yahoo policy", Reply{554, "5.7.9", "Message not accepted for policy reasons.  See https://help.yahoo.com/kb/postmaster/SLN7253.html"}, SpamRefusal},
		{"yahoo TSS04", Reply{421, "4.7.0", "[TSS04] Messages from 192.0.2.10 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"}, SpamRefusal},
		{"apple dmarc", Reply{550, "5.7.1", "Your message was rejected due to icloud.com's DMARC policy. See https://support.apple.com/en-us/HT204137 for more information."}, SpamRefusal},
		{"apple CS01", Reply{554, "5.7.1", "[CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137"}, SpamRefusal},
		{"proofpoint blocked", Reply{554, "5.7.0", "Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.10"}, SpamRefusal},
		{"mimecast policy", Reply{554, "", "Email rejected due to security policies - https://community.mimecast.com/docs/DOC-1369#554 [aBcDeF.uk12]"}, SpamRefusal},
		{"mimecast anti-spoofing", Reply{550, "", "Rejected by header based Anti-Spoofing policy: a@example.com - https://community.mimecast.com/docs/DOC-1369#550 [aBc.uk12]"}, SpamRefusal},
		{"postfix spamhaus", Reply{554, "5.7.1", "Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.10"}, SpamRefusal},
		{"exim black list", Reply{550, "", "rejected because 192.0.2.10 is in a black list at zen.spamhaus.org"}, SpamRefusal},
		{"exim administrative prohibition", Reply{550, "", "Administrative prohibition"}, SpamRefusal},
		{"barracuda", Reply{554, "", "Service unavailable; Client host [192.0.2.10] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.10"}, SpamRefusal},
		{"spf fail", Reply{550, "5.7.23", "The message was rejected because of Sender Policy Framework violation"}, SpamRefusal},
		{"plain 5.7.1", Reply{550, "5.7.1", "Message rejected"}, SpamRefusal},
		{"spam in 5.0.0", Reply{550, "5.0.0", "Message rejected as spam by Content Filtering"}, SpamRefusal},

		// Rate limits (deferrals).
		{"gmail 4.7.28", Reply{421, "4.7.28", "[192.0.2.10] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. Please visit https://support.google.com/mail/?p=UnsolicitedRateLimitError - gsmtp"}, RateLimited},
		{"gmail try again later", Reply{421, "4.7.0", "Try again later, closing connection. (EHLO) a1si12 - gsmtp"}, RateLimited},
		{"microsoft throttled", Reply{451, "4.7.500", "Server busy. Please try again later from [192.0.2.10]. (S77714) [DB5EUR00FT000.eop-eur00.prod.protection.outlook.com]"}, RateLimited},
		{"postfix too many connections", Reply{421, "4.7.0", "mx.example.org Error: too many connections from 192.0.2.10"}, RateLimited},
		{"yahoo TSS01 volume", Reply{421, "4.7.0", "[TS01] Messages from 192.0.2.10 temporarily deferred - 4.16.50; see https://postmaster.yahooinc.com/error-codes"}, RateLimited},

		// Full mailboxes: not the sender's fault.
		{"gmail over quota", Reply{452, "4.2.2", "The email account that you tried to reach is over quota. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp - gsmtp"}, MailboxFull},
		{"gmail over quota perm", Reply{552, "5.2.2", "The email account that you tried to reach is over quota and inactive. - gsmtp"}, MailboxFull},
		{"exim mailbox full", Reply{552, "", "Mailbox is full / Blocks limit exceeded / Inode limit exceeded"}, MailboxFull},

		// Other transient and permanent failures.
		{"postfix greylisted", Reply{450, "4.7.1", "<someone@example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.org.html"}, Transient},
		{"exim local problem", Reply{451, "", "Temporary local problem - please try later"}, Transient},
		{"temporary unknown user", Reply{450, "4.1.1", "<someone@example.org>: Recipient address rejected: unverified address: host mx.example.org said: 550 5.1.1 User unknown"}, Transient},
		{"too big", Reply{552, "5.3.4", "Message size exceeds fixed limit"}, Failed},
		{"plain 4xx", Reply{451, "4.3.0", "Mail server temporarily rejected message."}, Transient},
		{"no reply connect", Reply{0, "4.4.1", "connect to mx.example.org:25: connection refused"}, NoReply},
		{"no reply broken", Reply{0, "4.4.2", "connection to mx.example.org broke during DATA: EOF"}, NoReply},
		{"no reply at all", Reply{}, NoReply},
	}
	for _, c := range cases {
		got := Classify(c.r)
		if got.Class != c.want {
			t.Errorf("%s: %d %s %q: got %s (%s), want %s", c.who, c.r.Code, c.r.Enhanced, c.r.Text, got.Class, got.Reason, c.want)
		}
		if got.Reason == "" {
			t.Errorf("%s: no reason given", c.who)
		}
	}
}

// TestClassifyCodesBeforeText: a specific enhanced code wins over the text.
func TestClassifyCodesBeforeText(t *testing.T) {
	r := Classify(Reply{550, "5.1.1", "blocked: spam"})
	if r.Class != HardBounce || !strings.Contains(r.Reason, "5.1.1") {
		t.Fatalf("got %+v", r)
	}
	r = Classify(Reply{550, "5.7.606", "user unknown"})
	if r.Class != SpamRefusal {
		t.Fatalf("got %+v", r)
	}
}

// BenchmarkClassify: a Gmail spam refusal, which goes through the text
// patterns (the slow path).
func BenchmarkClassify(b *testing.B) {
	r := Reply{550, "5.7.1", "[192.0.2.10      12] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. (in reply to end of DATA)"}
	for b.Loop() {
		Classify(r)
	}
}
