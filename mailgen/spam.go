package mailgen

import "fmt"

// The spam kinds: what a hijacked account or connector sends today.

func (g *Generator) phishing(b *builder, s Spec) {
	lure := g.pick([]string{"micros0ft-verify", "secure-login-update", "mailbox-quota-alert", "docusign-review"})
	host := fmt.Sprintf("%s.%s", lure, g.pick([]string{"top", "xyz", "click", "online"}))
	b.header("Subject", g.pick([]string{"Action required: your mailbox will be suspended", "Unusual sign-in activity detected - verify now",
		"Your password expires today", "You have 3 undelivered messages"}))
	text := fmt.Sprintf("Dear user,\n\nYour mailbox %s has exceeded its limit and will be SUSPENDED within 24 hours.\n"+
		"Verify your account now to keep receiving messages: http://%s/login?u=%s\n\nMail Administrator\n", s.To, host, s.To)
	html := fmt.Sprintf(`<html><body><p>Dear user,</p><p>Your mailbox <b>%[1]s</b> has exceeded its limit and will be <b>SUSPENDED</b> within 24 hours.</p>
<p><a href="http://%[2]s/login?u=%[1]s">https://outlook.office.com/verify</a></p>
<p style="font-size:1px;color:#ffffff">%[3]s</p></body></html>`, s.To, host, "hello regards thanks meeting agenda invoice")
	b.alternative(fmt.Sprintf("ph-%x", g.rng.Uint64()), text, html)
}

func (g *Generator) pharma(b *builder, s Spec) {
	host := fmt.Sprintf("bit.ly/%x", g.rng.Uint32())
	b.header("Subject", g.pick([]string{"Cheap meds without prescription!!!", "V1agra 80% OFF today only", "Lose 10kg in 2 weeks - guaranteed"}))
	b.header("Content-Type", "text/html; charset=utf-8")
	b.body(fmt.Sprintf(`<html><body><h1>BEST PRICES ONLINE</h1><p>No prescription needed. Discreet shipping worldwide.</p>
<p><a href="http://%s">CLICK HERE TO ORDER NOW</a></p><p>Limited offer, act now! Unsubscribe not possible.</p></body></html>`, host) + "\n")
}

func (g *Generator) advanceFee(b *builder, s Spec) {
	b.header("Subject", g.pick([]string{"URGENT BUSINESS PROPOSAL", "Confidential: inheritance transfer", "Your compensation payment of $4.5M"}))
	b.header("Content-Type", "text/plain; charset=utf-8")
	b.body(fmt.Sprintf("Dear Friend,\n\nI am %s %s, a bank manager. I have a business proposal of US$%d,500,000.00 (%d million dollars) "+
		"left by a deceased client with no next of kin. I need your assistance to transfer the funds; you will receive 40%%.\n"+
		"Reply with your full name, phone number and bank details to %s@%s.\n\nYours faithfully\n",
		g.pick(firstNames), g.pick(lastNames), 4+g.rng.IntN(20), 4+g.rng.IntN(20), g.pick(firstNames), g.pick([]string{"gmail.com", "outlook.com", "yandex.ru"})))
}

func (g *Generator) crypto(b *builder, s Spec) {
	host := fmt.Sprintf("crypto-profit-%d.%s", g.rng.IntN(1000), g.pick([]string{"io", "top", "site"}))
	b.header("Subject", g.pick([]string{"Turn $250 into $12,000 in 7 days", "Elon's new Bitcoin platform is live", "Your crypto wallet has been credited"}))
	text := fmt.Sprintf("Hello!\n\nOur AI trading robot made members $3,120 yesterday. Spots are limited.\nRegister now: http://%s/?ref=%x\n", host, g.rng.Uint32())
	html := fmt.Sprintf(`<html><body><h2>Members earned $3,120 yesterday</h2><p>Our AI robot trades for you. Spots are limited!</p>
<a href="http://%s/?ref=%x"><img src="http://%s/banner.gif"></a></body></html>`, host, g.rng.Uint32(), host)
	b.alternative(fmt.Sprintf("cr-%x", g.rng.Uint64()), text, html)
}
