package gateway_test

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/postfix"
)

// sendVia sends one message from source address src through an SMTP
// server and returns the first refusal (nil for 250 after DATA).
func sendVia(t *testing.T, src, server, from, to, msg string) error {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", server)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout = 30 * time.Second
	c.SubmissionTimeout = 30 * time.Second
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	return send(c, from, []string{to}, msg)
}

// TestRealPostfix runs Debian's Postfix in front of Tollgate, as an
// operator would: check_policy_service for the envelope checks and
// smtpd_milters for the content, both on loopback, relaying to a sink.
func TestRealPostfix(t *testing.T) {
	needPostfix(t)
	sink := startSink(t, devsink.Hooks{})
	cfg := postfixConfig(t, sink.Addr())
	// One counted spam with the evidence blocks its tenant (at the end of
	// DATA, through the milter).
	cfg.Policy.TenantSpamCount = 1
	// Two messages a minute per sender: a message counted twice (by the
	// policy service and again by the milter) would show as a 4.7.500.
	cfg.Policy.UserMessagesPerMinute = 2
	g := startWith(t, cfg, false, gateway.Options{Classifier: subjectClassifier})
	seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	spammy := seedTenantWithConnector(t, g, "spammy", "spammy.test", "127.0.0.4/32")
	// Proxies in front of the two services, so the test can take them
	// down under Postfix's feet.
	policy := startProxy(t, g.Addrs[string(postfix.PolicyListener)].String())
	milter := startProxy(t, g.Addrs[string(postfix.MilterListener)].String())
	pf := startPostfix(t, sink.Addr(),
		"smtpd_relay_restrictions = permit_mynetworks, reject",
		"smtpd_recipient_restrictions = check_policy_service { inet:"+policy.Addr()+", timeout=10s, default_action=DUNNO }",
		"smtpd_data_restrictions = check_policy_service { inet:"+policy.Addr()+", timeout=10s, default_action=DUNNO }",
		"smtpd_milters = inet:"+milter.Addr(),
		"milter_protocol = 6",
		"milter_default_action = tempfail",
	)
	help := g.Config.Admin.PublicURL

	// Clean mail passes, with the verdict field and the Feedback-ID.
	if err := sendVia(t, "127.0.0.2", pf.Addr, "ann@acme.test", "friend@example.net",
		msgFrom("ann@acme.test", "quarterly report")); err != nil {
		t.Fatalf("clean mail through Postfix: %v", err)
	}
	var got *devsink.Message
	if !sink.Wait(waitFor, func(ms []*devsink.Message) bool {
		for _, m := range ms {
			if m.Subject == "quarterly report" {
				got = m
				return true
			}
		}
		return false
	}) {
		t.Fatalf("clean mail did not reach the sink\n%s", pf.log())
	}
	if !bytes.Contains(got.Data, []byte(postfix.VerdictField+": clean; score=0.00; pool=normal")) {
		t.Errorf("no verdict field in the delivered message:\n%s", got.Data)
	}
	if !bytes.Contains(got.Data, []byte("Feedback-ID: ")) {
		t.Errorf("no Feedback-ID in the delivered message:\n%s", got.Data)
	}

	// Spam is refused at the end of DATA with Tollgate's reply (its
	// tenant crossed the threshold and is blocked now)...
	err := sendVia(t, "127.0.0.4", pf.Addr, "mallory@spammy.test", stranger(), msgFrom("mallory@spammy.test", "[spam] win big"))
	wantCode(t, err, 550, "5.7.705")
	if !strings.Contains(err.Error(), "see "+help+"/ndr/5.7.705") {
		t.Errorf("the refusal lacks the help link: %v", err)
	}
	if _, ok := g.Blocks.ActiveBlock(spammy.ID); !ok {
		t.Fatal("the spamming tenant is not blocked")
	}
	// ...and Postfix refuses the blocked tenant's next message at RCPT,
	// through the policy service.
	err = sendVia(t, "127.0.0.4", pf.Addr, "mallory@spammy.test", stranger(), msgFrom("mallory@spammy.test", "hello"))
	wantCode(t, err, 550, "5.7.705")
	if !strings.Contains(err.Error(), "see "+help+"/ndr/5.7.705") {
		t.Errorf("the refusal lacks the help link: %v", err)
	}
	// A client no tenant is attributed to: 5.7.64, never an open relay.
	err = sendVia(t, "127.0.0.5", pf.Addr, "x@nowhere.test", stranger(), msgFrom("x@nowhere.test", "hi"))
	wantCode(t, err, 550, "5.7.64")

	// The policy service down: default_action=DUNNO lets Postfix go on,
	// and the milter runs the envelope checks itself: the blocked tenant
	// is still refused (at the end of DATA now)...
	policy.stop()
	err = sendVia(t, "127.0.0.4", pf.Addr, "mallory@spammy.test", stranger(), msgFrom("mallory@spammy.test", "hello again"))
	wantCode(t, err, 550, "5.7.705")
	// ...and other mail is classified and marked (ann's second message
	// this minute: her first was counted once).
	if err := sendVia(t, "127.0.0.2", pf.Addr, "ann@acme.test", "friend@example.net",
		msgFrom("ann@acme.test", "while the policy service is down")); err != nil {
		t.Fatalf("with the policy service down and default_action=DUNNO: %v", err)
	}
	if !sink.Wait(waitFor, func(ms []*devsink.Message) bool {
		for _, m := range ms {
			if m.Subject == "while the policy service is down" && bytes.Contains(m.Data, []byte(postfix.VerdictField+": clean")) {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("mail sent while the policy service was down did not arrive marked\n%s", pf.log())
	}
	// Her third this minute is over the limit, counted by the milter.
	err = sendVia(t, "127.0.0.2", pf.Addr, "ann@acme.test", "friend@example.net", msgFrom("ann@acme.test", "third"))
	wantCode(t, err, 451, "4.7.500")
	// Tollgate down altogether: milter_default_action=tempfail keeps the
	// message with the client (4.7.1), so nothing passes unchecked.
	milter.stop()
	err = sendVia(t, "127.0.0.2", pf.Addr, "ann@acme.test", "friend@example.net",
		msgFrom("ann@acme.test", "while Tollgate is down"))
	se, ok := err.(*smtp.SMTPError)
	if !ok || se.Code != 451 || se.EnhancedCode != (smtp.EnhancedCode{4, 7, 1}) {
		t.Fatalf("with Tollgate down and milter_default_action=tempfail: %v, want 451 4.7.1", err)
	}
}
