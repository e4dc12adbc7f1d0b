package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/address"
)

// Submitter hands a finished message to Tollgate's own queue, so alerts go
// out through Tollgate like any other mail (the gateway implements it).
type Submitter interface {
	Submit(ctx context.Context, from string, to []string, msg []byte) error
}

// Email mails each alert to the tenant's admins and, separately, to the
// operators (two messages, so neither sees the other's addresses).
type Email struct {
	// From is the header From and the envelope sender, e.g.
	// "alerts@gateway.example": bounces of alerts reach a mailbox a person
	// reads, which is how a dead admin address gets noticed.
	From string
	// Operators get every alert.
	Operators []string
	// Recipients returns a tenant's admins' addresses; nil: operators only.
	Recipients func(ctx context.Context, tenantID int64) ([]string, error)
	Submitter  Submitter
	// HelpURL is the base of the help pages ("https://gw.example"); an
	// alert with a Code links to HelpURL/ndr/<code>.
	HelpURL string
	// Hostname is the right-hand side of Message-IDs; default From's domain.
	Hostname string
	// Clock gives the Date (tests set it); default time.Now.
	Clock func() time.Time
}

// NewEmail checks the addresses and returns an Email sink.
func NewEmail(from string, operators []string, recipients func(context.Context, int64) ([]string, error), sub Submitter, helpURL string) (*Email, error) {
	if sub == nil {
		return nil, errors.New("alert: email sink needs a Submitter")
	}
	if _, err := mail.ParseAddress(from); err != nil || strings.ContainsAny(from, "<>") {
		return nil, fmt.Errorf("alert: email from %q: give a bare address like alerts@example.com", from)
	}
	f, err := envelopeAddress(from)
	if err != nil {
		return nil, fmt.Errorf("alert: email from %q: %w", from, err)
	}
	from = f.String()
	for _, o := range operators {
		if _, err := mail.ParseAddress(o); err != nil {
			return nil, fmt.Errorf("alert: operator email %q: %w", o, err)
		}
	}
	if recipients == nil && len(operators) == 0 {
		return nil, errors.New("alert: email sink has no recipients: give operator emails or a tenant admin lookup")
	}
	return &Email{From: from, Operators: operators, Recipients: recipients, Submitter: sub, HelpURL: helpURL}, nil
}

// Name implements Sink.
func (e *Email) Name() string { return "email" }

// Send implements Sink.
func (e *Email) Send(ctx context.Context, a Alert) error {
	var errs []error
	if e.Recipients != nil && a.TenantID != 0 {
		admins, err := e.Recipients(ctx, a.TenantID)
		if err != nil {
			errs = append(errs, fmt.Errorf("email alert %s: tenant %d admins: %w", a.ID, a.TenantID, err))
		}
		errs = append(errs, e.send(ctx, a, admins, false))
	}
	errs = append(errs, e.send(ctx, a, e.Operators, true))
	return errors.Join(errs...)
}

func (e *Email) send(ctx context.Context, a Alert, to []string, operators bool) error {
	addrs := cleanAddresses(to)
	if len(addrs) == 0 {
		return nil
	}
	msg, err := e.compose(a, addrs, operators)
	if err != nil {
		return fmt.Errorf("email alert %s: %w", a.ID, err)
	}
	to = make([]string, len(addrs))
	for i, ad := range addrs {
		to[i] = ad.String()
	}
	if err := e.Submitter.Submit(ctx, e.From, to, msg); err != nil {
		return fmt.Errorf("email alert %s to %d recipients: %w", a.ID, len(to), err)
	}
	return nil
}

// cleanAddresses keeps the addresses that parse, once each
// (case-insensitively); a bad one is logged, not fatal to the others.
func cleanAddresses(in []string) []address.Address {
	var out []address.Address
	for _, s := range in {
		addr, err := envelopeAddress(s)
		if err != nil {
			slog.Warn("alert: skipping unparseable recipient", "address", s, "err", err)
			continue
		}
		if !slices.ContainsFunc(out, func(o address.Address) bool { return strings.EqualFold(o.String(), addr.String()) }) {
			out = append(out, addr)
		}
	}
	return out
}

// envelopeAddress reads an RFC 5322 address ("Boss <boss@x>" or a bare
// one) as the envelope address it is sent to. net/mail hands back the local
// part unquoted; address.New checks it and quotes it again when it is
// written (a local part like `x> NOTIFY=NEVER` must not reach RCPT TO
// bare), in the envelope and in the To field alike.
func envelopeAddress(s string) (address.Address, error) {
	m, err := mail.ParseAddress(s)
	if err != nil {
		return address.Address{}, err
	}
	at := strings.LastIndexByte(m.Address, '@')
	if at < 0 {
		return address.Address{}, fmt.Errorf("%q has no domain", m.Address)
	}
	return address.New(m.Address[:at], m.Address[at+1:])
}

// compose builds an RFC 5322 message with CRLF line ends: a quoted-printable
// UTF-8 text body, Auto-Submitted: auto-generated (RFC 3834) so
// autoresponders stay quiet.
func (e *Email) compose(a Alert, to []address.Address, operators bool) ([]byte, error) {
	now := time.Now()
	if e.Clock != nil {
		now = e.Clock()
	}
	host := e.Hostname
	if host == "" {
		_, host, _ = strings.Cut(e.From, "@")
	}
	subject := "[Tollgate] " + a.Kind.Title() + ": " + oneLine(a.Subject)
	if operators && a.Tenant != "" {
		subject += " (tenant " + oneLine(a.Tenant) + ")"
	}
	rcpts := make([]string, len(to))
	for i, t := range to {
		rcpts[i] = "<" + t.String() + ">"
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("Date", now.Format(time.RFC1123Z))
	header("From", "Tollgate <"+e.From+">")
	header("To", strings.Join(rcpts, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	audience := "admins"
	if operators {
		audience = "operators"
	}
	header("Message-ID", "<alert."+a.ID+"."+audience+"@"+host+">")
	header("Auto-Submitted", "auto-generated")
	header("X-Auto-Response-Suppress", "All")
	header("Tollgate-Alert", string(a.Kind)+"; id="+a.ID)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(e.body(a), "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (e *Email) body(a Alert) string {
	var b strings.Builder
	b.WriteString(a.Text + "\n\n")
	fmt.Fprintf(&b, "Tenant:  %s (id %d)\n", a.Tenant, a.TenantID)
	fmt.Fprintf(&b, "About:   %s\n", a.Subject)
	fmt.Fprintf(&b, "Alert:   %s\n", a.Kind)
	fmt.Fprintf(&b, "Time:    %s\n", a.Time.UTC().Format(time.RFC3339))
	if a.Code != "" {
		fmt.Fprintf(&b, "Code:    %s\n", a.Code)
	}
	if a.Repeats > 0 {
		fmt.Fprintf(&b, "Repeats: %d more like this since the previous alert (repeats are sent at most once per window)\n", a.Repeats)
	}
	if len(a.Figures) > 0 {
		b.WriteString("\nWhat Tollgate saw:\n")
		for _, f := range a.Figures {
			fmt.Fprintf(&b, "  %s: %s\n", f.Name, f.Value)
		}
	}
	if base := strings.TrimSuffix(e.HelpURL, "/"); base != "" {
		if a.Code != "" {
			fmt.Fprintf(&b, "\nWhat this means and how to fix it: %s/ndr/%s\n", base, a.Code)
		} else {
			fmt.Fprintf(&b, "\nSee the details in the console: %s/\n", base)
		}
	}
	b.WriteString("\n-- \nSent automatically by Tollgate; replies are not read.\n")
	return b.String()
}

// oneLine keeps header text on one line whatever a tenant named things.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
