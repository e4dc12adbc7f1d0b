package heldout

import (
	"encoding/base64"
	"fmt"
	"strings"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// brands are what phishing imitates: the name, its real host, and the
// look-alike hosts the links really go to.
var brands = []struct{ name, real, fake string }{
	{"PayPal", "www.paypal.com", "paypa1-secure-login.com"},
	{"Microsoft 365", "login.microsoftonline.com", "rnicrosoft-office365.support"},
	{"DHL Express", "www.dhl.com", "dhl-parcel-redelivery.info"},
	{"Netflix", "www.netflix.com", "netflix-billing-update.net"},
	{"Apple", "appleid.apple.com", "appleid-verify-account.com"},
	{"Chase", "www.chase.com", "chase-alerts-verification.co"},
	{"Amazon", "www.amazon.com", "amaz0n-order-cancel.com"},
	{"DocuSign", "www.docusign.com", "docusign-envelope-review.xyz"},
}

// senderFor is a throwaway sending domain (the tenant's hijacked account or
// a free-mail address), unrelated to the brand.
func (g *gen) senderFor() (string, string) {
	d := g.pick([]string{"mail-notify-center.top", "secure-notice.online", "gmail.com", "outlook.com", "fastdeliveryinfo.click", "accountservice-mail.site"})
	return g.pick([]string{"support", "service", "noreply", "security", "billing"}) + fmt.Sprint(g.r.IntN(999)) + "@" + d, d
}

func (g *gen) phishLookalike(i int) string {
	b := brands[i%len(brands)]
	from, _ := g.senderFor()
	p := g.person("")
	href := fmt.Sprintf("https://%s/%s/signin?session=%s", b.fake, g.token(8), g.token(20))
	lines := []string{
		"We detected unusual activity on your account and have temporarily limited access. To restore full access, please confirm your identity within 24 hours.",
		"Your payment could not be processed and your subscription will be suspended today. Update your billing information to avoid losing access.",
		"A package addressed to you could not be delivered due to an incomplete address. Confirm your details and pay the redelivery fee of 1.99 to schedule a new delivery.",
		"Your mailbox storage is full. Incoming messages will be rejected after 12 hours. Verify your account to receive 50 GB of free storage.",
	}
	line := lines[i%len(lines)]
	html := fmt.Sprintf(`<html><body><p><img src="https://%s/logo.png" alt="%s"></p><p>Dear Customer,</p><p>%s</p>
<p><a href="%s">https://%s/account/verify</a></p><p>If you do not verify, your account will be permanently closed.</p><p>Sincerely,<br>%s Security Team</p>
<p style="font-size:10px">© 2026 %s. All rights reserved.</p></body></html>`, b.fake, b.name, line, href, b.real, b.name, b.name)
	subj := g.pick([]string{"Action required: your account has been limited", "Urgent: verify your account", "Your account will be suspended", "Delivery failed – action needed", "Security alert: unusual sign-in"})
	extra := []string{}
	h := fmt.Sprintf("From: %s <%s>\nTo: %s\nSubject: %s\n", b.name+" Support", from, p.addr, subj)
	if i%2 == 0 {
		h += "Date: " + g.date() + "\nMessage-ID: " + g.msgid(domainOf(from)) + "\n"
	}
	for _, e := range extra {
		h += e + "\n"
	}
	return h + "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n" + html + "\n"
}

func (g *gen) phishShortener(i int) string {
	from, dom := g.senderFor()
	p := g.person("")
	short := fmt.Sprintf("https://%s/%s", g.pick([]string{"bit.ly", "tinyurl.com", "t.co", "is.gd", "cutt.ly", "rb.gy", "ow.ly", "shorturl.at"}), g.token(7))
	texts := []string{
		"Hi,\n\nYou have (1) pending document shared with you via OneDrive. Review and sign before it expires: %s\n\nThank you.",
		"Congratulations! Your email was selected in our monthly draw. Claim your $500 gift card now: %s\n\nOffer valid 24h only.",
		"Your account password expires today. Keep your current password here: %s\n\nIT Helpdesk",
		"Hello dear,\n\nI saw your profile and would like to know you better. See my private photos: %s\n\nKisses",
		"Final notice: your vehicle toll payment is overdue. Pay now to avoid a penalty of $120: %s",
		"Earn $3,000 a week from home with our automated crypto trading bot. Guaranteed returns, no experience needed: %s",
	}
	body := fmt.Sprintf(texts[i%len(texts)], short)
	subj := g.pick([]string{"Document shared with you", "You're a winner!", "Password expiry notice", "Hi there", "Final notice", "Make money from home"})
	h := fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\n", from, p.addr, subj)
	if i%3 != 0 {
		h += "Date: " + g.date() + "\nMessage-ID: " + g.msgid(dom) + "\n"
	}
	if i%2 == 0 {
		return h + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body + "\n"
	}
	html := strings.ReplaceAll(strings.ReplaceAll(body, short, `<a href="`+short+`">click here</a>`), "\n", "<br>")
	return h + "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body>" + html + "</body></html>\n"
}

func (g *gen) malware(i int) string {
	from, dom := g.senderFor()
	p := g.person("")
	names := []string{"Invoice_" + fmt.Sprint(g.r.IntN(99999)) + ".exe", "Payment_Advice.pdf.scr", "Order-details.docm", "scan_0042.js", "Remittance.xlsm", "shipping_label.zip.exe", "DHL_AWB.img.vbs", "Statement.html.hta"}
	name := names[i%len(names)]
	bnd := "b" + g.token(10)
	body := g.pick([]string{
		"Please find attached the invoice for your recent order. Kindly review and confirm payment today.",
		"Dear sir/madam, attached is the payment advice for your reference. Open the attachment to view the details.",
		"Your parcel is waiting. Print the attached shipping label and bring it to the post office.",
		"See attached document, enable editing and content to view.",
	})
	payload := wrap76(b64("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + strings.Repeat(g.token(50), 8)))
	h := fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: %s\n", from, p.addr,
		g.pick([]string{"Invoice overdue", "Payment advice", "Your parcel", "Document", "RE: order"}), g.date(), g.msgid(dom))
	return h + fmt.Sprintf("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"%s\"\n\n--%s\nContent-Type: text/plain; charset=utf-8\n\n%s\n--%s\nContent-Type: application/octet-stream; name=\"%s\"\nContent-Disposition: attachment; filename=\"%s\"\nContent-Transfer-Encoding: base64\n\n%s\n--%s--\n",
		bnd, bnd, body, bnd, name, name, payload, bnd)
}

// obfuscated hides its words from filters: zero-width characters inside
// words, Cyrillic look-alike letters, or text hidden in HTML.
func (g *gen) obfuscated(i int) string {
	from, dom := g.senderFor()
	p := g.person("")
	var html string
	switch i % 4 {
	case 0:
		zw := func(s string) string { return strings.Join(strings.Split(s, ""), "\u200b") }
		html = fmt.Sprintf("<p>%s your %s now. %s at <a href=\"https://%s/r\">our site</a>.</p>", zw("Verify"), zw("password"), zw("Login"), g.pick([]string{"secure-verify.top", "acc-restore.online"}))
	case 1:
		// Cyrillic а, е, о, р, с in Latin words.
		html = "<p>Yоur Аррlе ID hаs bееn lосkеd. Vеrifу yоur ассоunt tоdау: <a href=\"https://appleid-unlock.help/v\">аррlе.соm/vеrifу</a></p>"
	case 2:
		filler := strings.Repeat("the meeting minutes are attached see you on thursday regards team project update schedule ", 6)
		html = fmt.Sprintf("<p>Cheap meds online, no prescription: <a href=\"https://rx-discount.shop/?id=%s\">order here</a></p><div style=\"display:none\">%s</div><span style=\"font-size:0px;color:#ffffff\">%s</span>", g.token(6), filler, filler)
	default:
		html = fmt.Sprintf("<p>Your w&#x430;llet has pending rew&#x430;rds of 0.42 BTC.</p><p><a href=\"http://%d.%d.%d.%d/claim\">Claim now</a></p>", 45+g.r.IntN(100), g.r.IntN(255), g.r.IntN(255), 1+g.r.IntN(254))
	}
	h := fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\n", from, p.addr, g.pick([]string{"Important notice", "Account locked", "Your rewards", "Re: your order"}))
	if i%2 == 1 {
		h += "Date: " + g.date() + "\nMessage-ID: " + g.msgid(dom) + "\n"
	}
	return h + "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body>" + html + "</body></html>\n"
}

func (g *gen) advanceFee(i int) string {
	from, dom := g.senderFor()
	p := g.person("")
	texts := []string{
		"Dear Friend,\n\nI am Barrister James Okoro, personal attorney to the late engineer who died in a car accident, leaving a deposit of US$10.5 million with no next of kin. I seek your consent to present you as the beneficiary. You will receive 40%% of the funds. Reply with your full name, phone number and address.\n\nRegards,\nBarrister James Okoro",
		"ATTENTION BENEFICIARY,\n\nYOUR COMPENSATION FUND OF $2,500,000.00 HAS BEEN APPROVED BY THE UNITED NATIONS. CONTACT OUR PAYING OFFICER WITH YOUR DETAILS TO RECEIVE YOUR ATM CARD. A SMALL PROCESSING FEE APPLIES.\n\nDR. MARK WILLIAMS",
		"Hello,\n\nI am a wealthy widow suffering from cancer and I want to donate my fortune of $4.2 million to charity through a trustworthy person. Kindly reply to my private email %s for more details.\n\nMrs. Helen Carter",
	}
	body := fmt.Sprintf(texts[i%len(texts)], "helen.carter"+fmt.Sprint(g.r.IntN(99))+"@gmail.com")
	reply := "claims" + fmt.Sprint(g.r.IntN(99)) + "@" + g.pick([]string{"yandex.com", "gmail.com", "mail.ru"})
	h := fmt.Sprintf("From: %s\nReply-To: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: %s\n", from, reply, p.addr,
		g.pick([]string{"URGENT BUSINESS PROPOSAL", "Compensation payment", "Donation", "Confidential"}), g.date(), g.msgid(dom))
	return h + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body + "\n"
}
