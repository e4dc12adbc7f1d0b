package alert

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// parsed is one submitted message as a receiving MTA would see it.
type parsed struct {
	from    string
	to      []string
	header  mail.Header
	subject string
	body    string
}

// parsingSubmitter parses every message with net/mail, as the queue's
// reader and the recipient's client would, and keeps the result.
type parsingSubmitter struct {
	t    *testing.T
	mu   sync.Mutex
	msgs []parsed
	fail error
}

func (s *parsingSubmitter) Submit(_ context.Context, from string, to []string, msg []byte) error {
	if s.fail != nil {
		return s.fail
	}
	if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) {
		s.t.Errorf("message has a bare LF:\n%s", msg)
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		s.t.Errorf("parse message: %v\n%s", err, msg)
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		s.t.Errorf("decode subject: %v", err)
	}
	if m.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		s.t.Errorf("transfer encoding %q", m.Header.Get("Content-Transfer-Encoding"))
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		s.t.Errorf("decode body: %v", err)
	}
	s.mu.Lock()
	s.msgs = append(s.msgs, parsed{from, to, m.Header, subject, strings.ReplaceAll(string(body), "\r\n", "\n")})
	s.mu.Unlock()
	return nil
}

func testEmail(t *testing.T, sub *parsingSubmitter, admins map[int64][]string) *Email {
	t.Helper()
	e, err := NewEmail("alerts@gw.example", []string{"noc@provider.example", "NOC@provider.example"},
		func(_ context.Context, id int64) ([]string, error) {
			if id == 666 {
				return nil, errors.New("directory unavailable")
			}
			return admins[id], nil
		}, sub, "https://gw.example/")
	if err != nil {
		t.Fatal(err)
	}
	e.Clock = func() time.Time { return time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC) }
	return e
}

// Tenant admins and operators each get a well-formed message: the headers a
// mail client needs, Auto-Submitted, the figures, the help link; the
// tenant's name, however odd, cannot add header fields.
func TestEmailMessages(t *testing.T) {
	sub := &parsingSubmitter{t: t}
	e := testEmail(t, sub, map[int64][]string{7: {"admin@acme.example", "Boss <boss@acme.example>", "not an address", "ADMIN@acme.example"}})
	a := Alert{ID: "a1b2", Kind: UserRestricted, TenantID: 7, Tenant: "Müller GmbH\r\nBcc: evil@attacker.example",
		Subject: "alice@acme.example", Text: "alice@acme.example was restricted from sending after 40 spam messages in an hour.",
		Code: "5.1.8", Repeats: 3, Time: time.Date(2026, 11, 2, 9, 29, 0, 0, time.UTC),
		Figures: []policy.Figure{{Name: "spam_hour", Value: "40"}, {Name: "threshold", Value: "25"}}}
	if err := e.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if len(sub.msgs) != 2 {
		t.Fatalf("%d messages, want one to the admins and one to the operators", len(sub.msgs))
	}
	admins, ops := sub.msgs[0], sub.msgs[1]
	if strings.Join(admins.to, " ") != "admin@acme.example boss@acme.example" || strings.Join(ops.to, " ") != "noc@provider.example" {
		t.Errorf("recipients: admins %v, operators %v", admins.to, ops.to)
	}
	for _, m := range []parsed{admins, ops} {
		h := m.header
		if m.from != "alerts@gw.example" {
			t.Errorf("envelope from %q", m.from)
		}
		if d, err := h.Date(); err != nil || !d.Equal(time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)) {
			t.Errorf("Date %q: %v", h.Get("Date"), err)
		}
		if f, err := mail.ParseAddress(h.Get("From")); err != nil || f.Address != "alerts@gw.example" {
			t.Errorf("From %q: %v", h.Get("From"), err)
		}
		to, err := h.AddressList("To")
		if err != nil || len(to) != len(m.to) {
			t.Errorf("To %q: %v", h.Get("To"), err)
		}
		if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<alert.a1b2.") || !strings.HasSuffix(id, "@gw.example>") {
			t.Errorf("Message-ID %q", id)
		}
		if h.Get("Auto-Submitted") != "auto-generated" || h.Get("Bcc") != "" || h.Get("MIME-Version") != "1.0" {
			t.Errorf("headers: %v", h)
		}
		for _, want := range []string{a.Text, "Tenant:  Müller GmbH", "alice@acme.example", "spam_hour: 40", "threshold: 25",
			"Repeats: 3", "https://gw.example/ndr/5.1.8", "2026-11-02T09:29:00Z"} {
			if !strings.Contains(m.body, want) {
				t.Errorf("body lacks %q:\n%s", want, m.body)
			}
		}
	}
	if admins.header.Get("Message-ID") == ops.header.Get("Message-ID") {
		t.Error("two messages share a Message-ID")
	}
	if admins.subject != "[Tollgate] User restricted from sending: alice@acme.example" {
		t.Errorf("admin subject %q", admins.subject)
	}
	if ops.subject != "[Tollgate] User restricted from sending: alice@acme.example (tenant Müller GmbH Bcc: evil@attacker.example)" {
		t.Errorf("operator subject %q", ops.subject)
	}
}

// When the tenant's admins cannot be looked up the operators are still
// told, and the error says why the admins were not; a submit failure is an
// error for the notifier to count.
func TestEmailFailures(t *testing.T) {
	sub := &parsingSubmitter{t: t}
	e := testEmail(t, sub, nil)
	err := e.Send(context.Background(), Alert{ID: "x", Kind: TenantBlocked, TenantID: 666, Tenant: "evil", Subject: "evil", Text: "blocked"})
	if err == nil || !strings.Contains(err.Error(), "directory unavailable") || len(sub.msgs) != 1 || sub.msgs[0].to[0] != "noc@provider.example" {
		t.Errorf("admin lookup failure: %v, %d messages", err, len(sub.msgs))
	}
	if !strings.Contains(sub.msgs[0].body, "See the details in the console: https://gw.example/") {
		t.Errorf("no link without a code:\n%s", sub.msgs[0].body)
	}
	sub.fail = errors.New("queue full")
	if err := e.Send(context.Background(), Alert{ID: "y", Kind: TenantBlocked, TenantID: 7}); err == nil || !strings.Contains(err.Error(), "queue full") {
		t.Errorf("submit failure: %v", err)
	}
	for _, c := range []struct {
		from string
		ops  []string
	}{{"Alerts <alerts@gw.example>", []string{"noc@x.example"}}, {"alerts@gw.example", []string{"not an address"}}, {"alerts@gw.example", nil}} {
		if _, err := NewEmail(c.from, c.ops, nil, sub, ""); err == nil {
			t.Errorf("NewEmail(%q, %q) accepted", c.from, c.ops)
		}
	}
}

// End to end: a notifier with both sinks delivers one alert to a real
// webhook receiver and as mail, and a flood of the same alert stays one.
func TestNotifierWithBothSinks(t *testing.T) {
	r := newReceiver(t)
	sub := &parsingSubmitter{t: t}
	em := testEmail(t, sub, map[int64][]string{7: {"admin@acme.example"}})
	n, err := NewNotifier(Config{}, testWebhook(t, r.srv.URL), em)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		n.Notify(Alert{Kind: ConnectorSuspicious, TenantID: 7, Tenant: "acme", Subject: "onprem-1", Text: "spam through connector onprem-1"})
	}
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := <-r.got; got.Subject != "onprem-1" || got.Kind != ConnectorSuspicious {
		t.Errorf("webhook got %+v", got)
	}
	if len(r.got) != 0 || len(sub.msgs) != 2 {
		t.Errorf("after 100 identical alerts: %d more webhook calls, %d mails (want 0 and 2)", len(r.got), len(sub.msgs))
	}
	if s := n.Stats(); s.Deduplicated != 99 || s.Sinks["webhook"].Sent != 1 || s.Sinks["email"].Sent != 1 {
		t.Errorf("stats %+v", s)
	}
}

// An admin address with a quoted local part goes to the queue quoted, in
// the envelope and in the To field: written bare, its '>' and space would
// end RCPT TO's path and add a NOTIFY= parameter at the next hop.
func TestEmailQuotedAddress(t *testing.T) {
	sub := &parsingSubmitter{t: t}
	e := testEmail(t, sub, map[int64][]string{7: {`"x> NOTIFY=NEVER"@acme.example`, "bad\x00@acme.example"}})
	if err := e.Send(context.Background(), Alert{ID: "q1", Kind: UserRestricted, TenantID: 7, Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	if len(sub.msgs) != 2 {
		t.Fatalf("%d messages", len(sub.msgs))
	}
	m := sub.msgs[0]
	if len(m.to) != 1 || m.to[0] != `"x> NOTIFY=NEVER"@acme.example` {
		t.Fatalf("envelope recipients %q", m.to)
	}
	if to, err := mail.ParseAddress(m.header.Get("To")); err != nil || to.Address != "x> NOTIFY=NEVER@acme.example" {
		t.Fatalf("To %q: %v", m.header.Get("To"), err)
	}
}
