package gateway_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/trace"
)

// spoofWorld is a gateway with two tenants: alpha (a.example: a user with
// an app password, an IP connector for 127.0.0.2 and a certificate
// connector for *.a.example) and bravo (b.example, IP connector 127.0.0.3).
type spoofWorld struct {
	g            *gateway.Gateway
	sink         *devsink.Sink
	alpha, bravo directory.Tenant
	alice        directory.User
	appPw        string
	cert         tls.Certificate
}

func newSpoofWorld(t *testing.T) *spoofWorld {
	t.Helper()
	w := &spoofWorld{sink: startSink(t, devsink.Hooks{})}
	ca := newCA(t)
	cfg := testConfig(t, w.sink.Addr())
	cfg.TLS.ClientCAFile = ca.file(t)
	w.g = start(t, cfg, false)
	ctx := context.Background()
	w.alpha = seedTenantWithConnector(t, w.g, "alpha", "a.example", "127.0.0.2/32")
	w.bravo = seedTenantWithConnector(t, w.g, "bravo-secret-name", "b.example", "127.0.0.3/32")
	if _, err := w.g.Directory.CreateCertConnector(ctx, directory.By{Actor: "test"}, w.alpha.ID, "mx", "*.a.example"); err != nil {
		t.Fatal(err)
	}
	w.cert = clientCert(t, ca, "mx.a.example")
	var err error
	if w.alice, err = w.g.Directory.CreateUser(ctx, directory.By{}, w.alpha.ID, "alice@a.example", "alice password 1"); err != nil {
		t.Fatal(err)
	}
	if _, w.appPw, err = w.g.Directory.CreateAppPassword(ctx, directory.By{}, w.alice.ID, "phone"); err != nil {
		t.Fatal(err)
	}
	return w
}

// path is one way into the gateway, connected and attributed.
type path struct {
	name string
	dial func(t *testing.T) *smtp.Client
}

func (w *spoofWorld) paths() []path {
	auth := func(pw string) func(t *testing.T) *smtp.Client {
		return func(t *testing.T) *smtp.Client {
			c := dialStartTLS(t, addr(w.g, "submission"))
			if err := c.Auth(sasl.NewPlainClient("", "alice@a.example", pw)); err != nil {
				t.Fatalf("auth: %v", err)
			}
			return c
		}
	}
	return []path{
		{"auth", auth("alice password 1")},
		{"app password", auth(w.appPw)},
		{"ip connector", func(t *testing.T) *smtp.Client { return dialStartTLSFrom(t, "127.0.0.2", addr(w.g, "relay")) }},
		{"certificate connector", func(t *testing.T) *smtp.Client { return dialWithCert(t, addr(w.g, "relay"), &w.cert) }},
	}
}

func spoofMsg(from, sender, subject string) string {
	h := "From: " + from + "\r\n"
	if sender != "" {
		h += "Sender: " + sender + "\r\n"
	}
	return h + "To: someone@example.net\r\nSubject: " + subject + "\r\n\r\nHello.\r\n"
}

// Issue 10, item 2: a tenant sending as another tenant's verified domain,
// in the envelope or in the From or Sender field, is refused with
// 5.7.751 on every path (a user's password, an app password, an IP
// connector, a certificate connector, which is exempt from the
// unregistered allowance but not from this); its own domains and
// unregistered domains behave as before, and the owner sends as its own.
func TestOtherTenantsDomainRefused(t *testing.T) {
	w := newSpoofWorld(t)
	delivered := 0
	for _, p := range w.paths() {
		t.Run(p.name, func(t *testing.T) {
			for _, from := range []string{"ceo@b.example", "CEO@B.Example", "ceo@mail.b.example"} {
				c := p.dial(t)
				wantCode(t, c.Mail(from, nil), 550, "5.7.751")
				c.Close()
			}
			for _, m := range []struct{ from, sender string }{
				{"CEO <ceo@b.example>", ""},
				{"alice@a.example, ceo@b.example", ""},
				{"alice@a.example", "ceo@b.example"},
			} {
				c := p.dial(t)
				wantCode(t, send(c, "alice@a.example", []string{"someone@example.net"}, spoofMsg(m.from, m.sender, "spoof")), 550, "5.7.751")
				c.Close()
			}
			for _, from := range []string{"alice@a.example", "news@unregistered.test"} {
				c := p.dial(t)
				if err := send(c, from, []string{"someone@example.net"}, spoofMsg(from, "", "fine "+p.name)); err != nil {
					t.Fatalf("%s from %s: %v", p.name, from, err)
				}
				c.Close()
				delivered++
			}
			// A display name that looks like an address is not a sender domain.
			c := p.dial(t)
			if err := send(c, "alice@a.example", []string{"someone@example.net"}, spoofMsg(`"ceo@b.example" <alice@a.example>`, "", "display "+p.name)); err != nil {
				t.Fatalf("display name: %v", err)
			}
			c.Close()
			delivered++
		})
	}
	// The owner sends as its domain as always.
	if err := relayFrom(t, w.g, "127.0.0.3", "ceo@b.example", "the real ceo"); err != nil {
		t.Fatalf("the owner refused its own domain: %v", err)
	}
	delivered++
	if !w.sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == delivered }) {
		t.Fatalf("sink has %d messages, want %d", w.sink.Count(), delivered)
	}
	for _, m := range w.sink.Messages() {
		if strings.Contains(strings.ToLower(m.From), "b.example") && !strings.Contains(string(m.Data), "the real ceo") {
			t.Fatalf("a spoofed message was delivered: %s %.200q", m.From, m.Data)
		}
	}

	// The refusal is in alpha's trace with its figures, and names no
	// other tenant; the refusal sent to the client does not either.
	tok := tenantToken(t, w.g, w.alpha.ID)
	var tr struct{ Messages []trace.Summary }
	waitUntil(t, "the refusals in the trace", func() bool {
		apiCall(t, w.g, tok, "GET", "/api/v1/trace?sender=ceo@b.example", nil, &tr)
		return len(tr.Messages) >= 4
	})
	var one struct{ Events []trace.Entry }
	apiCall(t, w.g, tok, "GET", "/api/v1/trace/"+tr.Messages[0].ID, nil, &one)
	var found bool
	for _, e := range one.Events {
		for k, v := range e.Attrs {
			if strings.Contains(v, "bravo") {
				t.Fatalf("trace names the owning tenant: %s=%s", k, v)
			}
		}
		if e.Rule == "foreign-tenant-domain" {
			found = true
			if e.Attrs["verified_domain"] != "b.example" || e.Attrs["checked"] != "envelope" || e.Attrs["tenant"] != "alpha" ||
				!strings.Contains(e.Detail, "550 5.7.751") {
				t.Fatalf("refusal event: %+v", e)
			}
		}
	}
	if !found {
		t.Fatalf("no foreign-tenant-domain event in %+v", one.Events)
	}
	c := w.paths()[0].dial(t)
	err := c.Mail("ceo@b.example", nil)
	if se, ok := err.(*smtp.SMTPError); !ok || strings.Contains(se.Message, "bravo") || !strings.Contains(se.Message, "/ndr/5.7.751") {
		t.Fatalf("refusal %v", err)
	}
}

// With the tenant's sender binding on, a logged-in user sends only as its
// login and the aliases its admin set (both through the API, audited);
// another address of the same tenant is refused with 5.7.60 in the
// envelope and in From; connectors are not bound; turning the binding off
// lifts it.
func TestSenderBindingOverSMTP(t *testing.T) {
	w := newSpoofWorld(t)
	ctx := context.Background()
	if _, err := w.g.Directory.CreateUser(ctx, directory.By{}, w.alpha.ID, "bob@a.example", "bob password 12"); err != nil {
		t.Fatal(err)
	}
	tok := tenantToken(t, w.g, w.alpha.ID)
	base := fmt.Sprintf("/api/v1/tenants/%d", w.alpha.ID)
	var tn struct {
		SenderBinding string `json:"sender_binding"`
	}
	if st := apiCall(t, w.g, tok, "PUT", base+"/sender-binding", map[string]any{"mode": "strict"}, nil); st != 400 {
		t.Fatalf("bad mode: %d", st)
	}
	if st := apiCall(t, w.g, tok, "PUT", base+"/sender-binding", map[string]any{"mode": "login"}, &tn); st != 200 || tn.SenderBinding != "login" {
		t.Fatalf("set binding: %d %+v", st, tn)
	}
	if st := apiCall(t, w.g, tenantToken(t, w.g, w.bravo.ID), "PUT", base+"/sender-binding", map[string]any{"mode": "off"}, nil); st != 404 {
		t.Fatalf("another tenant's admin set alpha's binding: %d", st)
	}
	aliases := fmt.Sprintf("%s/users/%d/aliases", base, w.alice.ID)
	var al struct{ ID int64 }
	if st := apiCall(t, w.g, tok, "POST", aliases, map[string]any{"address": "Sales@a.example"}, &al); st != 201 {
		t.Fatalf("add alias: %d", st)
	}
	if st := apiCall(t, w.g, tok, "POST", aliases, map[string]any{"address": "ceo@b.example"}, nil); st != 400 {
		t.Fatalf("alias in another tenant's domain: %d", st)
	}
	if st := apiCall(t, w.g, tenantToken(t, w.g, w.bravo.ID), "POST", aliases, map[string]any{"address": "x@a.example"}, nil); st != 404 {
		t.Fatalf("another tenant's admin added an alias to alpha's user: %d", st)
	}
	var list struct {
		Aliases []struct{ Address string }
	}
	if apiCall(t, w.g, tok, "GET", aliases, nil, &list); len(list.Aliases) != 1 || list.Aliases[0].Address != "sales@a.example" {
		t.Fatalf("aliases: %+v", list)
	}

	user := func(t *testing.T) *smtp.Client { return w.paths()[0].dial(t) }
	for _, m := range []struct{ env, from string }{
		{"alice@a.example", "Alice <alice@a.example>"},
		{"sales@a.example", "Sales <sales@a.example>"},
		{"Alice@A.example", "alice@a.example"},
	} {
		c := user(t)
		if err := send(c, m.env, []string{"someone@example.net"}, spoofMsg(m.from, "", "bound ok")); err != nil {
			t.Fatalf("%s / %s: %v", m.env, m.from, err)
		}
		c.Close()
	}
	c := user(t)
	wantCode(t, c.Mail("bob@a.example", nil), 550, "5.7.60")
	c.Close()
	c = user(t)
	wantCode(t, send(c, "alice@a.example", []string{"someone@example.net"}, spoofMsg("Bob <bob@a.example>", "", "as bob")), 550, "5.7.60")
	c.Close()
	c = user(t)
	wantCode(t, send(c, "alice@a.example", []string{"someone@example.net"}, spoofMsg("alice@a.example", "bob@a.example", "as bob")), 550, "5.7.60")
	c.Close()
	c = user(t) // Resent-From is bound like From (the re-test, docs/security-retest.md)
	wantCode(t, send(c, "alice@a.example", []string{"someone@example.net"}, headerMsg("From: alice@a.example\r\nResent-From: bob@a.example\r\n", "resent as bob")), 550, "5.7.60")
	c.Close()
	// The cross-tenant refusal comes first: it tells the admin more.
	c = user(t)
	wantCode(t, c.Mail("ceo@b.example", nil), 550, "5.7.751")
	c.Close()
	// Connectors are not bound.
	if err := relayFrom(t, w.g, "127.0.0.2", "bob@a.example", "connector"); err != nil {
		t.Fatalf("connector: %v", err)
	}

	// Removing the alias and lifting the binding take effect at once.
	if st := apiCall(t, w.g, tok, "DELETE", fmt.Sprintf("%s/%d", aliases, al.ID), nil, nil); st != 204 {
		t.Fatalf("remove alias: %d", st)
	}
	c = user(t)
	wantCode(t, c.Mail("sales@a.example", nil), 550, "5.7.60")
	c.Close()
	if st := apiCall(t, w.g, tok, "PUT", base+"/sender-binding", map[string]any{"mode": "off"}, &tn); st != 200 || tn.SenderBinding != "off" {
		t.Fatalf("binding off: %d %+v", st, tn)
	}
	c = user(t)
	if err := send(c, "bob@a.example", []string{"someone@example.net"}, spoofMsg("bob@a.example", "", "unbound")); err != nil {
		t.Fatalf("binding off: %v", err)
	}
	c.Close()
	if !w.sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 5 }) {
		t.Fatalf("sink has %d messages, want 5", w.sink.Count())
	}

	entries, err := w.g.Audit.Query(ctx, auditFilter(w.alpha.ID))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range entries {
		counts[e.Action]++
	}
	if counts["tenant.sender_binding"] != 2 || counts["user.alias.add"] != 1 || counts["user.alias.remove"] != 1 {
		t.Fatalf("audit: %v", counts)
	}
}
