package feedback

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// sampleARF is a report in the shape of RFC 5965's appendix B and of the
// Yahoo and Microsoft feedback loops: a text part, the machine part and the
// original message.
func sampleARF(feedbackID, messageID, feedbackType string) string {
	orig := "Received: from gw.test (gw.test [192.0.2.25])\r\n\tby mx.example.net; Thu, 3 Dec 2026 08:00:00 +0000\r\n"
	if feedbackID != "" {
		orig += "Feedback-ID: " + feedbackID + "\r\n"
	}
	orig += "Feedback-ID: 99:campaign7:x:esp-own-id\r\n" +
		"From: shop@demo.test\r\nTo: Someone <someone@example.net>\r\nSubject: Offer\r\n"
	if messageID != "" {
		orig += "Message-ID: " + messageID + "\r\n"
	}
	orig += "\r\nBuy now.\r\n"
	return "From: <staff@hotmail.example>\r\n" +
		"Date: Thu, 3 Dec 2026 09:00:00 +0000\r\n" +
		"Subject: FW: Offer\r\n" +
		"To: <fbl@gw.test>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report;\r\n\tboundary=\"part1_13d.2e68ed54_boundary\"\r\n" +
		"\r\n" +
		"--part1_13d.2e68ed54_boundary\r\n" +
		"Content-Type: text/plain; charset=\"US-ASCII\"\r\n" +
		"Content-Transfer-Encoding: 7bit\r\n\r\n" +
		"This is an email abuse report for an email message received from IP\r\n192.0.2.25 on Thu, 3 Dec 2026 08:00:00 +0000.\r\n" +
		"\r\n--part1_13d.2e68ed54_boundary\r\n" +
		"Content-Type: message/feedback-report\r\n\r\n" +
		"Feedback-Type: " + feedbackType + "\r\n" +
		"User-Agent: SomeGenerator/1.0\r\n" +
		"Version: 1\r\n" +
		"Original-Mail-From: <shop@demo.test>\r\n" +
		"Original-Rcpt-To: <someone@example.net>\r\n" +
		"Arrival-Date: Thu, 3 Dec 2026 08:00:00 +0000\r\n" +
		"Reporting-MTA: dns; mail.example.net\r\n" +
		"Source-IP: 192.0.2.25\r\n" +
		"Authentication-Results: mail.example.net; spf=pass smtp.mail=shop@demo.test\r\n" +
		"Reported-Domain: demo.test\r\n" +
		"\r\n--part1_13d.2e68ed54_boundary\r\n" +
		"Content-Type: message/rfc822\r\n" +
		"Content-Disposition: inline\r\n\r\n" +
		orig +
		"\r\n--part1_13d.2e68ed54_boundary--\r\n"
}

func TestParseARF(t *testing.T) {
	rep, err := ParseARF(strings.NewReader(sampleARF("42:connector:gw.test:tollgate", "<abc@demo.test>", "abuse")))
	if err != nil {
		t.Fatal(err)
	}
	if rep.FeedbackType != "abuse" || rep.OriginalMailFrom != "shop@demo.test" || rep.SourceIP != "192.0.2.25" ||
		rep.ArrivalDate != "Thu, 3 Dec 2026 08:00:00 +0000" || rep.Recipient() != "someone@example.net" ||
		rep.UserAgent != "SomeGenerator/1.0" || rep.ReportedDomain != "demo.test" {
		t.Fatalf("report fields: %+v", rep)
	}
	if !rep.HasFeedbackID || rep.FeedbackID != (FeedbackID{42, "connector", "gw.test"}) {
		t.Fatalf("feedback id: %+v", rep.FeedbackID)
	}
	if rep.MessageID != "<abc@demo.test>" {
		t.Fatalf("message id %q", rep.MessageID)
	}

	// Another sender's Feedback-ID is not ours.
	rep, err = ParseARF(strings.NewReader(sampleARF("", "<abc@demo.test>", "abuse")))
	if err != nil || rep.HasFeedbackID {
		t.Fatalf("foreign feedback id taken: %+v %v", rep, err)
	}
}

// TestParseARFHeadersOnly: the original given as text/rfc822-headers,
// without the blank line that would end it.
func TestParseARFHeadersOnly(t *testing.T) {
	s := "Content-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nreport\r\n" +
		"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\n" +
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFeedback-ID: 7:user:n1:tollgate\r\nMessage-ID: <m@x>\r\n" +
		"--b--\r\n"
	rep, err := ParseARF(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	if rep.FeedbackID.TenantID != 7 || rep.MessageID != "<m@x>" {
		t.Fatalf("%+v", rep)
	}
}

func TestParseARFRefusesOtherMail(t *testing.T) {
	for name, s := range map[string]string{
		"plain":        "From: a@b\r\nSubject: please confirm your feedback loop\r\n\r\nclick here\r\n",
		"dsn":          "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n--b--\r\n",
		"no machine":   "Content-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n",
		"no type":      "Content-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n--b\r\nContent-Type: message/feedback-report\r\n\r\nVersion: 1\r\n--b--\r\n",
		"empty":        "",
		"binary":       "\x00\x01\x02\r\n\r\n",
		"many parts":   "Content-Type: multipart/report; boundary=b\r\n\r\n" + strings.Repeat("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n", 20) + "--b--\r\n",
		"bad boundary": "Content-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n--c\r\n",
	} {
		if _, err := ParseARF(strings.NewReader(s)); !errors.Is(err, ErrNotARF) {
			t.Errorf("%s: want ErrNotARF, got %v", name, err)
		}
	}
}

func TestFeedbackIDFormat(t *testing.T) {
	f := FeedbackID{TenantID: 12, Kind: "user", Tag: "gw:1 x.example"}
	s := f.String()
	if s != "12:user:gw1x.example:tollgate" {
		t.Fatalf("got %q", s)
	}
	g, ok := ParseFeedbackID(s)
	if !ok || g.TenantID != 12 || g.Kind != "user" {
		t.Fatalf("round trip: %+v %v", g, ok)
	}
	for _, bad := range []string{"", "12:user:n:other", "x:user:n:tollgate", "0:user:n:tollgate", "-3:u:n:tollgate", "12:user:tollgate", "1:2:3:4:tollgate"} {
		if _, ok := ParseFeedbackID(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// FuzzParseARF: whatever arrives at the feedback address, the parser
// returns a report or ErrNotARF, never panics, and stays bounded.
func FuzzParseARF(f *testing.F) {
	f.Add([]byte(sampleARF("42:connector:gw.test:tollgate", "<abc@demo.test>", "abuse")))
	f.Add([]byte(sampleARF("", "", "not-spam")))
	f.Add([]byte("Content-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFeedback-ID: 7:user:n1:tollgate\r\n--b--\r\n"))
	f.Add([]byte("Content-Type: multipart/report; boundary=\"\"\r\n\r\n--\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := ParseARF(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrNotARF) {
				t.Fatalf("error does not wrap ErrNotARF: %v", err)
			}
			return
		}
		if rep.FeedbackType == "" {
			t.Fatal("report without a feedback type")
		}
		if len(rep.OriginalRcptTo) > 10 || len(rep.MessageID) > 998 {
			t.Fatalf("unbounded fields: %d rcpts, message id %d bytes", len(rep.OriginalRcptTo), len(rep.MessageID))
		}
		if rep.HasFeedbackID && rep.FeedbackID.TenantID <= 0 {
			t.Fatalf("feedback id with tenant %d", rep.FeedbackID.TenantID)
		}
	})
}

// TestSignerTags checks a tag verifies only for the tenant and key it was
// made for, so a report cannot name a tenant by its number alone.
func TestSignerTags(t *testing.T) {
	s := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	id := s.ID(7, "connector")
	back, ok := ParseFeedbackID(id.String())
	if !ok || !s.Verify(back) || len(back.Tag) != 16 {
		t.Fatalf("own Feedback-ID %q does not verify: %+v %v", id, back, ok)
	}
	if first, again := s.Tag(7), s.Tag(7); first != again || first == s.Tag(8) {
		t.Error("tags must be stable per tenant and differ between tenants")
	}
	for name, f := range map[string]FeedbackID{
		"another tenant's number": {TenantID: 8, Kind: "connector", Tag: back.Tag},
		"no tag":                  {TenantID: 7, Kind: "connector", Tag: "-"},
		"another key":             NewSigner([]byte("fedcba9876543210fedcba9876543210")).ID(7, "connector"),
	} {
		if s.Verify(f) {
			t.Errorf("%s: %s verified", name, f)
		}
	}
}
