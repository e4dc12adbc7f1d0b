package protect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

func TestSenderDomains(t *testing.T) {
	for _, c := range []struct {
		addr string
		want []string
	}{
		{"ceo@b.example", []string{"b.example"}},
		{"ceo@B.Example.", []string{"b.example"}},
		{"ceo@b.example..", []string{"b.example"}},
		{"x@b.example@a.example", []string{"a.example"}}, // <"x@b.example"@a.example> unquoted
		{"ceo@bücher.example", []string{"xn--bcher-kva.example"}},
		{"ceo@BÜCHER.example", []string{"xn--bcher-kva.example"}},
		{"ceo@XN--BCHER-KVA.EXAMPLE", []string{"xn--bcher-kva.example"}},
		{"ceo@ｂ．example", []string{"b.example"}}, // full-width letter and dot
		{"ceo@straße.example", []string{"xn--strae-oqa.example", "strasse.example"}},
		{"ceo@[192.0.2.1]", nil},
		{"ceo@", nil},
		{"nodomain", nil},
	} {
		if got := senderDomains(c.addr); !slices.Equal(got, c.want) {
			t.Errorf("senderDomains(%q) = %q, want %q", c.addr, got, c.want)
		}
	}
}

// twoTenants is the fixture's acme (acme.test) and a second tenant whose
// name must never show in a refusal, owning b.example and bücher.example.
func twoTenants(t *testing.T) (*fixture, directory.Tenant) {
	f := newFixture(t, storetest.SQLite(t), memory(t), nil)
	ctx := context.Background()
	b, err := f.dir.CreateTenant(ctx, directory.By{}, "bravo-secret", directory.Licensed, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"b.example", "xn--bcher-kva.example"} {
		if _, err := f.dir.AddDomain(ctx, directory.By{}, b.ID, d); err != nil {
			t.Fatal(err)
		}
		if err := f.dir.MarkDomainVerified(ctx, directory.By{}, b.ID, d); err != nil {
			t.Fatal(err)
		}
	}
	return f, b
}

// The cross-tenant check refuses another tenant's verified domain and its
// subdomains in every form they can be written, in the envelope and in
// every From and Sender address, on every path, and never names the owner.
func TestForeignDomainCheck(t *testing.T) {
	f, b := twoTenants(t)
	c := ForeignDomainCheck{f.e}
	ctx := context.Background()
	methods := []policy.Attribution{
		{TenantID: f.tenant.ID, Tenant: "acme", UserID: 1, User: "a@acme.test", Method: "auth"},
		{TenantID: f.tenant.ID, Tenant: "acme", UserID: 1, User: "a@acme.test", AppPasswordID: 3, Method: "auth"},
		{TenantID: f.tenant.ID, Tenant: "acme", ConnectorID: 1, Connector: "main", Method: "connector-ip"},
		{TenantID: f.tenant.ID, Tenant: "acme", ConnectorID: 2, Connector: "mx", Method: "connector-cert"},
	}
	refused := []string{"ceo@b.example", "ceo@B.EXAMPLE.", "ceo@mail.b.example", "ceo@bücher.example",
		"ceo@xn--BCHER-kva.example", "ceo@ｂ．example"}
	allowed := []string{"a@acme.test", "x@b.example@acme.test", "ceo@notb.example", "ceo@b.example.net", "ceo@[192.0.2.1]"}
	noOwner := func(d policy.Decision) {
		t.Helper()
		for _, fg := range d.Figures {
			if strings.Contains(fg.Value, "bravo") || fg.Value == b.Name {
				t.Fatalf("refusal names the owner: %v", d)
			}
		}
	}
	for _, a := range methods {
		for _, from := range refused {
			env := &policy.Envelope{Attribution: a, From: from}
			d := c.Mail(ctx, env)
			mustCode(t, d, "5.7.751")
			noOwner(d)
		}
		for _, from := range allowed {
			mustOK(t, c.Mail(ctx, &policy.Envelope{Attribution: a, From: from}))
		}
		mustOK(t, c.Mail(ctx, &policy.Envelope{Attribution: a})) // MAIL FROM:<>
		env := &policy.Envelope{Attribution: a, From: "a@acme.test"}
		for _, m := range []policy.Message{
			{HeaderFrom: "CEO <ceo@b.example>"},
			{HeaderFrom: "a@acme.test, ceo@sub.b.example"},
			{HeaderFrom: "a@acme.test", HeaderSender: "ceo@b.example"},
			{HeaderFrom: "ceo@b.example <<"}, // does not parse: judged by the domains it names
			{HeaderFrom: "=?utf-8?q?CEO?= <ceo@bücher.example>"},
			{HeaderFrom: "a@acme.test", HeaderResentFrom: "ceo@b.example"},
			{HeaderFrom: "a@acme.test", HeaderResentSender: "Boss <boss@sub.b.example>"},
			{HeaderFrom: "ceo @ b.example"},                  // obsolete CFWS around '@'
			{HeaderFrom: "<ceo@(comment)b.example>"},         // a comment before the domain
			{HeaderFrom: "ceo@b (x) .example"},               // and inside it
			{HeaderFrom: "=?utf-8?b?Y2VvQGIuZXhhbXBsZQ==?="}, // the address as one encoded word
		} {
			d := c.Data(ctx, env, &m)
			mustCode(t, d, "5.7.751")
			noOwner(d)
		}
		for _, m := range []policy.Message{
			{HeaderFrom: "a@acme.test"},
			{HeaderFrom: `"ceo@b.example" <a@acme.test>`}, // a display name is not a sender domain
			{HeaderFrom: `"x@b.example"@acme.test`},
			{},
		} {
			mustOK(t, c.Data(ctx, env, &m))
		}
	}
	// The owner itself sends as its domains.
	own := &policy.Envelope{Attribution: policy.Attribution{TenantID: b.ID, Tenant: b.Name, Method: "connector-ip"}, From: "ceo@mail.b.example"}
	mustOK(t, c.Mail(ctx, own))
	mustOK(t, c.Data(ctx, own, &policy.Message{HeaderFrom: "ceo@b.example", HeaderSender: "x@bücher.example"}))
	// Unattributed mail is left to the attribution check (5.7.64 at RCPT).
	mustOK(t, c.Mail(ctx, &policy.Envelope{From: "ceo@b.example"}))

	d := c.Data(ctx, &policy.Envelope{Attribution: methods[0]}, &policy.Message{HeaderSender: "Boss <boss@b.example>"})
	want := map[string]string{"checked": "header Sender", "sender": "boss@b.example", "domain": "b.example", "verified_domain": "b.example"}
	for _, fg := range d.Figures {
		if w, ok := want[fg.Name]; ok && fg.Value != w {
			t.Errorf("figure %s = %q, want %q", fg.Name, fg.Value, w)
		}
		delete(want, fg.Name)
	}
	if len(want) > 0 {
		t.Errorf("figures %v lack %v", d.Figures, want)
	}
}

// With the binding on, a logged-in user sends only as its login and its
// aliases; connectors and tenants without the binding are not held.
func TestSenderBindingCheck(t *testing.T) {
	f, _ := twoTenants(t)
	ctx := context.Background()
	alice, err := f.dir.CreateUser(ctx, directory.By{}, f.tenant.ID, "alice@acme.test", "alice password 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.dir.AddAlias(ctx, directory.By{Actor: "test"}, f.tenant.ID, alice.ID, "sales@acme.test"); err != nil {
		t.Fatal(err)
	}
	c := SenderBindingCheck{f.e}
	user := policy.Attribution{TenantID: f.tenant.ID, Tenant: "acme", UserID: alice.ID, User: "alice@acme.test", Method: "auth"}
	conn := policy.Attribution{TenantID: f.tenant.ID, Tenant: "acme", ConnectorID: 1, Connector: "main", Method: "connector-ip"}

	// Off (the default): anything goes.
	mustOK(t, c.Mail(ctx, &policy.Envelope{Attribution: user, From: "bob@acme.test"}))
	if _, _, err := f.dir.SetSenderBinding(ctx, directory.By{}, f.tenant.ID, directory.BindingLogin); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{"alice@acme.test", "ALICE@Acme.Test", "alice@acme.test.", "sales@acme.test", ""} {
		mustOK(t, c.Mail(ctx, &policy.Envelope{Attribution: user, From: from}))
	}
	for _, from := range []string{"bob@acme.test", "alice@b.example", "alice@acme.test@acme.test", "alice+x@acme.test"} {
		mustCode(t, c.Mail(ctx, &policy.Envelope{Attribution: user, From: from}), "5.7.60")
	}
	mustOK(t, c.Mail(ctx, &policy.Envelope{Attribution: conn, From: "bob@acme.test"}))

	env := &policy.Envelope{Attribution: user, From: "alice@acme.test"}
	for _, m := range []policy.Message{
		{HeaderFrom: "Alice <alice@acme.test>"},
		{HeaderFrom: "Sales <sales@acme.test>", HeaderSender: "alice@acme.test"},
		{HeaderFrom: `"alice"@acme.test`},
		{},
	} {
		mustOK(t, c.Data(ctx, env, &m))
	}
	for _, m := range []policy.Message{
		{HeaderFrom: "Bob <bob@acme.test>"},
		{HeaderFrom: "alice@acme.test, bob@acme.test"},
		{HeaderFrom: "alice@acme.test", HeaderSender: "bob@acme.test"},
		{HeaderFrom: "alice@acme.test <<"},
	} {
		mustCode(t, c.Data(ctx, env, &m), "5.7.60")
	}
	mustOK(t, c.Data(ctx, &policy.Envelope{Attribution: conn, From: "x@acme.test"}, &policy.Message{HeaderFrom: "bob@acme.test"}))
}

// The cross-tenant check on the hot path, with 1,000 tenants' verified
// domains in the snapshot: an envelope sender and a From field with two
// addresses, judged by map probes.
func BenchmarkForeignDomainCheck(b *testing.B) {
	ctx := context.Background()
	dir, err := directory.Open(ctx, storetest.SQLite(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { dir.Close() })
	var acme directory.Tenant
	for i := range 1000 {
		tn, err := dir.CreateTenant(ctx, directory.By{}, fmt.Sprintf("t%d", i), directory.Licensed, 1)
		if err != nil {
			b.Fatal(err)
		}
		d := fmt.Sprintf("d%d.example", i)
		if _, err := dir.AddDomain(ctx, directory.By{}, tn.ID, d); err != nil {
			b.Fatal(err)
		}
		if err := dir.MarkDomainVerified(ctx, directory.By{}, tn.ID, d); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			acme = tn
		}
	}
	c := ForeignDomainCheck{&Engine{Tenants: dir}}
	env := &policy.Envelope{Attribution: policy.Attribution{TenantID: acme.ID, Tenant: "t0", UserID: 1, User: "a@d0.example", Method: "auth"},
		From: "a@mail.d0.example"}
	msg := &policy.Message{HeaderFrom: "Alice <a@d0.example>, news@unregistered.test"}
	b.ReportAllocs()
	for b.Loop() {
		if c.Mail(ctx, env).Action != policy.Accept || c.Data(ctx, env, msg).Action != policy.Accept {
			b.Fatal("refused")
		}
	}
}

// FuzzHeaderAddresses: whatever precedes it, an address a field names
// after a parse error is among the domains judged, and nothing panics.
func FuzzHeaderAddresses(f *testing.F) {
	for _, s := range []string{"", "a@acme.test", "ceo @ (x", `"q\`, "=?utf-8?b?Y2Vv", "(((", "a@b,c@d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, prefix string) {
		headerAddresses(prefix)
		addrs, ok := headerAddresses(prefix + " <ceo@b.example")
		if ok {
			return // Go's parser took it whole: its addresses are the answer
		}
		for _, a := range addrs {
			for _, d := range senderDomains(a) {
				if d == "b.example" {
					return
				}
			}
		}
		t.Fatalf("%q: b.example not among %q", prefix, addrs)
	})
}
