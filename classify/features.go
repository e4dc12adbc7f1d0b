package classify

import (
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Feature kinds: the first byte hashed with each token, so "free" in the
// subject and "free" in the body are different features, and the prefix of
// the reason an admin reads.
const (
	kindBody     = 'b'
	kindSubject  = 's'
	kindURL      = 'u'
	kindFrom     = 'f'
	kindFromName = 'n'
	kindMailer   = 'm'
	kindAttach   = 'a'
	kindRule     = 'r'
)

// kindNames are the reason prefixes, indexed by kind byte.
var kindNames = map[byte]string{
	kindBody: "body:", kindSubject: "subject:", kindURL: "url:", kindFrom: "from:",
	kindFromName: "fromname:", kindMailer: "mailer:", kindAttach: "attach:", kindRule: "rule:",
}

// featureSink receives each feature of a message; a feature may repeat and
// the sink counts it once.
type featureSink interface {
	feature(kind byte, tok []byte)
}

// FeatureVersion changes whenever the features change meaning, so a model
// trained on other features is refused instead of scoring nonsense. (4:
// the words' bounds apply to their net sum, in training and scoring; 5:
// REPLYTO_FREEMAIL, SUBJECT_PADDED, SUBJECT_URL, FROM_LOCAL_RANDOM.)
const FeatureVersion = 5

// extract sends d's features to s: words of the subject, the body and the
// sender's name; link domains; the sender's domain and mail program;
// attachment kinds; and the learned rules (named structural signals whose
// weights the model learns like any token's). HTML-only and image counts
// are not among them: in the 2002 corpus they mark spam, in today's mail
// they do not, and a model that learnt them flagged ordinary HTML mail.
func (d *document) extract(s featureSink, scratch []byte) []byte {
	var subj, body, name textStats
	scratch = scanText([]byte(d.subject), scratch, &subj,
		func(w []byte) { s.feature(kindSubject, w) }, func(h string) { s.feature(kindURL, []byte(registrable(h))) })
	scratch = scanText([]byte(d.fromName), scratch, &name,
		func(w []byte) { s.feature(kindFromName, w) }, func(string) {})
	scratch = scanText(d.text, scratch, &body,
		func(w []byte) {
			s.feature(kindBody, w)
			d.fp.word(w)
			if string(w) == "unsubscribe" {
				d.unsubscribeText = true
			}
		},
		func(h string) {
			if len(d.hosts) < maxHosts {
				d.hosts = append(d.hosts, h)
			}
		})
	d.zeroWidth, d.mixedScript = subj.zeroWidth+body.zeroWidth+name.zeroWidth, subj.mixedScript+body.mixedScript+name.mixedScript
	ipLink := false
	sender := ""
	if d.fromDomain != "" {
		sender = registrable(d.fromDomain)
		s.feature(kindFrom, []byte(sender))
	}
	toSender := false
	for _, h := range d.hosts {
		if isIPHost(h) {
			ipLink = true
			continue
		}
		r := registrable(h)
		toSender = toSender || r == sender
		if isShortener(r) {
			d.shortener = true
		}
		s.feature(kindURL, []byte(r))
	}
	if d.mailer != "" {
		m, _, _ := strings.Cut(strings.TrimSpace(d.mailer), " ")
		s.feature(kindMailer, []byte(strings.ToLower(m)))
	}
	for _, a := range d.attachments {
		s.feature(kindAttach, []byte(a))
	}
	rule := func(name string) { s.feature(kindRule, []byte(name)) }
	// No rule is on for every message (as a WORDS_n or LINKS_n bucket for
	// each length would be): the model's bias is fixed at the corpus' prior,
	// and a feature every message has is a learned bias under another name
	// — the one that made "few of the corpus' ham words" mean spam.
	switch {
	case body.words == 0 && len(d.attachments) > 0:
		// A scan or an invoice sent as a bare attachment has no words, like
		// the image-only spam behind WORDS_0; it gets a feature of its own
		// so the model does not read one as the other.
		rule("WORDS_0_ATTACHED")
	case body.words == 0:
		rule("WORDS_0")
	}
	if len(d.hosts) >= 16 {
		rule("LINKS_16")
	}
	if ipLink {
		rule("LINK_IP")
	}
	if len(d.hosts) > 0 && !toSender {
		// Legitimate senders link to their own site (a receipt to the
		// account page, a newsletter to its articles); spam links elsewhere.
		rule("LINKS_NOT_SENDER")
	}
	if body.letters >= 40 && body.upper*10 >= body.letters*3 {
		rule("BODY_CAPS")
	}
	if subj.letters >= 8 && subj.upper*10 >= subj.letters*7 {
		rule("SUBJECT_CAPS")
	}
	if strings.TrimSpace(d.subject) == "" {
		rule("SUBJECT_EMPTY")
	}
	if strings.Contains(d.subject, "!") {
		rule("SUBJECT_EXCLAIM")
	}
	if strings.ContainsAny(d.subject, "$%€£") {
		rule("SUBJECT_MONEY")
	}
	if d.replyDomain != "" && d.replyDomain != d.fromDomain {
		rule("REPLYTO_OTHER_DOMAIN")
	}
	if d.replyDomain != "" && isFreemail(registrable(d.replyDomain)) && registrable(d.replyDomain) != sender {
		// Replies diverted from the sender's domain to a free mailbox:
		// the sender's address is not where the answers go.
		rule("REPLYTO_FREEMAIL")
	}
	if subjectPadded(d.subject) {
		rule("SUBJECT_PADDED")
	}
	if strings.Contains(strings.ToLower(d.subject), "http://") || strings.Contains(strings.ToLower(d.subject), "www.") {
		rule("SUBJECT_URL")
	}
	if randomLocal(d.fromLocal) {
		rule("FROM_LOCAL_RANDOM")
	}
	if strings.Contains(d.fromName, "@") {
		rule("FROMNAME_HAS_ADDRESS")
	}
	if d.malformed {
		rule("MALFORMED")
	}
	if d.badCharset {
		rule("BAD_CHARSET")
	}
	return scratch
}

// shorteners are URL-shortening services: their links hide the target
// from the reader and from filters.
var shorteners = map[string]bool{
	"bit.ly": true, "bitly.com": true, "tinyurl.com": true, "t.co": true, "goo.gl": true, "ow.ly": true, "is.gd": true,
	"buff.ly": true, "cutt.ly": true, "rb.gy": true, "shorturl.at": true, "tiny.cc": true, "bl.ink": true, "t.ly": true,
	"rebrand.ly": true, "s.id": true, "v.gd": true, "adf.ly": true, "shorte.st": true, "tr.im": true, "x.co": true,
	"soo.gd": true, "clck.ru": true, "u.to": true, "qrco.de": true, "tinyurl.at": true, "short.io": true,
}

// freemail are free mailbox providers: anyone can have an address there
// in a minute, so a reply diverted to one from another domain says the
// sender's own address is not meant to be answered.
var freemail = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "yahoo.com": true, "yahoo.co.uk": true, "hotmail.com": true, "outlook.com": true,
	"live.com": true, "msn.com": true, "aol.com": true, "mail.ru": true, "yandex.ru": true, "gmx.net": true, "gmx.de": true,
	"web.de": true, "netzero.net": true, "juno.com": true, "excite.com": true, "lycos.com": true, "mail.com": true,
	"icloud.com": true, "proton.me": true, "protonmail.com": true, "zoho.com": true, "rediffmail.com": true, "qq.com": true,
	"163.com": true, "126.com": true, "inbox.ru": true, "bk.ru": true, "list.ru": true, "rambler.ru": true,
}

func isFreemail(registrableDomain string) bool { return freemail[registrableDomain] }

// subjectPadded is a subject with a long run of spaces or dots in it, or
// after its words a code of letters and digits: the padding and the tag
// bulk senders add to make each copy unique (a "hash buster") and to push
// the tag out of the visible subject. Mail programs never write them.
func subjectPadded(s string) bool {
	if strings.Contains(s, "     ") || strings.Contains(s, "......") {
		return true
	}
	t := strings.TrimRight(s, " ")
	if len(t) < len(s)-2 {
		return true // trailing spaces: the subject was padded to a width
	}
	i := strings.LastIndex(t, "   ")
	if i < 0 {
		return false
	}
	return randomToken(strings.TrimSpace(t[i:]))
}

// randomToken is a token of 4 or more characters mixing letters and
// digits with a digit between letters ("4139YAEk3", "x7k2q"): generated,
// not a word, a year or an order number.
func randomToken(tok string) bool {
	if len(tok) < 4 || strings.ContainsAny(tok, " ") {
		return false
	}
	letterDigitLetter, prev := false, byte(0)
	seenLetterBefore := false
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		isLetter := c|0x20 >= 'a' && c|0x20 <= 'z'
		isDigit := c >= '0' && c <= '9'
		if isLetter && prev == 'd' && seenLetterBefore {
			letterDigitLetter = true
		}
		switch {
		case isLetter:
			prev, seenLetterBefore = 'l', true
		case isDigit:
			prev = 'd'
		default:
			prev = 0
		}
	}
	return letterDigitLetter
}

// randomLocal is a sender local part that looks generated: a digit between
// letters ("fsnf0r3s", "betsy8827v30") or a run of three or more digits after
// letters ("newpsychic414"); people's and services' addresses
// ("ann.lee", "billing", "jsmith84", "no-reply") are not.
func randomLocal(l string) bool {
	if randomToken(l) {
		return true
	}
	digits := 0
	for i := len(l) - 1; i >= 0 && l[i] >= '0' && l[i] <= '9'; i-- {
		digits++
	}
	return digits >= 3 && digits < len(l)
}

func isShortener(registrableDomain string) bool { return shorteners[registrableDomain] }

// registrable is the domain a host belongs to (example.co.uk for
// a.b.example.co.uk), so links to many hosts of one site count as one;
// the host itself when the suffix list does not know it.
func registrable(h string) string {
	if d, err := publicsuffix.EffectiveTLDPlusOne(h); err == nil {
		return d
	}
	return h
}
