package gateway_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
)

// AUTH is offered only after TLS, with PLAIN and LOGIN; both sign the user in
// and attribute the mail to the user's tenant.
func TestSubmissionAuth(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := start(t, testConfig(t, sink.Addr()), true)

	plain := dial(t, addr(g, "submission"))
	if ok, _ := plain.Extension("AUTH"); ok {
		t.Fatal("AUTH advertised before TLS")
	}
	if ok, _ := plain.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not advertised")
	}
	for _, ext := range []string{"SIZE", "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES", "SMTPUTF8", "DSN"} {
		if ok, _ := plain.Extension(ext); !ok {
			t.Errorf("EHLO does not advertise %s", ext)
		}
	}
	err := plain.Auth(sasl.NewPlainClient("", "user@demo.test", g.DevPassword))
	wantCode(t, err, 523, "5.7.10") // TLS is required

	tlsc := dialStartTLS(t, addr(g, "submission"))
	ok, mechs := tlsc.Extension("AUTH")
	if !ok || !strings.Contains(mechs, "PLAIN") || !strings.Contains(mechs, "LOGIN") {
		t.Fatalf("after STARTTLS AUTH must offer PLAIN and LOGIN, got %q", mechs)
	}
	if err := tlsc.Auth(sasl.NewPlainClient("", "user@demo.test", g.DevPassword)); err != nil {
		t.Fatalf("AUTH PLAIN: %v", err)
	}
	if err := send(tlsc, "user@demo.test", []string{"x@example.net"}, testMessage("plain", "via PLAIN")); err != nil {
		t.Fatal(err)
	}

	login := dialTLS(t, addr(g, "submissions"))
	if err := login.Auth(sasl.NewLoginClient("user@demo.test", g.DevPassword)); err != nil {
		t.Fatalf("AUTH LOGIN: %v", err)
	}
	if err := send(login, "user@demo.test", []string{"y@example.net"}, testMessage("login", "via LOGIN")); err != nil {
		t.Fatal(err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 2 }) {
		t.Fatalf("want 2 messages, sink has %d", sink.Count())
	}
	// RFC 3848's with-protocol, and RFC 8314 §4.4's TLS version and cipher
	// (as a comment and in the "tls" clause) in our Received header.
	rcvRE := regexp.MustCompile(`^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\t\(using TLSv1\.[23] with cipher (TLS_[A-Z0-9_]+)\)\r\n\tby \S+ \(Tollgate\) with ESMTPSA id \S+\r\n\tfor <[xy]@example\.net>\r\n\ttls (TLS_[A-Z0-9_]+);`)
	for _, m := range sink.Messages() {
		got := rcvRE.FindStringSubmatch(string(m.Data))
		if got == nil || got[1] != got[2] {
			t.Errorf("Received header should name the TLS version and cipher and say ESMTPSA: %.400q", m.Data)
		}
	}
}

// Bad passwords are refused; past the limit the client is disconnected, and
// the address stays refused on a new connection.
func TestAuthThrottling(t *testing.T) {
	g, _ := startSinkGateway(t, true, func(cfg *config.Config) {
		cfg.SMTP.AuthMaxFailures = 3
	})

	c := dialStartTLS(t, addr(g, "submission"))
	wantCode(t, c.Auth(sasl.NewPlainClient("", "user@demo.test", "wrong-1")), 535, "5.7.8")
	wantCode(t, c.Auth(sasl.NewLoginClient("user@demo.test", "wrong-2")), 535, "5.7.8")
	wantCode(t, c.Auth(sasl.NewPlainClient("", "nobody@demo.test", "wrong-3")), 421, "4.7.0")
	if err := c.Noop(); err == nil {
		t.Fatal("connection still open after the failure limit")
	}
	// A new connection from the same address: refused even with the right
	// password until the window passes.
	c2 := dialStartTLS(t, addr(g, "submission"))
	wantCode(t, c2.Auth(sasl.NewPlainClient("", "user@demo.test", g.DevPassword)), 421, "4.7.0")
}

// An account under attack is refused from every address, the right password
// included, until the window passes.
func TestAuthThrottlingPerAccount(t *testing.T) {
	g, _ := startSinkGateway(t, true, func(cfg *config.Config) {
		cfg.SMTP.AuthMaxFailures = 2
	})
	a := dialStartTLS(t, addr(g, "submission"))
	wantCode(t, a.Auth(sasl.NewPlainClient("", "user@demo.test", "wrong")), 535, "5.7.8")
	b := dialStartTLSFrom(t, "127.0.0.3", addr(g, "submission"))
	wantCode(t, b.Auth(sasl.NewPlainClient("", "user@demo.test", "wrong")), 535, "5.7.8")
	c := dialStartTLSFrom(t, "127.0.0.4", addr(g, "submission"))
	wantCode(t, c.Auth(sasl.NewPlainClient("", "user@demo.test", g.DevPassword)), 454, "4.7.0")
}
