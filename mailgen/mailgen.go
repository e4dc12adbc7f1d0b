// Package mailgen writes realistic mail of the kinds tenants of a hosting
// provider or SaaS platform send — conversations, mailing-list posts,
// newsletters with one-click unsubscribe, invoices with a PDF, receipts,
// password resets, sign-in codes, shipping notices, account alerts and
// calendar invitations — and a few kinds of modern spam, from templates
// varied by a seeded random source.
//
// It exists so that protection features are exercised with the mail
// customers really send, not only with the 2002 corpus: `tollgate simulate`
// and the tests draw from it. Nothing it writes is ever training data for the
// classifier; keep it that way, or its figures stop being evaluation figures.
//
// The same seed gives the same messages, byte for byte.
package mailgen

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Kind names one kind of message.
type Kind string

// The legitimate kinds.
const (
	Conversation Kind = "conversation"
	ListPost     Kind = "list-post"
	Newsletter   Kind = "newsletter"
	Invoice      Kind = "invoice"
	Receipt      Kind = "receipt"
	Reset        Kind = "password-reset"
	SignInCode   Kind = "sign-in-code"
	Shipping     Kind = "shipping"
	AccountAlert Kind = "account-alert"
	Invitation   Kind = "calendar-invitation"
)

// The spam kinds.
const (
	Phishing   Kind = "phishing"
	Pharma     Kind = "pharma"
	AdvanceFee Kind = "advance-fee"
	Crypto     Kind = "crypto"
)

// Transactional are the kinds a SaaS platform relays for its customers.
var Transactional = []Kind{Invoice, Receipt, Reset, SignInCode, Shipping, AccountAlert}

// Spam are the spam kinds.
var Spam = []Kind{Phishing, Pharma, AdvanceFee, Crypto}

// IsSpam reports whether k is one of the spam kinds.
func IsSpam(k Kind) bool {
	for _, s := range Spam {
		if s == k {
			return true
		}
	}
	return false
}

// Message is one generated message.
type Message struct {
	Kind Kind
	From string // the header and envelope sender
	To   string
	Raw  []byte // the whole RFC 5322 message, CRLF line ends
}

// Spec says who a message is from and to and when it is written.
type Spec struct {
	From    string // address; its domain is the sender's organisation
	To      string
	Company string // display name of the sender's organisation
	Date    time.Time
	List    string // list address for list posts and newsletters (List-Id)
}

// Generator writes messages from a seeded source.
type Generator struct {
	rng *rand.Rand
	seq int
}

// New returns a generator; the same seed gives the same messages.
func New(seed uint64) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Write composes one message of kind k.
func (g *Generator) Write(k Kind, s Spec) Message {
	g.seq++
	if s.Company == "" {
		s.Company = companyOf(s.From)
	}
	if s.Date.IsZero() {
		s.Date = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(g.seq) * time.Minute)
	}
	var b builder
	b.header("From", fmt.Sprintf("%s <%s>", g.senderName(k, s), s.From))
	b.header("To", s.To)
	b.header("Date", s.Date.Format(time.RFC1123Z))
	b.header("Message-ID", fmt.Sprintf("<%d.%x@%s>", s.Date.Unix(), g.rng.Uint64(), domainOf(s.From)))
	b.header("MIME-Version", "1.0")
	switch k {
	case Conversation:
		g.conversation(&b, s)
	case ListPost:
		g.listPost(&b, s)
	case Newsletter:
		g.newsletter(&b, s)
	case Invoice:
		g.invoice(&b, s)
	case Receipt:
		g.receipt(&b, s)
	case Reset:
		g.reset(&b, s)
	case SignInCode:
		g.signInCode(&b, s)
	case Shipping:
		g.shipping(&b, s)
	case AccountAlert:
		g.accountAlert(&b, s)
	case Invitation:
		g.invitation(&b, s)
	case Phishing:
		g.phishing(&b, s)
	case Pharma:
		g.pharma(&b, s)
	case AdvanceFee:
		g.advanceFee(&b, s)
	case Crypto:
		g.crypto(&b, s)
	default:
		g.conversation(&b, s)
	}
	return Message{Kind: k, From: s.From, To: s.To, Raw: []byte(b.String())}
}

func (g *Generator) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *Generator) senderName(k Kind, s Spec) string {
	switch k {
	case Conversation, ListPost, Invitation:
		return g.pick(firstNames) + " " + g.pick(lastNames)
	case Phishing:
		return g.pick([]string{"Account Security", "Mail Administrator", "IT Helpdesk", "Billing Department"})
	case Pharma, AdvanceFee, Crypto:
		return g.pick(firstNames) + " " + g.pick(lastNames)
	}
	return s.Company
}

// builder collects header fields and a body with CRLF line ends.
type builder struct{ strings.Builder }

func (b *builder) header(name, value string) { b.WriteString(name + ": " + value + "\r\n") }

// body ends the header and writes text with CRLF line ends.
func (b *builder) body(text string) {
	b.WriteString("\r\n")
	b.WriteString(crlf(text))
}

func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// alternative writes a multipart/alternative body of text and HTML.
func (b *builder) alternative(boundary, text, html string) {
	b.header("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.body("--" + boundary + "\n" +
		"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + text + "\n" +
		"--" + boundary + "\n" +
		"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + html + "\n" +
		"--" + boundary + "--\n")
}

func wrap76(s string) string {
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	out.WriteString(s)
	return out.String()
}

func b64(data []byte) string { return wrap76(base64.StdEncoding.EncodeToString(data)) }

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "example.com"
}

func companyOf(addr string) string {
	d := domainOf(addr)
	name := strings.Split(d, ".")[0]
	if name == "" {
		return "Example"
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

func localOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[:i]
	}
	return addr
}

var firstNames = []string{"Anna", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
	"Kara", "Liam", "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Yusuf"}

var lastNames = []string{"Novak", "Schmidt", "Okafor", "Martin", "Rossi", "Tanaka", "Kowalski", "Silva", "Jensen",
	"Dubois", "Haddad", "Murphy", "Costa", "Lindqvist", "Petrov", "Nguyen", "Berg", "Moreau"}
