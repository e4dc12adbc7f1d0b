// Package heldout generates the classifier's held-apart evaluation mail:
// modern legitimate mail of the kinds a SaaS or hosting tenant sends most
// (transactional HTML, invoices with PDFs, sign-in codes, calendar
// invitations, newsletters with one-click unsubscribe, mailing-list traffic,
// ordinary conversations) and a smaller set of modern spam (phishing with
// look-alike links, shorteners, executable attachments, obfuscation).
//
// It exists because the training corpus is 2002 mail: a figure measured on
// that corpus alone says nothing about a 2026 receipt. The set is written
// by this program, deterministically (a fixed seed), and is NEVER used for
// training — only by `tollgate classify eval` and the classifier's tests.
// The package imports nothing of the classifier, so it cannot leak into
// training by accident.
package heldout

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Message is one generated message.
type Message struct {
	// Kind names the template ("receipt", "phish-lookalike", ...).
	Kind string
	// Commercial marks transactional or commercial ham (the ≤ 1 % target
	// applies to these); conversations and list traffic are not.
	Commercial bool
	Spam       bool
	Raw        []byte
}

// Ham is the legitimate set: the same messages on every call.
func Ham() []Message {
	g := newGen(1)
	var out []Message
	add := func(kind string, commercial bool, n int, f func(*gen, int) string) {
		for i := range n {
			out = append(out, Message{Kind: kind, Commercial: commercial, Raw: crlf(f(g, i))})
		}
	}
	add("receipt", true, 16, (*gen).receipt)
	add("password-reset", true, 12, (*gen).passwordReset)
	add("sign-in-code", true, 12, (*gen).signInCode)
	add("shipping", true, 12, (*gen).shipping)
	add("account-alert", true, 12, (*gen).accountAlert)
	add("invoice-pdf", true, 16, (*gen).invoicePDF)
	add("calendar", true, 10, (*gen).calendar)
	add("newsletter", true, 16, (*gen).newsletter)
	add("mailing-list", false, 14, (*gen).mailingList)
	add("conversation", false, 20, (*gen).conversation)
	return out
}

// Spam is the modern spam set: the same messages on every call.
func Spam() []Message {
	g := newGen(2)
	var out []Message
	add := func(kind string, n int, f func(*gen, int) string) {
		for i := range n {
			out = append(out, Message{Kind: kind, Spam: true, Raw: crlf(f(g, i))})
		}
	}
	add("phish-lookalike", 10, (*gen).phishLookalike)
	add("phish-shortener", 8, (*gen).phishShortener)
	add("malware-attachment", 8, (*gen).malware)
	add("obfuscated", 8, (*gen).obfuscated)
	add("advance-fee", 6, (*gen).advanceFee)
	return out
}

type gen struct {
	r   *rand.Rand
	now time.Time
	seq int
}

func newGen(seed uint64) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, 0x68656c64)), now: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)}
}

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

type company struct{ name, domain, product string }

var saas = []company{
	{"Brightlane", "brightlane.io", "Brightlane Projects"},
	{"Nimbus Ledger", "nimbusledger.com", "Nimbus Accounting"},
	{"Corvid Analytics", "corvid.dev", "Corvid Insights"},
	{"Hearthside Hosting", "hearthside.net", "Hearthside Cloud"},
	{"Papertrail Forms", "paperforms.app", "Paper Forms"},
	{"Quillbox", "quillbox.co", "Quillbox Docs"},
	{"Tandem HR", "tandemhr.com", "Tandem Payroll"},
	{"Orbit Desk", "orbitdesk.io", "Orbit Helpdesk"},
	{"Kestrel Pay", "kestrelpay.com", "Kestrel Checkout"},
	{"Marlow & Finch", "marlowfinch.co.uk", "Marlow & Finch Store"},
}

var shops = []company{
	{"Alder Outfitters", "alderoutfitters.com", "Alder"},
	{"Greenleaf Pantry", "greenleafpantry.com", "Greenleaf"},
	{"Northwind Books", "northwindbooks.shop", "Northwind"},
	{"Copper Kettle Coffee", "copperkettle.coffee", "Copper Kettle"},
	{"Studio Faro", "studiofaro.de", "Faro"},
}

var first = []string{"Anna", "Ben", "Chloé", "David", "Elif", "Farid", "Grace", "Hiroshi", "Ines", "Jonas",
	"Kavya", "Liam", "Maria", "Nils", "Olga", "Pedro", "Qin", "Rosa", "Sam", "Tomás", "Uma", "Victor", "Wen", "Yusuf", "Zoe"}
var last = []string{"Andersen", "Baker", "Costa", "Dubois", "Evans", "Fischer", "García", "Hughes", "Ivanova", "Jensen",
	"Kowalski", "Lopez", "Müller", "Nakamura", "O'Brien", "Patel", "Rossi", "Schmidt", "Tanaka", "Walsh"}
var custDomains = []string{"gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "fastmail.com", "acme-corp.com", "riverside.org"}

type person struct{ first, last, addr string }

func (g *gen) person(domain string) person {
	f, l := g.pick(first), g.pick(last)
	if domain == "" {
		domain = g.pick(custDomains)
	}
	local := strings.ToLower(asciiOnly(f) + "." + asciiOnly(l))
	return person{f, l, local + "@" + domain}
}

func asciiOnly(s string) string {
	r := strings.NewReplacer("é", "e", "í", "i", "á", "a", "ü", "u", "'", "")
	return r.Replace(s)
}

func (p person) full() string { return p.first + " " + p.last }

func (g *gen) date() string {
	g.seq++
	return g.now.Add(time.Duration(g.seq)*37*time.Minute + time.Duration(g.r.IntN(600))*time.Second).Format(time.RFC1123Z)
}

func (g *gen) msgid(domain string) string {
	return fmt.Sprintf("<%x.%d@%s>", g.r.Uint64(), g.seq, domain)
}

func (g *gen) amount() string {
	return fmt.Sprintf("%d.%02d", 5+g.r.IntN(900), g.r.IntN(100))
}

func (g *gen) token(n int) string {
	const alpha = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alpha[g.r.IntN(len(alpha))]
	}
	return string(b)
}

func (g *gen) currency() string { return g.pick([]string{"$", "€", "£", "$"}) }

func crlf(s string) []byte {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// header writes the common header fields.
func (g *gen) header(fromName, from, to, subject string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s <%s>\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: %s\nMIME-Version: 1.0\n",
		fromName, from, to, subject, g.date(), g.msgid(domainOf(from)))
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.String()
}

func domainOf(addr string) string { return addr[strings.LastIndexByte(addr, '@')+1:] }

// alternative is a multipart/alternative body with both parts.
func (g *gen) alternative(text, html string) string {
	bnd := "alt_" + g.token(16)
	return fmt.Sprintf("Content-Type: multipart/alternative; boundary=\"%s\"\n\n--%s\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s\n--%s\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s\n--%s--\n",
		bnd, bnd, text, bnd, html, bnd)
}

// htmlMail is the layout transactional mail uses: a preheader hidden the
// usual way, a logo from a CDN, a button, a footer with the address.
func (g *gen) htmlMail(c company, preheader, heading, body, button, href, footer string) string {
	logo := fmt.Sprintf("https://%s/%s/logo.png", g.pick([]string{"cdn." + c.domain, "d3k2" + g.token(4) + ".cloudfront.net", "assets." + c.domain}), g.token(6))
	return fmt.Sprintf(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>%s</title>
<style>body{font-family:Helvetica,Arial,sans-serif;color:#222}.btn{background:#3b5bdb;color:#fff;padding:12px 20px;border-radius:4px;text-decoration:none}</style></head>
<body style="margin:0;padding:0;background:#f4f5f7">
<div style="display:none;max-height:0;overflow:hidden">%s</div>
<table role="presentation" width="100%%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table role="presentation" width="600" style="background:#ffffff"><tr><td style="padding:24px">
<img src="%s" alt="%s" width="120" height="32">
<h1 style="font-size:20px">%s</h1>
%s
<p><a class="btn" href="%s">%s</a></p>
<p style="font-size:12px;color:#888">%s</p>
</td></tr></table></td></tr></table>
</body></html>`, heading, preheader, logo, c.name, heading, body, href, button, footer)
}

func (g *gen) footer(c company) string {
	return fmt.Sprintf(`%s, %d %s, %s. <a href="https://%s/privacy">Privacy</a> · <a href="https://help.%s/">Help centre</a>`,
		c.name, 1+g.r.IntN(400), g.pick([]string{"Market Street", "Harbour Road", "Linden Allee", "King Street", "Rue Lafayette"}),
		g.pick([]string{"San Francisco, CA 94105", "London EC2A 4NE", "Berlin 10115", "Dublin D02", "Paris 75009"}), c.domain, c.domain)
}

func (g *gen) receipt(i int) string {
	c := saas[i%len(saas)]
	if i%3 == 2 {
		c = shops[i%len(shops)]
	}
	p := g.person("")
	cur, amt := g.currency(), g.amount()
	order := fmt.Sprintf("%s-%d", strings.ToUpper(c.domain[:2]), 100000+g.r.IntN(900000))
	plan := g.pick([]string{"Team plan (monthly)", "Pro plan, 5 seats", "Starter plan (annual)", "Business plan", "2 × Espresso beans 1 kg", "Hiking boots, size 42"})
	card := g.pick([]string{"Visa ending in", "Mastercard ending in", "Amex ending in"}) + fmt.Sprintf(" %04d", g.r.IntN(10000))
	href := fmt.Sprintf("https://%s/account/billing/receipts/%s", g.pick([]string{"app." + c.domain, c.domain, "billing." + c.domain}), order)
	text := fmt.Sprintf("Hi %s,\n\nThanks for your payment. Here is your receipt.\n\nReceipt %s\n%s   %s%s\nPaid with %s\n\nView your receipt: %s\n\nQuestions? Reply to this email or visit https://help.%s/\n\n%s\n", p.first, order, plan, cur, amt, card, href, c.domain, c.name)
	body := fmt.Sprintf(`<p>Hi %s,</p><p>Thanks for your payment. Here is your receipt.</p>
<table role="presentation" style="width:100%%;border-collapse:collapse"><tr><td>Receipt</td><td align="right">%s</td></tr>
<tr><td>%s</td><td align="right">%s%s</td></tr><tr><td><strong>Total</strong></td><td align="right"><strong>%s%s</strong></td></tr>
<tr><td>Paid with</td><td align="right">%s</td></tr></table>`, p.first, order, plan, cur, amt, cur, amt, card)
	subj := g.pick([]string{"Your receipt from " + c.name, "Receipt for your payment " + order, c.name + ": payment received", "Your " + c.product + " receipt [#" + order + "]"})
	h := g.header(c.name, g.pick([]string{"billing@", "receipts@", "no-reply@"})+c.domain, p.addr, subj)
	return h + g.alternative(text, g.htmlMail(c, "Receipt "+order+" – thanks for your payment", "Payment received", body, "View receipt", href, g.footer(c)))
}

func (g *gen) passwordReset(i int) string {
	c := saas[(i+3)%len(saas)]
	p := g.person("")
	tok := g.token(40)
	href := fmt.Sprintf("https://%s/reset-password?token=%s", g.pick([]string{"app." + c.domain, "accounts." + c.domain, "id." + c.domain}), tok)
	mins := g.pick([]string{"30 minutes", "1 hour", "24 hours", "15 minutes"})
	text := fmt.Sprintf("Hello %s,\n\nSomeone (hopefully you) asked to reset the password for your %s account %s.\n\nReset your password: %s\n\nThis link expires in %s. If you did not ask for this, you can ignore this email; your password will not change.\n\n— The %s team\n", p.first, c.product, p.addr, href, mins, c.name)
	body := fmt.Sprintf(`<p>Hello %s,</p><p>Someone (hopefully you) asked to reset the password for your %s account <strong>%s</strong>.</p><p>This link expires in %s. If you did not ask for this, you can ignore this email; your password will not change.</p>`, p.first, c.product, p.addr, mins)
	subj := g.pick([]string{"Reset your " + c.name + " password", "Password reset request", c.product + ": reset your password", "Your password reset link"})
	h := g.header(c.name, "no-reply@"+c.domain, p.addr, subj, "Auto-Submitted: auto-generated")
	if i%4 == 0 {
		return h + "Content-Type: text/plain; charset=utf-8\n\n" + text
	}
	return h + g.alternative(text, g.htmlMail(c, "Reset link inside, valid for "+mins, "Reset your password", body, "Choose a new password", href, g.footer(c)))
}

func (g *gen) signInCode(i int) string {
	c := saas[(i+5)%len(saas)]
	p := g.person("")
	code := fmt.Sprintf("%06d", g.r.IntN(1000000))
	where := g.pick([]string{"Firefox on Windows", "Safari on iPhone", "Chrome on macOS", "the Android app", "Edge on Windows 11"})
	city := g.pick([]string{"Lisbon, Portugal", "Austin, United States", "Leeds, United Kingdom", "Munich, Germany", "Osaka, Japan"})
	text := fmt.Sprintf("Your %s verification code is %s\n\nEnter it to finish signing in from %s near %s. The code expires in 10 minutes.\n\nIf this was not you, change your password at https://%s/security and contact us.\n", c.name, code, where, city, c.domain)
	body := fmt.Sprintf(`<p>Your verification code is</p><p style="font-size:32px;letter-spacing:6px"><strong>%s</strong></p><p>Enter it to finish signing in from %s near %s. The code expires in 10 minutes.</p>`, code, where, city)
	subj := g.pick([]string{code + " is your " + c.name + " code", "Your sign-in code", "Verify it's you: " + code, c.name + " login code"})
	h := g.header(c.name, g.pick([]string{"security@", "no-reply@", "verify@"})+c.domain, p.addr, subj, "Auto-Submitted: auto-generated")
	if i%3 == 0 {
		return h + "Content-Type: text/plain; charset=utf-8\n\n" + text
	}
	return h + g.alternative(text, g.htmlMail(c, "Your code is "+code, "Your sign-in code", body, "Secure my account", "https://"+c.domain+"/security", g.footer(c)))
}

func (g *gen) shipping(i int) string {
	c := shops[i%len(shops)]
	p := g.person("")
	carrier, track := g.pick([]string{"DHL", "UPS", "Royal Mail", "DPD", "FedEx", "USPS"}), fmt.Sprintf("1Z%d%s", g.r.IntN(1e6), strings.ToUpper(g.token(8)))
	carrierHost := map[string]string{"DHL": "www.dhl.com", "UPS": "www.ups.com", "Royal Mail": "www.royalmail.com", "DPD": "www.dpd.co.uk", "FedEx": "www.fedex.com", "USPS": "tools.usps.com"}[carrier]
	day := g.now.AddDate(0, 0, 2+g.r.IntN(4)).Format("Monday, 2 January")
	trackHref := fmt.Sprintf("https://%s/track?id=%s", carrierHost, track)
	text := fmt.Sprintf("Hi %s,\n\nGood news: your order is on its way with %s.\nTracking number: %s\nExpected delivery: %s\n\nTrack your parcel: %s\nYour order: https://%s/orders/%d\n\n%s\n", p.first, carrier, track, day, trackHref, c.domain, 10000+g.r.IntN(90000), c.name)
	body := fmt.Sprintf(`<p>Hi %s,</p><p>Good news: your order is on its way with %s.</p><p>Tracking number: <strong>%s</strong><br>Expected delivery: %s</p><p><a href="https://%s/orders">See your order</a></p>`, p.first, carrier, track, day, c.domain)
	subj := g.pick([]string{"Your order has shipped", "Your " + c.name + " order is on its way", "Shipped: your parcel arrives " + day, "Dispatch confirmation"})
	h := g.header(c.name, "orders@"+c.domain, p.addr, subj)
	return h + g.alternative(text, g.htmlMail(c, "Arriving "+day, "Your order has shipped", body, "Track parcel", trackHref, g.footer(c)))
}

func (g *gen) accountAlert(i int) string {
	c := saas[(i+1)%len(saas)]
	p := g.person("")
	alerts := []struct{ subj, text string }{
		{"New sign-in to your account", "We noticed a new sign-in to your %s account from %s. If this was you, there is nothing to do. If not, secure your account now."},
		{"Your trial ends in 3 days", "Your %s trial ends in 3 days. Add a payment method to keep your projects, or they will be paused (not deleted). Signed in from %s last."},
		{"Payment failed", "We could not charge your card for %s. We will retry in 3 days; update your billing details to avoid an interruption. Last activity: %s."},
		{"Storage almost full", "Your %s workspace has used 92%% of its storage. Delete old files or upgrade your plan. Last upload from %s."},
		{"API key created", "A new API key was created for your %s account from %s. If you did not do this, revoke it in your settings."},
	}
	a := alerts[i%len(alerts)]
	where := g.pick([]string{"Chrome on Windows", "an iPhone", "IP 203.0.113.24 (Madrid)", "the CLI"})
	line := fmt.Sprintf(a.text, c.product, where)
	href := fmt.Sprintf("https://app.%s/settings/%s", c.domain, g.pick([]string{"security", "billing", "storage", "api-keys"}))
	text := fmt.Sprintf("Hi %s,\n\n%s\n\nReview: %s\n\nThanks,\nThe %s team\n", p.first, line, href, c.name)
	h := g.header(c.name, g.pick([]string{"alerts@", "notifications@", "no-reply@"})+c.domain, p.addr, a.subj, "Auto-Submitted: auto-generated")
	return h + g.alternative(text, g.htmlMail(c, a.subj, a.subj, "<p>Hi "+p.first+",</p><p>"+line+"</p>", "Review", href, g.footer(c)))
}

// pdf is a small but well-formed PDF of an invoice, base64 in 76-column lines.
func (g *gen) pdf(c company, n, amount string) string {
	content := fmt.Sprintf("BT /F1 18 Tf 72 720 Td (%s invoice %s) Tj 0 -30 Td (Total due: %s) Tj ET", c.name, n, amount)
	raw := fmt.Sprintf("%%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>endobj\n4 0 obj<</Length %d>>stream\n%s\nendstream endobj\n5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\ntrailer<</Root 1 0 R>>\n%%%%EOF\n", len(content), content)
	raw += strings.Repeat(fmt.Sprintf("%% %s\n", g.token(60)), 20)
	return wrap76(b64(raw))
}

func (g *gen) invoicePDF(i int) string {
	c := saas[(i+7)%len(saas)]
	p := g.person(g.pick([]string{"acme-corp.com", "riverside.org", "blueharbor.co", "kiln-studio.com"}))
	cur, amt := g.currency(), g.amount()
	n := fmt.Sprintf("INV-%d-%04d", 2026, 1+g.r.IntN(9999))
	month := g.pick([]string{"October", "November", "December"})
	due := g.now.AddDate(0, 0, 14+g.r.IntN(16)).Format("2 January 2006")
	bnd := "mixed_" + g.token(12)
	greet := g.pick([]string{"Dear customer", "Hello " + p.first, "Dear " + p.full(), "Hi " + p.first})
	text := fmt.Sprintf("%s,\n\nyour invoice %s for %s is attached. Total due: %s%s by %s.\n\n%s\n\nThank you for your business.\n\n%s accounts team\nhttps://%s/billing\n", greet, n, month, cur, amt, due,
		g.pick([]string{"Please pay by bank transfer to the account shown on the invoice, quoting the invoice number.",
			"The amount will be charged to your card on file; there is nothing you need to do.",
			"You can pay online from your billing page. Please reply to this email if any details are wrong.",
			"If you have already paid, please disregard this email."}), c.name, c.domain)
	h := g.header(c.name+" Billing", "invoices@"+c.domain, p.addr, g.pick([]string{"Invoice " + n, "Your " + month + " invoice", c.name + " invoice " + n + " (" + cur + amt + ")", "Invoice " + n + " is ready"}))
	return h + fmt.Sprintf("Content-Type: multipart/mixed; boundary=\"%s\"\n\n--%s\nContent-Type: text/plain; charset=utf-8\n\n%s\n--%s\nContent-Type: application/pdf; name=\"%s.pdf\"\nContent-Disposition: attachment; filename=\"%s.pdf\"\nContent-Transfer-Encoding: base64\n\n%s\n--%s--\n",
		bnd, bnd, text, bnd, n, n, g.pdf(c, n, cur+amt), bnd)
}

func (g *gen) calendar(i int) string {
	org := g.person(g.pick([]string{"acme-corp.com", "riverside.org", "kiln-studio.com", "brightlane.io"}))
	att := g.person(g.pick([]string{"acme-corp.com", "gmail.com", "blueharbor.co"}))
	topic := g.pick([]string{"Quarterly planning", "Design review: onboarding flow", "1:1", "Budget sync", "Customer call – Riverside", "Sprint retrospective", "Interview: backend engineer"})
	start := g.now.AddDate(0, 0, 1+g.r.IntN(10)).Truncate(time.Hour).Add(time.Duration(9+g.r.IntN(7)) * time.Hour)
	end := start.Add(time.Duration(30+30*g.r.IntN(3)) * time.Minute)
	uid := g.token(24) + "@" + domainOf(org.addr)
	meet := g.pick([]string{"https://meet.google.com/abc-defg-hij", "https://us02web.zoom.us/j/8123456789", "https://teams.microsoft.com/l/meetup-join/19%3ameeting", "Room 4.01"})
	ics := fmt.Sprintf("BEGIN:VCALENDAR\nPRODID:-//Tollgate heldout//EN\nVERSION:2.0\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:%s\nDTSTAMP:%s\nDTSTART:%s\nDTEND:%s\nSUMMARY:%s\nLOCATION:%s\nORGANIZER;CN=%s:mailto:%s\nATTENDEE;CN=%s;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:%s\nSEQUENCE:0\nSTATUS:CONFIRMED\nEND:VEVENT\nEND:VCALENDAR\n",
		uid, g.now.Format("20060102T150405Z"), start.Format("20060102T150405Z"), end.Format("20060102T150405Z"), topic, meet, org.full(), org.addr, att.full(), att.addr)
	text := fmt.Sprintf("%s has invited you to: %s\nWhen: %s – %s (UTC)\nWhere: %s\n\nAccept, decline or propose a new time in your calendar.\n", org.full(), topic, start.Format("Mon 2 Jan 2006 15:04"), end.Format("15:04"), meet)
	bnd := "cal_" + g.token(12)
	h := g.header(org.full(), org.addr, att.full()+" <"+att.addr+">", "Invitation: "+topic+" @ "+start.Format("Mon 2 Jan 2006 15:04"))
	return h + fmt.Sprintf("Content-Type: multipart/alternative; boundary=\"%s\"\n\n--%s\nContent-Type: text/plain; charset=utf-8\n\n%s\n--%s\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\nContent-Transfer-Encoding: base64\n\n%s\n--%s--\n",
		bnd, bnd, text, bnd, wrap76(b64(ics)), bnd)
}

func (g *gen) newsletter(i int) string {
	c := saas[i%len(saas)]
	if i%2 == 1 {
		c = shops[i%len(shops)]
	}
	p := g.person("")
	topics := [][2]string{
		{"What's new in " + c.product, "This month we shipped faster search, a dark mode and an audit log export. Read the changelog for the details and tell us what you think."},
		{"Our autumn collection is here", "New arrivals for the colder months, made to last. Members get early access until Sunday and free returns as always."},
		{"Webinar: getting started with automations", "Join our product team on Thursday at 17:00 CET for a 45-minute walkthrough, with time for your questions at the end. Seats are limited."},
		{"November digest", "Three stories from customers, a guide to keeping your workspace tidy, and the dates of our next community meetups in Berlin and Leeds."},
		{"20% off for members this weekend", "As a thank you for being with us, everything in the shop is 20% off until Monday with the code MEMBER20. Offer ends Monday midnight."},
		{"Tips: five shortcuts you may have missed", "Press / to search anywhere, drag files straight into a task, and three more small things that save time every day."},
	}
	t := topics[i%len(topics)]
	unsub := fmt.Sprintf("https://%s/unsubscribe/%s", g.pick([]string{"email." + c.domain, c.domain, "links." + c.domain}), g.token(32))
	listID := fmt.Sprintf("%s <%s.%s>", c.name+" news", g.pick([]string{"news", "updates", "digest"}), c.domain)
	track := g.pick([]string{"click." + c.domain, "email." + c.domain, "u" + fmt.Sprint(g.r.IntN(9999999)) + ".ct.sendgrid.net", c.domain})
	link := func(path string) string {
		return fmt.Sprintf("https://%s/%s?utm_source=newsletter&utm_medium=email", track, path)
	}
	text := fmt.Sprintf("%s\n\nHi %s,\n\n%s\n\nRead more: %s\n\nYou receive this email because you signed up at %s. Unsubscribe: %s\n", t[0], p.first, t[1], link("read"), c.domain, unsub)
	body := fmt.Sprintf(`<p>Hi %s,</p><p>%s</p><p><img src="https://cdn.%s/n/hero.jpg" width="560" alt=""></p>
<p><a href="%s">Read more</a> · <a href="%s">Browse</a></p>
<p style="font-size:11px">You receive this email because you signed up at %s. <a href="%s">Unsubscribe</a> · <a href="%s">Preferences</a></p>
<p><a href="https://twitter.com/%s"><img src="https://cdn.%s/i/x.png" alt="X"></a> <a href="https://www.linkedin.com/company/%s"><img src="https://cdn.%s/i/in.png" alt="LinkedIn"></a></p>`,
		p.first, t[1], c.domain, link("read"), link("browse"), c.domain, unsub, link("preferences"), strings.Split(c.domain, ".")[0], c.domain, strings.Split(c.domain, ".")[0], c.domain)
	h := g.header(c.name, g.pick([]string{"news@", "hello@", "team@"})+c.domain, p.addr, t[0],
		"List-Unsubscribe: <"+unsub+">, <mailto:unsubscribe@"+c.domain+"?subject=unsubscribe>",
		"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
		"List-Id: "+listID,
		"Precedence: bulk",
		fmt.Sprintf("Feedback-ID: %d:%s:newsletter:%s", g.r.IntN(1e6), g.token(6), strings.Split(c.domain, ".")[0]))
	return h + g.alternative(text, g.htmlMail(c, t[1][:40], t[0], body, "Read more", link("cta"), g.footer(c)))
}

var lists = []struct{ name, id, host string }{
	{"golang-nuts", "golang-nuts.googlegroups.com", "googlegroups.com"},
	{"postfix-users", "postfix-users.postfix.org", "postfix.org"},
	{"debian-devel", "debian-devel.lists.debian.org", "lists.debian.org"},
	{"the neighbourhood allotment group", "allotments.riverside.org", "riverside.org"},
	{"pgsql-general", "pgsql-general.lists.postgresql.org", "lists.postgresql.org"},
}

func (g *gen) mailingList(i int) string {
	l := lists[i%len(lists)]
	p := g.person("")
	topics := []struct{ subj, body string }{
		{"Re: context cancellation in long-running handlers", "> Is there a way to stop the handler when the client goes away?\n\nYes: the request's context is cancelled when the client disconnects. Check ctx.Done() in your loop, or pass ctx down to the database calls, which will return early.\n"},
		{"Re: relayhost with TLS wrapper mode", "> smtp_tls_wrappermode = yes did not help\n\nYou also need the port in brackets, relayhost = [smtp.example.net]:465, and smtp_tls_security_level = encrypt. The log line you posted shows the client speaking STARTTLS to a wrapper-mode port.\n"},
		{"Plot 14 watering rota for December", "Hi all,\n\nthe water will be turned off on the 12th for the winter. If you still need some for the greenhouse, the butts by the shed are full. The next work morning is Saturday at 10, bring gloves.\n"},
		{"Re: autovacuum not keeping up on a busy table", "> the table has 40M updates a day\n\nLower autovacuum_vacuum_scale_factor for that table only (ALTER TABLE ... SET), and check that no long transaction holds back the xmin horizon; pg_stat_activity will show it.\n"},
		{"Bug#1088123: package fails to build with the new toolchain", "Hi,\n\nthe build fails on amd64 with the attached log: the test suite assumes a writable HOME. Setting HOME in debian/rules fixes it for me; patch below.\n\n--- a/debian/rules\n+++ b/debian/rules\n"},
	}
	t := topics[i%len(topics)]
	h := g.header(p.full(), p.addr, l.name+" <"+strings.Split(l.id, ".")[0]+"@"+l.host+">", t.subj,
		"List-Id: "+l.name+" <"+l.id+">",
		"List-Unsubscribe: <mailto:"+strings.Split(l.id, ".")[0]+"+unsubscribe@"+l.host+">",
		"List-Archive: <https://"+l.host+"/archive/>",
		"List-Post: <mailto:"+strings.Split(l.id, ".")[0]+"@"+l.host+">",
		"Precedence: list",
		"In-Reply-To: "+g.msgid(domainOf(p.addr)))
	return h + "Content-Type: text/plain; charset=utf-8; format=flowed\n\n" + t.body + "\n" + p.first + "\n\n-- \nYou received this message because you are subscribed to " + l.name + ".\nTo unsubscribe, send mail to " + strings.Split(l.id, ".")[0] + "+unsubscribe@" + l.host + ".\n"
}

func (g *gen) conversation(i int) string {
	dom := g.pick([]string{"acme-corp.com", "riverside.org", "blueharbor.co", "kiln-studio.com", "gmail.com"})
	a, b := g.person(dom), g.person(g.pick([]string{"acme-corp.com", "outlook.com", "marlowfinch.co.uk", "gmail.com"}))
	n := 1000 + g.r.IntN(9000)
	cur, amt := g.currency(), g.amount()
	day := g.pick([]string{"Tuesday", "Wednesday", "Thursday", "Friday", "Monday"})
	bodies := []struct{ subj, body string }{
		{"Delivery date for order " + fmt.Sprint(n), "Hi %s,\n\ncould you confirm the delivery date for order %d? Our warehouse is closed on %s, so we would need it the day before.\n\nThanks,\n%s"},
		{"Quote for the office move", "Hello %s,\n\nthank you for the visit yesterday. As discussed, our quote for the move (order %d) is " + cur + amt + " including packing materials. Let me know if %s still suits you.\n\nBest regards,\n%s"},
		{"Re: lunch?", "Sounds good %s! %d is my desk number if you can't find me, or just meet at the entrance on %s at 12:30.\n\n%s"},
		{"Contract draft v3", "Hi %s,\n\nplease find my comments on clause 7 below; the rest looks fine to me. Reference %d. Can we sign on %s?\n\n> 7.2 The supplier shall invoice monthly in arrears.\nAgreed, but payment terms should be 30 days, not 14.\n\nKind regards,\n%s"},
		{"Invoice question", "Dear %s,\n\nwe received invoice %d but the amount does not match the purchase order; could you send a corrected one before %s? Our accounts payable team needs it for the month end.\n\nMany thanks,\n%s"},
		{"Re: Re: slides for the board meeting", "Thanks %s, I've moved the revenue chart (slide %d) after the summary. I will send the final deck on %s morning.\n\n%s"},
		{"Your application", "Dear %s,\n\nthank you for applying for the position (reference %d). We would like to invite you to an interview on %s at 10:00 at our office, or by video if you prefer. Please reply to confirm.\n\nKind regards,\n%s"},
	}
	t := bodies[i%len(bodies)]
	body := fmt.Sprintf(t.body, b.first, n, day, a.first)
	ua := g.pick([]string{"User-Agent: Mozilla Thunderbird", "X-Mailer: Apple Mail (2.3774)", "X-Mailer: Microsoft Outlook 16.0", "User-Agent: Roundcube Webmail/1.6"})
	h := g.header(a.full(), a.addr, b.full()+" <"+b.addr+">", t.subj, ua)
	if i%3 == 1 {
		html := "<div dir=\"ltr\">" + strings.ReplaceAll(body, "\n", "<br>\n") + "</div>"
		return h + g.alternative(body, html)
	}
	return h + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + body + "\n"
}
