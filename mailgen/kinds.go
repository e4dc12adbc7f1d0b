package mailgen

import (
	"fmt"
	"strings"
	"time"
)

// The legitimate kinds, each written the way such mail is written today:
// HTML beside text for what a platform sends, plain text between people.

func (g *Generator) conversation(b *builder, s Spec) {
	topics := []struct{ subject, body string }{
		{"Re: agenda for Thursday", "Hi %s,\n\nThanks for sending the agenda. Could we move the budget item to the start? I have to leave at 11.\nAlso, I attached last quarter's numbers to the shared folder yesterday.\n\nBest,\n%s"},
		{"Quick question about the %s migration", "Hello %s,\n\nDo you know whether the old server keeps running until the end of the month? We still have two reports that read from it.\nIf not, I will ask Tom to copy them over on Monday.\n\nThanks,\n%s"},
		{"Re: Re: draft contract", "%s,\n\nI went through the draft. Clause 4 still says thirty days, we agreed on sixty. Everything else looks fine to me.\nShall I send it to legal, or will you?\n\n%s"},
		{"Lunch next week?", "Hi %s,\n\nIt has been a while! Are you free for lunch on Tuesday or Wednesday? There is a new place near the station.\n\nCheers,\n%s"},
		{"Re: holiday rota", "Hi %s,\n\nI can cover the 27th and 28th, but not New Year's Eve. Could you ask Sam about the 31st?\n\nThanks a lot,\n%s"},
		{"Notes from today's call", "Hi %s,\n\nHere are my notes from the call:\n- the supplier confirmed delivery for week 50\n- we need the signed order form by Friday\n- next call in two weeks, same time\n\nLet me know if I missed anything.\n%s"},
	}
	t := topics[g.rng.IntN(len(topics))]
	to, me := g.pick(firstNames), g.pick(firstNames)
	subject := t.subject
	if strings.Contains(subject, "%s") {
		subject = fmt.Sprintf(subject, g.pick([]string{"CRM", "mail", "file server", "website"}))
	}
	b.header("Subject", subject)
	if strings.HasPrefix(subject, "Re:") {
		b.header("In-Reply-To", fmt.Sprintf("<%x@%s>", g.rng.Uint64(), domainOf(s.To)))
	}
	b.header("Content-Type", "text/plain; charset=utf-8")
	b.header("Content-Transfer-Encoding", "8bit")
	b.body(fmt.Sprintf(t.body, to, me) + "\n")
}

func (g *Generator) listPost(b *builder, s Spec) {
	list := s.List
	if list == "" {
		list = "discuss@lists." + domainOf(s.From)
	}
	name := localOf(list)
	posts := []struct{ subject, body string }{
		{"Seminar on Friday: graph algorithms in practice", "Dear all,\n\nThis Friday at 14:00 in room B.204, Dr %s will talk about graph algorithms in large-scale routing.\nCoffee from 13:45. Slides will be on the wiki afterwards.\n\nBest regards,\nthe seminar committee"},
		{"Re: build fails on ARM since last merge", "The failure comes from the new vector code path; it assumes 16-byte alignment.\nI pushed a fix to the branch fix/arm-align, could someone with an ARM box try it?\n\n%s"},
		{"Reminder: library closed on the 24th", "Hello everyone,\n\nA reminder that the library is closed on the 24th and the 31st. Loans due those days are extended automatically.\n\n%s, library services"},
		{"[ANN] release 2.4.1", "Release 2.4.1 is out. It fixes the crash on empty configuration files and two documentation errors.\nChecksums are on the download page. Thanks to everyone who reported issues.\n\n%s"},
		{"Re: room booking for the workshop", "I booked room C.101 for both days. It has 40 seats and a projector; catering is ordered for 35.\nPlease tell me by Monday if you need more.\n\n%s"},
	}
	p := posts[g.rng.IntN(len(posts))]
	b.header("Subject", "["+name+"] "+p.subject)
	b.header("List-Id", fmt.Sprintf("%s <%s>", name, strings.ReplaceAll(list, "@", ".")))
	b.header("List-Post", "<mailto:"+list+">")
	b.header("List-Unsubscribe", "<mailto:"+name+"-leave@"+domainOf(list)+">")
	b.header("List-Archive", "<https://"+domainOf(list)+"/archives/"+name+"/>")
	b.header("Precedence", "list")
	b.header("Content-Type", "text/plain; charset=utf-8")
	b.body(fmt.Sprintf(p.body, g.pick(lastNames)) + "\n\n_______________________________________________\n" +
		name + " mailing list\n" + list + "\nhttps://" + domainOf(list) + "/mailman/listinfo/" + name + "\n")
}

func (g *Generator) newsletter(b *builder, s Spec) {
	d := domainOf(s.From)
	token := fmt.Sprintf("%016x", g.rng.Uint64())
	month := s.Date.Format("January")
	items := []string{"What's new in our app this month", "Three tips for getting more from your dashboard",
		"Customer story: how a small bakery cut its admin time in half", "Webinar on " + s.Date.AddDate(0, 0, 9).Format("2 January") + ": reporting basics",
		"Our winter opening hours", "A new integration with your accounting software"}
	i := g.rng.IntN(len(items))
	j := (i + 1 + g.rng.IntN(len(items)-1)) % len(items)
	b.header("Subject", fmt.Sprintf("%s news for %s: %s", s.Company, month, strings.ToLower(items[i][:1])+items[i][1:]))
	b.header("List-Id", fmt.Sprintf("%s newsletter <news.%s>", s.Company, d))
	b.header("List-Unsubscribe", fmt.Sprintf("<https://%s/unsubscribe/%s>, <mailto:unsubscribe@%s?subject=%s>", d, token, d, token))
	b.header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	b.header("Precedence", "bulk")
	text := fmt.Sprintf("%s\n\n%s\nRead more: https://%s/blog/%d\n\n%s\nRead more: https://%s/blog/%d\n\n"+
		"You receive this newsletter because you subscribed at %s.\nUnsubscribe: https://%s/unsubscribe/%s\n%s, %s\n",
		s.Company+" newsletter, "+month, items[i], d, 100+i, items[j], d, 100+j, d, d, token, s.Company, g.pick(addresses))
	html := fmt.Sprintf(`<!DOCTYPE html><html><body style="font-family:Arial,sans-serif;background:#f4f4f4">
<table width="600" align="center" style="background:#ffffff"><tr><td style="padding:24px">
<img src="https://%[1]s/img/logo.png" alt="%[2]s" width="120">
<h1 style="font-size:22px">%[3]s</h1><p>We have been busy this month. Here is what changed.</p>
<p><a href="https://%[1]s/blog/%[4]d">Read the article</a></p>
<h2 style="font-size:18px">%[5]s</h2><p><a href="https://%[1]s/blog/%[6]d">Read more</a></p>
<p style="font-size:11px;color:#888">You receive this newsletter because you subscribed at %[1]s.
<a href="https://%[1]s/unsubscribe/%[7]s">Unsubscribe</a> · %[2]s, %[8]s</p>
</td></tr></table></body></html>`, d, s.Company, items[i], 100+i, items[j], 100+j, token, g.pick(addresses))
	b.alternative("nl-"+token, text, html)
}

func (g *Generator) amount() string {
	return fmt.Sprintf("%d.%02d", 9+g.rng.IntN(400), g.rng.IntN(100))
}

func (g *Generator) invoice(b *builder, s Spec) {
	d := domainOf(s.From)
	no := fmt.Sprintf("INV-%d-%05d", s.Date.Year(), 1000+g.rng.IntN(90000))
	amt := g.amount()
	cur := g.pick([]string{"$", "€", "£"})
	month := s.Date.AddDate(0, -1, 0).Format("January")
	due := s.Date.AddDate(0, 0, 14).Format("2 January 2006")
	b.header("Subject", fmt.Sprintf("Your %s invoice %s for %s", s.Company, no, month))
	text := fmt.Sprintf("Dear customer,\n\nyour invoice for %s is ready. Total due: %s%s, payable by %s.\n"+
		"The invoice is attached as a PDF and is also in your account: https://%s/billing/invoices/%s\n\n"+
		"Payment is collected automatically from the card on file. If you have questions about this invoice, reply to this email.\n\n"+
		"Thank you for your business,\n%s billing\n", month, cur, amt, due, d, no, s.Company)
	pdf := fakePDF(fmt.Sprintf("%s invoice %s total %s%s", s.Company, no, cur, amt))
	boundary := fmt.Sprintf("inv-%x", g.rng.Uint64())
	b.header("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	b.body("--" + boundary + "\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + text + "\n" +
		"--" + boundary + "\nContent-Type: application/pdf; name=\"" + no + ".pdf\"\nContent-Disposition: attachment; filename=\"" + no + ".pdf\"\n" +
		"Content-Transfer-Encoding: base64\n\n" + b64(pdf) + "\n--" + boundary + "--\n")
}

// fakePDF is a small, well-formed PDF with one line of text.
func fakePDF(line string) []byte {
	content := fmt.Sprintf("BT /F1 12 Tf 72 720 Td (%s) Tj ET", line)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var out strings.Builder
	out.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return []byte(out.String())
}

func (g *Generator) receipt(b *builder, s Spec) {
	d := domainOf(s.From)
	order := fmt.Sprintf("%d-%04d", 100000+g.rng.IntN(900000), g.rng.IntN(10000))
	item := g.pick([]string{"Pro plan (monthly)", "Team plan, 5 seats", "Storage add-on 100 GB", "Annual subscription", "Support package"})
	amt := g.amount()
	b.header("Subject", "Receipt for your payment, order "+order)
	text := fmt.Sprintf("Thanks for your payment.\n\nOrder: %s\nItem: %s\nAmount paid: $%s\nPaid with: card ending %04d\nDate: %s\n\n"+
		"View your receipt online: https://%s/account/receipts/%s\nQuestions? Visit https://%s/help\n\n%s\n",
		order, item, amt, g.rng.IntN(10000), s.Date.Format("2 Jan 2006"), d, order, d, s.Company)
	html := fmt.Sprintf(`<html><body style="font-family:Helvetica,Arial,sans-serif">
<table width="100%%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table width="560"><tr><td><img src="https://%[1]s/static/logo.png" alt="%[2]s" height="32"></td></tr>
<tr><td><h2>Thanks for your payment</h2>
<table width="100%%"><tr><td>Order</td><td align="right">%[3]s</td></tr>
<tr><td>%[4]s</td><td align="right">$%[5]s</td></tr>
<tr><td><b>Total</b></td><td align="right"><b>$%[5]s</b></td></tr></table>
<p><a href="https://%[1]s/account/receipts/%[3]s" style="background:#2d6cdf;color:#fff;padding:10px 16px;text-decoration:none">View receipt</a></p>
<p style="color:#777;font-size:12px">%[2]s · <a href="https://%[1]s/help">Help centre</a></p></td></tr></table>
</td></tr></table></body></html>`, d, s.Company, order, item, amt)
	b.alternative(fmt.Sprintf("rc-%x", g.rng.Uint64()), text, html)
}

func (g *Generator) reset(b *builder, s Spec) {
	d := domainOf(s.From)
	tok := fmt.Sprintf("%x%x", g.rng.Uint64(), g.rng.Uint64())
	b.header("Subject", "Reset your "+s.Company+" password")
	text := fmt.Sprintf("Hi,\n\nSomeone asked to reset the password of your %s account (%s).\n"+
		"To choose a new password, open this link within 60 minutes:\nhttps://%s/reset?token=%s\n\n"+
		"If you did not ask for this, you can ignore this email; your password stays the same.\n\n%s\n", s.Company, s.To, d, tok, s.Company)
	html := fmt.Sprintf(`<html><body style="font-family:sans-serif"><div style="max-width:480px;margin:auto">
<p>Hi,</p><p>Someone asked to reset the password of your %[1]s account (%[2]s).</p>
<p><a href="https://%[3]s/reset?token=%[4]s" style="display:inline-block;background:#111;color:#fff;padding:12px 20px;border-radius:4px;text-decoration:none">Choose a new password</a></p>
<p>The link works for 60 minutes. If you did not ask for this, ignore this email; your password stays the same.</p>
<p style="color:#999;font-size:12px">%[1]s · %[3]s</p></div></body></html>`, s.Company, s.To, d, tok)
	b.alternative(fmt.Sprintf("rs-%x", g.rng.Uint64()), text, html)
}

func (g *Generator) signInCode(b *builder, s Spec) {
	code := fmt.Sprintf("%06d", g.rng.IntN(1000000))
	b.header("Subject", fmt.Sprintf("%s is your %s sign-in code", code, s.Company))
	text := fmt.Sprintf("Your sign-in code is %s\n\nEnter it on the sign-in page to finish signing in. The code expires in 10 minutes.\n"+
		"Requested from %s on %s.\nIf this was not you, change your password at https://%s/security\n\n%s\n",
		code, g.pick([]string{"Firefox on Windows", "Safari on iPhone", "Chrome on macOS", "the Android app"}),
		s.Date.Format("2 Jan 2006 15:04 MST"), domainOf(s.From), s.Company)
	html := fmt.Sprintf(`<html><body><div style="font-family:sans-serif;text-align:center">
<p>Your sign-in code is</p><p style="font-size:32px;letter-spacing:6px"><b>%s</b></p>
<p>The code expires in 10 minutes. If this was not you, <a href="https://%s/security">secure your account</a>.</p></div></body></html>`, code, domainOf(s.From))
	b.alternative(fmt.Sprintf("sc-%x", g.rng.Uint64()), text, html)
}

func (g *Generator) shipping(b *builder, s Spec) {
	d := domainOf(s.From)
	order := fmt.Sprintf("%d", 4000000+g.rng.IntN(1000000))
	track := fmt.Sprintf("1Z%X", g.rng.Uint64()>>16)
	carrier := g.pick([]string{"DHL", "UPS", "DPD", "PostNL", "Royal Mail"})
	b.header("Subject", fmt.Sprintf("Your order %s has shipped", order))
	text := fmt.Sprintf("Good news: your order %s is on its way.\n\nCarrier: %s\nTracking number: %s\nExpected delivery: %s\n\n"+
		"Track your parcel: https://%s/orders/%s/track\n\n%s customer service\n", order, carrier, track,
		s.Date.AddDate(0, 0, 2+g.rng.IntN(3)).Format("Monday 2 January"), d, order, s.Company)
	html := fmt.Sprintf(`<html><body style="font-family:Arial"><h2>Your order is on its way</h2>
<p>Order <b>%s</b> was handed to %s. Tracking number: %s.</p>
<p><a href="https://%s/orders/%s/track">Track your parcel</a></p></body></html>`, order, carrier, track, d, order)
	b.alternative(fmt.Sprintf("sh-%x", g.rng.Uint64()), text, html)
}

func (g *Generator) accountAlert(b *builder, s Spec) {
	d := domainOf(s.From)
	alerts := []struct{ subject, text string }{
		{"Your storage is 90% full", "Your %s workspace uses 90%% of its storage. Delete old files or upgrade your plan at https://%s/settings/billing.\n"},
		{"New sign-in to your account", "We noticed a new sign-in to your %s account from a new device. If this was you, there is nothing to do. If not, review your sessions at https://%s/security.\n"},
		{"Your card expires soon", "The card on file for your %s subscription expires at the end of next month. Update it at https://%s/settings/billing to avoid an interruption.\n"},
		{"Weekly report is ready", "Your weekly %s report is ready. Open it at https://%s/reports/weekly.\n"},
	}
	a := alerts[g.rng.IntN(len(alerts))]
	b.header("Subject", a.subject)
	b.header("Content-Type", "text/plain; charset=utf-8")
	b.body("Hello,\n\n" + fmt.Sprintf(a.text, s.Company, d) + "\nThe " + s.Company + " team\n")
}

func (g *Generator) invitation(b *builder, s Spec) {
	start := s.Date.Truncate(time.Hour).Add(time.Duration(24+g.rng.IntN(96)) * time.Hour)
	what := g.pick([]string{"Project sync", "Quarterly review", "Onboarding session", "Design review", "1:1"})
	uid := fmt.Sprintf("%x@%s", g.rng.Uint64(), domainOf(s.From))
	ics := fmt.Sprintf("BEGIN:VCALENDAR\nPRODID:-//Tollgate mailgen//EN\nVERSION:2.0\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:%s\n"+
		"DTSTAMP:%s\nDTSTART:%s\nDTEND:%s\nSUMMARY:%s\nORGANIZER:mailto:%s\nATTENDEE;RSVP=TRUE:mailto:%s\nLOCATION:Room 3 / video call\nEND:VEVENT\nEND:VCALENDAR\n",
		uid, s.Date.UTC().Format("20060102T150405Z"), start.UTC().Format("20060102T150405Z"), start.Add(time.Hour).UTC().Format("20060102T150405Z"), what, s.From, s.To)
	boundary := fmt.Sprintf("cal-%x", g.rng.Uint64())
	b.header("Subject", "Invitation: "+what+" @ "+start.Format("Mon 2 Jan 15:04"))
	b.header("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.body("--" + boundary + "\nContent-Type: text/plain; charset=utf-8\n\nYou are invited to " + what + " on " + start.Format("Monday 2 January at 15:04") +
		".\nLocation: Room 3 / video call\n\n--" + boundary + "\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\n\n" + ics +
		"--" + boundary + "--\n")
}

var addresses = []string{"12 Harbour Street, Bristol", "Keizersgracht 221, Amsterdam", "88 Market St, San Francisco, CA",
	"Rue de la Loi 42, Brussels", "Torstrasse 9, Berlin"}
