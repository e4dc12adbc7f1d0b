package gateway_test

import (
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
)

// AUTH during a transaction is refused (RFC 4954): otherwise a client
// could pass MAIL FROM unattributed on the relay port and take a blocked
// tenant's identity afterwards, skipping every check made at MAIL.
func TestAuthAfterMailRefused(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := startWith(t, protectConfig(t, sink.Addr()), false, gateway.Options{Classifier: subjectClassifier})
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "")
	if _, err := g.Directory.CreateUser(t.Context(), directory.By{}, acme.ID, "ann@acme.test", "ann's password 1"); err != nil {
		t.Fatal(err)
	}
	c := dialStartTLSFrom(t, "127.0.0.50", addr(g, "relay"))
	if err := c.Mail("ann@acme.test", nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.Auth(sasl.NewPlainClient("", "ann@acme.test", "ann's password 1")), 503, "5.5.1")
	wantCode(t, c.Rcpt("x@example.net", nil), 550, "5.7.64")
}

// The unregistered-domain count is per transaction: after RSET (or a
// refused MAIL) the next foreign sender is counted again.
func TestUnregisteredCountedPerTransaction(t *testing.T) {
	g, _ := startProtected(t, func(cfg *config.Config) {
		cfg.Policy.UnregisteredPerDay = 1
	})
	seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	c := dialStartTLSFrom(t, "127.0.0.2", addr(g, "relay"))
	if err := send(c, "a@foreign-one.test", []string{"x@example.net"}, msgFrom("a@foreign-one.test", "one")); err != nil {
		t.Fatal(err)
	}
	wantCode(t, send(c, "b@foreign-two.test", []string{"x@example.net"}, msgFrom("b@foreign-two.test", "two")), 550, "5.7.750")
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	wantCode(t, send(c, "c@foreign-three.test", []string{"x@example.net"}, msgFrom("c@foreign-three.test", "three")), 550, "5.7.750")
}

// A second From field (RFC 5322 allows one) cannot hide a foreign sender
// behind one of the tenant's own.
func TestSecondFromFieldCounts(t *testing.T) {
	g, _ := startProtected(t, func(cfg *config.Config) {
		cfg.Policy.UnregisteredPerDay = 0
	})
	seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	c := dialStartTLSFrom(t, "127.0.0.2", addr(g, "relay"))
	msg := "From: ok@acme.test\r\nFrom: boss@foreign.test\r\nTo: x@example.net\r\nSubject: hi\r\n\r\nhello\r\n"
	wantCode(t, send(c, "ok@acme.test", []string{"x@example.net"}, msg), 550, "5.7.750")
}

// Connector mail with the null sender shares one set of per-sender
// limits ("<>") instead of escaping them, and a restricted user cannot
// send through the connector under <> with their own header From.
func TestNullSenderIsLimited(t *testing.T) {
	g, _ := startProtected(t, func(cfg *config.Config) {
		cfg.Policy.UserMessagesPerMinute = 2
	})
	seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	for range 2 {
		if err := relayFrom(t, g, "127.0.0.2", "", "bounce"); err != nil {
			t.Fatal(err)
		}
	}
	err := relayFrom(t, g, "127.0.0.2", "", "bounce")
	wantCode(t, err, 451, "4.7.500")
	if !strings.Contains(err.Error(), "451") {
		t.Fatal(err)
	}
}
