package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/feedback"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/trace"
)

// feedbackSink answers like real mailbox providers: nobody@ is an unknown
// user (Gmail's 550 5.1.1), trap@ gets Gmail's multi-line spam refusal at
// RCPT, busy@ is rate-limited (421 4.7.28), everyone else is accepted.
func feedbackSink(t *testing.T) *devsink.Sink {
	return startSink(t, devsink.Hooks{Rcpt: func(rcpt string) error {
		switch strings.SplitN(rcpt, "@", 2)[0] {
		case "nobody":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
				Message: "5.1.1 The email account that you tried to reach does not exist. Please try\n5.1.1 double-checking the recipient's email address for typos or\n5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser a1si1 - gsmtp"}
		case "trap":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
				Message: "5.7.1 [127.0.0.1      12] Our system has detected that this message is\n5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\n5.7.1 this message has been blocked. https://support.google.com/mail/?p=UnsolicitedMessageError a1si1 - gsmtp"}
		case "busy":
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 28},
				Message: "4.7.28 Our system has detected an unusual rate of unsolicited mail originating\n4.7.28 from your IP address. To protect our users from spam, mail sent from your IP\n4.7.28 address has been temporarily rate limited. - gsmtp"}
		}
		return nil
	}})
}

// A tenant's mail is delivered to some, refused for others; its feedback
// counts each kind, on both counter stores, and the trace names the class.
func TestDeliveryFeedbackCounted(t *testing.T) {
	for _, store := range []string{"embedded", "redis"} {
		t.Run(store, func(t *testing.T) {
			sink := feedbackSink(t)
			cfg := testConfig(t, sink.Addr())
			cfg.Queue.RetrySchedule = []config.Duration{config.D(time.Hour)} // one attempt each
			if store == "redis" {
				needRedis(t)
				cfg.Counters.RedisURL = "redis://" + redisAddr + "/0"
				cfg.Counters.Prefix = fmt.Sprintf("tollgate-test:feedback:%d:", time.Now().UnixNano())
			}
			g := start(t, cfg, false)
			tn := seedTenantWithConnector(t, g, "shop", "shop.test", "127.0.0.2/32")
			other := seedTenantWithConnector(t, g, "other", "other.test", "127.0.0.3/32")

			cl := dialFrom(t, "127.0.0.2", addr(g, "relay"))
			rcpts := []string{"a@example.net", "b@example.net", "c@example.org", "nobody@example.net", "trap@example.net", "busy@example.net"}
			if err := send(cl, "shop@shop.test", rcpts, testMessage("receipt", "Your receipt")); err != nil {
				t.Fatal(err)
			}
			if err := send(cl, "shop@shop.test", []string{"nobody@example.org"}, testMessage("receipt 2", "Your receipt")); err != nil {
				t.Fatal(err)
			}
			want := policy.Feedback{Window: 24 * time.Hour, Delivered: 3, HardBounces: 2, SpamRefusals: 1, Deferrals: 1}
			var got policy.Feedback
			waitUntil(t, "the tenant's feedback shows every attempt", func() bool {
				var err error
				got, err = g.Feedback.TenantFeedback(context.Background(), tn.ID)
				if err != nil {
					t.Fatal(err)
				}
				return got == want
			})
			if o, _ := g.Feedback.TenantFeedback(context.Background(), other.ID); o != (policy.Feedback{Window: 24 * time.Hour}) {
				t.Fatalf("another tenant got counts: %+v", o)
			}
			// The delivered copy carries the Feedback-ID (the sink may
			// also hold the DSN of the second message, from <>).
			var copies []*devsink.Message
			for _, m := range sink.Messages() {
				if m.From == "shop@shop.test" {
					copies = append(copies, m)
				}
			}
			if len(copies) != 1 {
				t.Fatalf("sink got %d copies of the tenant's message", len(copies))
			}
			wantID := fmt.Sprintf("Feedback-ID: %d:connector:", tn.ID)
			if !bytes.Contains(copies[0].Data, []byte(wantID)) || !bytes.Contains(copies[0].Data, []byte(":tollgate\r\n")) {
				t.Fatalf("delivered copy has no %q:\n%s", wantID, copies[0].Data)
			}
			// The trace names each recipient's class.
			if err := g.Trace.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			found, err := g.Trace.Search(context.Background(), trace.Query{TenantID: tn.ID, Recipient: "trap@example.net"})
			if err != nil || len(found) == 0 {
				t.Fatalf("trace search: %v %v", found, err)
			}
			_, entries, err := g.Trace.Message(context.Background(), found[0].ID, tn.ID)
			if err != nil {
				t.Fatal(err)
			}
			classes := map[string]string{}
			for _, e := range entries {
				if c := e.Attrs["class"]; c != "" {
					classes[e.Rcpt] = c
				}
			}
			for rcpt, c := range map[string]string{"a@example.net": "delivered", "nobody@example.net": "hard-bounce",
				"trap@example.net": "spam-refusal", "busy@example.net": "rate-limited"} {
				if classes[rcpt] != c {
					t.Errorf("trace class of %s = %q, want %q (all: %v)", rcpt, classes[rcpt], c, classes)
				}
			}
		})
	}
}

// arfFor wraps an original message (the delivered copy, or its header) in
// an ARF abuse report as a mailbox provider's feedback loop sends it.
func arfFor(original []byte, feedbackType string) string {
	return "From: <fbl@provider.example>\r\n" +
		"To: <fbl@gw.test>\r\n" +
		"Subject: Abuse report\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"arf\"\r\n\r\n" +
		"--arf\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n" +
		"--arf\r\nContent-Type: message/feedback-report\r\n\r\n" +
		"Feedback-Type: " + feedbackType + "\r\nUser-Agent: TestFBL/1.0\r\nVersion: 1\r\n" +
		"Original-Mail-From: <shop@shop.test>\r\nOriginal-Rcpt-To: <a@example.net>\r\n" +
		"Arrival-Date: Thu, 3 Dec 2026 08:00:00 +0000\r\nSource-IP: 127.0.0.1\r\n" +
		"--arf\r\nContent-Type: message/rfc822\r\n\r\n" + string(original) + "\r\n--arf--\r\n"
}

// sendReport sends raw over SMTP from src to the feedback address only and
// returns the final reply (go-smtp's client hides a 250's text).
func sendReport(t *testing.T, g *gateway.Gateway, src, raw string) string {
	t.Helper()
	rc := dialRawNoGreetingFrom(t, src, addr(g, "relay"))
	rc.expect("220")
	rc.write("EHLO fbl.provider.example\r\n")
	rc.expect("250")
	rc.write("MAIL FROM:<fbl-sender@provider.example>\r\n")
	rc.expect("250")
	rc.write("RCPT TO:<FBL@gw.test>\r\n")
	rc.expect("250")
	rc.write("DATA\r\n")
	rc.expect("354")
	rc.write(strings.ReplaceAll(raw, "\r\n.", "\r\n..") + "\r\n.\r\n")
	reply := rc.expect("250")
	rc.write("QUIT\r\n")
	return reply
}

func postReport(t *testing.T, g *gateway.Gateway, raw string) (int, feedback.Outcome) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr(g, "admin")+"/api/v1/feedback/arf", strings.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+g.AdminToken)
	req.Header.Set("Content-Type", "message/rfc822")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out feedback.Outcome
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &out)
	if resp.StatusCode != 200 {
		t.Logf("POST /api/v1/feedback/arf: %d %s", resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

func complaints(t *testing.T, g *gateway.Gateway, tn directory.Tenant) int64 {
	t.Helper()
	f, err := g.Feedback.TenantFeedback(context.Background(), tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	return f.Complaints
}

// An ARF report for a relayed message, sent to the feedback address over
// SMTP by an unattributed client and posted to the API, counts one
// complaint each for the tenant that sent it; a report naming no tenant of
// ours counts nothing; the feedback address never opens the relay.
func TestARFComplaints(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	cfg.Feedback.Address = "fbl@gw.test"
	g := start(t, cfg, false)
	tn := seedTenantWithConnector(t, g, "shop", "shop.test", "127.0.0.2/32")
	other := seedTenantWithConnector(t, g, "other", "other.test", "127.0.0.3/32")

	cl := dialFrom(t, "127.0.0.2", addr(g, "relay"))
	msg := "From: shop@shop.test\r\nTo: a@example.net\r\nSubject: offer\r\nMessage-ID: <offer-1@shop.test>\r\n\r\nBuy.\r\n"
	if err := send(cl, "shop@shop.test", []string{"a@example.net"}, msg); err != nil {
		t.Fatal(err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatal("message not delivered")
	}
	delivered := sink.Messages()[0].Data
	waitQueueEmpty(t, g)
	if err := g.Trace.Flush(context.Background()); err != nil { // the Message-ID lookups read it
		t.Fatal(err)
	}

	// Over SMTP, from a client no tenant owns (127.0.0.1).
	if reply := sendReport(t, g, "127.0.0.1", arfFor(delivered, "abuse")); !strings.Contains(reply, "complaint counted") {
		t.Fatalf("SMTP reply %q", reply)
	}
	if n := complaints(t, g, tn); n != 1 {
		t.Fatalf("complaints after the SMTP report: %d, want 1", n)
	}
	// Over the API.
	status, out := postReport(t, g, arfFor(delivered, "abuse"))
	if status != 200 || !out.Counted || out.TenantID != tn.ID || out.MatchedBy != "feedback-id" || out.Recipient != "a@example.net" || out.QueueID == "" {
		t.Fatalf("API: %d %+v", status, out)
	}
	if n := complaints(t, g, tn); n != 2 {
		t.Fatalf("complaints after the API report: %d, want 2", n)
	}
	// Without our Feedback-ID, the Message-ID in the trace finds it.
	headerOnly := []byte("From: shop@shop.test\r\nMessage-ID: <offer-1@shop.test>\r\nSubject: offer\r\n")
	if status, out := postReport(t, g, arfFor(headerOnly, "abuse")); status != 200 || !out.Counted || out.MatchedBy != "message-id" || out.TenantID != tn.ID {
		t.Fatalf("Message-ID fallback: %d %+v", status, out)
	}
	if n := complaints(t, g, tn); n != 3 {
		t.Fatalf("complaints after the Message-ID report: %d, want 3", n)
	}

	// Unknown Feedback-ID (no such tenant), a forged tag, a foreign one, a not-spam
	// report: nothing counted, on either path.
	unknown := []byte("Feedback-ID: 999999:connector:gw.test:tollgate\r\nMessage-ID: <nobody-knows@x>\r\nSubject: x\r\n")
	// The tenant's real number without this installation's tag: a forged
	// report trying to push the tenant towards a pause.
	forged := []byte(fmt.Sprintf("Feedback-ID: %d:connector:0123456789abcdef:tollgate\r\nMessage-ID: <forged@x>\r\nSubject: x\r\n", tn.ID))
	foreign := []byte("Feedback-ID: 1:campaign:esp:someone-else\r\nMessage-ID: <other@x>\r\n")
	for name, raw := range map[string]string{"unknown": arfFor(unknown, "abuse"), "forged": arfFor(forged, "abuse"), "foreign": arfFor(foreign, "abuse"), "not-spam": arfFor(delivered, "not-spam")} {
		if reply := sendReport(t, g, "127.0.0.1", raw); !strings.Contains(reply, "nothing counted") {
			t.Fatalf("%s over SMTP: reply %q", name, reply)
		}
		if status, out := postReport(t, g, raw); status != 200 || out.Counted {
			t.Fatalf("%s over the API: %d %+v", name, status, out)
		}
	}
	if n := complaints(t, g, tn); n != 3 {
		t.Fatalf("complaints after unmatched reports: %d, want 3", n)
	}
	if n := complaints(t, g, other); n != 0 {
		t.Fatalf("the other tenant has %d complaints", n)
	}
	// Not a report at all: 250 over SMTP (logged), 400 over the API.
	if reply := sendReport(t, g, "127.0.0.1", "Subject: please confirm your feedback loop\r\n\r\nhttps://provider.example/confirm\r\n"); !strings.Contains(reply, "not an ARF") {
		t.Fatalf("plain mail to the feedback address: %q", reply)
	}
	if status, _ := postReport(t, g, "Subject: hi\r\n\r\nhello\r\n"); status != 400 {
		t.Fatalf("API took plain mail: %d", status)
	}
	// Without the operator token the API refuses.
	req, _ := http.NewRequest("POST", "http://"+addr(g, "admin")+"/api/v1/feedback/arf", strings.NewReader(arfFor(delivered, "abuse")))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("no token: %v %v", resp, err)
	}

	// Never an open relay: beside the feedback address, an unattributed
	// client's other recipients are refused with 5.7.64, before and after.
	c := dialFrom(t, "127.0.0.1", addr(g, "relay"))
	if err := c.Mail("spammer@evil.example", nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.Rcpt("victim1@example.org", nil), 550, "5.7.64")
	if err := c.Rcpt("fbl@gw.test", nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.Rcpt("victim2@example.org", nil), 550, "5.7.64")
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "From: spammer@evil.example\r\nTo: victim2@example.org\r\nSubject: buy\r\n\r\nbuy\r\n")
	if err := w.Close(); err != nil && !strings.Contains(err.Error(), "not an ARF") {
		t.Fatalf("DATA: %v", err)
	}
	// A tenant's own client is told to send a report on its own.
	tc := dialFrom(t, "127.0.0.2", addr(g, "relay"))
	if err := tc.Mail("shop@shop.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := tc.Rcpt("b@example.net", nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tc.Rcpt("fbl@gw.test", nil), 452, "4.5.3")
	tc.Reset()
	// Submission ports do not take reports unauthenticated either.
	sc := dialStartTLS(t, addr(g, "submission"))
	wantCode(t, sc.Mail("x@provider.example", nil), 530, "5.7.57")

	// Nothing reached anyone but a@example.net's one message.
	waitQueueEmpty(t, g)
	if n := sink.Count(); n != 1 {
		for _, m := range sink.Messages() {
			t.Logf("sink: %v %s", m.To, m.Subject)
		}
		t.Fatalf("sink got %d messages, want 1", n)
	}
}

// TestFeedbackReportLimits: an oversize report is refused with 5.3.4, and a
// source over feedback.reports_per_hour gets 4.7.0.
func TestFeedbackReportLimits(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	cfg.Feedback.Address = "fbl@gw.test"
	cfg.Feedback.MaxReportBytes = 4096
	cfg.Feedback.ReportsPerHour = 2
	g := start(t, cfg, false)

	c := dialFrom(t, "127.0.0.1", addr(g, "relay"))
	c.Mail("fbl@provider.example", nil)
	if err := c.Rcpt("fbl@gw.test", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Subject: big\r\n\r\n"+strings.Repeat("x", 80)+"\r\n")
	for range 100 {
		io.WriteString(w, strings.Repeat("y", 78)+"\r\n")
	}
	wantCode(t, w.Close(), 552, "5.3.4")
	// The second report of the hour is allowed, the third is not.
	c.Mail("fbl@provider.example", nil)
	if err := c.Rcpt("fbl@gw.test", nil); err != nil {
		t.Fatal(err)
	}
	c.Reset()
	c.Mail("fbl@provider.example", nil)
	wantCode(t, c.Rcpt("fbl@gw.test", nil), 451, "4.7.0")
}

// arfTo is an abuse report about original that names rcpt as the
// complaining recipient ("" for a report that redacts it).
func arfTo(original []byte, rcpt string) string {
	r := arfFor(original, "abuse")
	if rcpt == "" {
		return strings.Replace(r, "Original-Rcpt-To: <a@example.net>\r\n", "", 1)
	}
	return strings.Replace(r, "<a@example.net>", "<"+rcpt+">", 1)
}

// The Message-ID fallback cannot be turned against another tenant: a
// report without our Feedback-ID counts only for the one tenant whose
// relayed mail carried that Message-ID, and only when the reported
// recipient got that message. A tenant that copies another's Message-ID
// into its own mail makes the Message-ID say nothing about either; a
// made-up report naming a recipient the message never went to, or none,
// counts nothing.
func TestFeedbackMessageIDSpoofing(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	g := start(t, cfg, false)
	victim := seedTenantWithConnector(t, g, "victim", "victim.test", "127.0.0.2/32")
	forger := seedTenantWithConnector(t, g, "forger", "forger.test", "127.0.0.3/32")
	relay := func(src, from, to, msgID string) {
		t.Helper()
		cl := dialFrom(t, src, addr(g, "relay"))
		msg := "From: " + from + "\r\nTo: " + to + "\r\nSubject: hello\r\nMessage-ID: " + msgID + "\r\n\r\nHello.\r\n"
		if err := send(cl, from, []string{to}, msg); err != nil {
			t.Fatal(err)
		}
	}
	relay("127.0.0.2", "news@victim.test", "alice@example.net", "<v-1@victim.test>")
	relay("127.0.0.2", "news@victim.test", "bob@example.net", "<v-2@victim.test>")
	// The forger relays its own mail under the victim's second Message-ID.
	relay("127.0.0.3", "promo@forger.test", "carol@example.net", "<v-2@victim.test>")
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 3 }) {
		t.Fatal("messages not delivered")
	}
	waitQueueEmpty(t, g)
	if err := g.Trace.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	original := func(msgID string) []byte {
		return []byte("From: x@victim.test\r\nMessage-ID: " + msgID + "\r\nSubject: hello\r\n")
	}
	for _, c := range []struct {
		name, msgID, rcpt, reason string
	}{
		{"copied message id", "<v-2@victim.test>", "carol@example.net", "more than one tenant"},
		{"copied message id, victim's recipient", "<v-2@victim.test>", "bob@example.net", "more than one tenant"},
		{"recipient it never went to", "<v-1@victim.test>", "mallory@example.net", "not sent to the reported recipient"},
		{"no recipient", "<v-1@victim.test>", "", "names no recipient"},
	} {
		status, out := postReport(t, g, arfTo(original(c.msgID), c.rcpt))
		if status != 200 || out.Counted || !strings.Contains(out.Reason, c.reason) {
			t.Errorf("%s: %d %+v, want nothing counted because %q", c.name, status, out, c.reason)
		}
	}
	if n, m := complaints(t, g, victim), complaints(t, g, forger); n != 0 || m != 0 {
		t.Fatalf("spoofed reports counted: victim %d, forger %d complaints", n, m)
	}
	// The real recipient of the victim's unshared Message-ID: one complaint.
	status, out := postReport(t, g, arfTo(original("<v-1@victim.test>"), "Alice@example.net"))
	if status != 200 || !out.Counted || out.TenantID != victim.ID || out.MatchedBy != "message-id" || out.QueueID == "" {
		t.Fatalf("genuine Message-ID report: %d %+v", status, out)
	}
	if n := complaints(t, g, victim); n != 1 {
		t.Fatalf("victim complaints %d, want 1", n)
	}
	// The tenant status shows it, to the tenant's own admin.
	var st struct {
		Feedback *struct {
			Complaints int64   `json:"complaints"`
			Rate       float64 `json:"complaint_rate"`
			Level      string  `json:"level"`
		} `json:"feedback"`
	}
	if code := apiCall(t, g, tenantToken(t, g, victim.ID), "GET", fmt.Sprintf("/api/v1/tenants/%d/status", victim.ID), nil, &st); code != 200 || st.Feedback == nil || st.Feedback.Complaints != 1 || st.Feedback.Level == "" {
		t.Fatalf("victim's status: %d %+v", code, st.Feedback)
	}
}
