package classify

import (
	"strings"
	"testing"
	"time"
)

// hasReasonPrefix reports whether r has a reason whose name starts with p.
func hasReasonPrefix(r Result, p string) bool {
	for _, x := range r.Reasons {
		if strings.HasPrefix(x.Name, p) {
			return true
		}
	}
	return false
}

// Every modern rule fires on the trick it names and stays quiet on the
// legitimate mail that looks most like it.
func TestClassifyModernRules(t *testing.T) {
	e := neverSpam(t)
	std := []string{"Date: Mon, 02 Nov 2026 08:00:00 +0000", "Message-ID: <a1@shop.example>", "MIME-Version: 1.0"}
	html := func(from, body string, extra ...string) []byte {
		return msg(append(append([]string{"From: " + from, "Subject: hello", "Content-Type: text/html; charset=utf-8"}, std...), extra...), body)
	}
	cases := []struct {
		name, rule string
		fires      bool
		raw        []byte
	}{
		{"phishing link text", "LINK_TEXT_OTHER_HOST", true,
			html("PayPal <service@notice-center.top>", `<p>Confirm: <a href="https://paypa1-login.example/x">https://www.paypal.com/signin</a></p>`)},
		{"tracking link showing the sender's own address", "LINK_TEXT_OTHER_HOST", false,
			html("Shop <news@shop.example>", `<p>Reset: <a href="https://u123.ct.sendgrid.net/ls/click?x">https://shop.example/reset</a></p>`)},
		{"link text that is words", "LINK_TEXT_OTHER_HOST", false,
			html("Shop <news@shop.example>", `<p><a href="https://elsewhere.example/x">Read the article</a></p>`)},
		{"shortener", "URL_SHORTENER", true,
			msg(append([]string{"From: a@b.example", "Subject: doc"}, std...), "Review it here: https://bit.ly/3xYz12\n")},
		{"zero-width inside words", "ZERO_WIDTH_IN_WORDS", true,
			html("a@b.example", "<p>V\u200be\u200br\u200bify your pass\u200bword</p>")},
		{"preheader padding with zero-width non-joiners", "ZERO_WIDTH_IN_WORDS", false,
			html("Shop <news@shop.example>", "<p>Our sale &zwnj;&nbsp;&zwnj;&nbsp;&zwnj;&nbsp;&zwnj;&nbsp;</p><p>family 👨\u200d👩\u200d👧 offer</p>")},
		{"Cyrillic look-alikes", "MIXED_SCRIPT_WORDS", true,
			html("a@b.example", "<p>Yоur Аррlе ID is locked</p>")},
		{"accented Latin and a Russian sentence", "MIXED_SCRIPT_WORDS", false,
			html("a@b.example", "<p>Grüße from Müller, Chloé. Привет, как дела?</p>")},
		{"hidden filler", "HTML_HIDDEN_TEXT", true,
			html("a@b.example", `<p>Buy now</p><div style="display: none">`+strings.Repeat("the meeting minutes are attached see you thursday ", 10)+`</div>`)},
		{"a preheader", "HTML_HIDDEN_TEXT", false,
			html("Shop <news@shop.example>", `<div style="display:none;max-height:0">Your receipt for order 1234, thanks for shopping</div><p>Receipt</p>`)},
		{"a login form", "HTML_FORM", true,
			html("a@b.example", `<form action="https://x.example/p"><input name="password"></form>`)},
		{"macro document", "ATTACH_MACRO", true,
			msg(append([]string{"From: a@b.example", "Subject: doc", "Content-Type: multipart/mixed; boundary=b"}, std...),
				"--b\nContent-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/octet-stream; name=\"report.xlsm\"\nContent-Disposition: attachment; filename=\"report.xlsm\"\n\nAAAA\n--b--\n")},
		{"executable", "ATTACH_EXECUTABLE", true,
			msg(append([]string{"From: a@b.example", "Subject: doc", "Content-Type: multipart/mixed; boundary=b"}, std...),
				"--b\nContent-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/octet-stream; name=\"Invoice.pdf.exe\"\n\nTVqQ\n--b--\n")},
		{"missing Date and Message-ID", "MISSING_DATE", true, msg([]string{"From: a@b.example", "Subject: hi"}, "hello\n")},
		{"forged Message-ID", "MESSAGE_ID_INVALID", true,
			msg([]string{"From: a@b.example", "Subject: hi", "Date: Mon, 02 Nov 2026 08:00:00 +0000", "Message-ID: 12345"}, "hello\n")},
		{"garbage Date", "DATE_INVALID", true,
			msg([]string{"From: a@b.example", "Subject: hi", "Date: yesterday at noon", "Message-ID: <x@b.example>"}, "hello\n")},
		{"well-formed headers", "MISSING_", false, msg(append([]string{"From: a@b.example", "Subject: hi"}, std...), "hello\n")},
	}
	for _, c := range cases {
		r := classifyOK(t, e, Input{Raw: c.raw})
		if got := hasReasonPrefix(r, c.rule); got != c.fires {
			t.Errorf("%s: %s fired=%v, want %v (%v)", c.name, c.rule, got, c.fires, r.Reasons)
		}
	}
}

// The examples: ordinary business mail is not spam, however much
// of the 2002 spam's vocabulary it uses; the words' total is bounded and
// the bound is a reason.
func TestClassifyBusinessWordsNotSpam(t *testing.T) {
	e := defaultEngine(t)
	hdr := []string{"From: Billing <billing@saas.example>", "To: ann@customer.example", "Date: Mon, 02 Nov 2026 08:00:00 +0000",
		"Message-ID: <inv-1@saas.example>", "MIME-Version: 1.0"}
	invoice := msg(append(hdr, "Subject: Your invoice for November", "Content-Type: text/plain"),
		"Dear customer, your invoice for November is ready. Total due: $49.00. View invoice: https://saas.example/invoices/1\n\nThank you for your business.\n")
	withPDF := msg(append(hdr, "Subject: Invoice INV-2026-0042", "Content-Type: multipart/mixed; boundary=b"),
		"--b\nContent-Type: text/plain\n\nDear customer,\n\nplease find your invoice attached. Please reply to this email if you have any questions.\nThank you for your business!\n\n--b\n"+
			"Content-Type: application/pdf; name=\"INV-2026-0042.pdf\"\nContent-Disposition: attachment; filename=\"INV-2026-0042.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQKJcfsj6IK\n--b--\n")
	for name, raw := range map[string][]byte{"invoice": invoice, "invoice with PDF": withPDF} {
		if r := classifyOK(t, e, Input{Raw: raw, Recipients: 1}); r.Verdict != Clean {
			t.Errorf("%s: %s %.2f %v", name, r.Verdict, r.Score, r.Reasons)
		}
	}
	// No single word weighs more than the per-word bound.
	m := e.Model().Meta
	for _, raw := range [][]byte{invoice, withPDF} {
		for _, x := range classifyOK(t, e, Input{Raw: raw}).Reasons {
			if strings.HasPrefix(x.Name, "body:") && x.Weight > maxTokenW*m.Scale+1e-6 {
				t.Errorf("%s weighs %.2f, above the per-word bound %.2f", x.Name, x.Weight, maxTokenW*m.Scale)
			}
		}
	}
}

// The spam-side words' sum stops at the model's cap, and the cut is a
// reason, so the reasons still add up to the score.
func TestClassifyWordsCapped(t *testing.T) {
	m := &Model{Meta: ModelMeta{Algo: "lr", FeatureVersion: FeatureVersion, Bits: 12, TokenCap: 2, TokenFloor: 3}, Weights: make([]float32, 1<<12)}
	for _, w := range []string{"free", "money", "cash", "click"} {
		m.Weights[hashFeature(kindBody, []byte(w))&(1<<12-1)] = 1
	}
	e, err := New(m, Options{SpamThreshold: 100})
	if err != nil {
		t.Fatal(err)
	}
	raw := msg([]string{"From: a@b.example", "Subject: x", "Date: Mon, 02 Nov 2026 08:00:00 +0000", "Message-ID: <x@b.example>"}, "free money cash click\n")
	r := classifyOK(t, e, Input{Raw: raw})
	if r.Score != 2 || !hasReasonPrefix(r, "WORDS_CAPPED") {
		t.Errorf("four words of weight 1 under a cap of 2: score %.2f, reasons %v", r.Score, r.Reasons)
	}
	// The bound is on the net sum: ham-side words do not outvote spam
	// words beyond the cap (four +1 words and two −1 words net +2).
	for _, w := range []string{"meeting", "agenda"} {
		m.Weights[hashFeature(kindBody, []byte(w))&(1<<12-1)] = -1
	}
	mixed := msg([]string{"From: a@b.example", "Subject: x", "Date: Mon, 02 Nov 2026 08:00:00 +0000", "Message-ID: <x@b.example>"}, "free money cash click meeting agenda\n")
	if r := classifyOK(t, e, Input{Raw: mixed}); r.Score != 2 {
		t.Errorf("four spam words and two ham words of weight 1 under a cap of 2: score %.2f, want 2; reasons %v", r.Score, r.Reasons)
	}
	var sum float64
	for _, x := range r.Reasons {
		if !strings.HasPrefix(x.Name, "bulk:") {
			sum += x.Weight
		}
	}
	if sum != r.Score {
		t.Errorf("reasons add up to %.2f, score %.2f", sum, r.Score)
	}
}

// The threshold comes from the cost of a false block at the base rate, and
// the model says what it was calibrated to.
func TestClassifyCalibration(t *testing.T) {
	m, err := EmbeddedModel()
	if err != nil {
		t.Fatal(err)
	}
	mm := m.Meta
	if mm.BaseRate != DefaultBaseRate || mm.FalseBlockCost != DefaultFalseBlockCost || mm.Threshold < 0.69 || mm.Threshold > 0.7 {
		t.Errorf("model meta %+v", mm)
	}
	if mm.PriorShift < 2.9 || mm.PriorShift > 3.1 {
		t.Errorf("prior shift %.3f for a 1/6 corpus and a 1 %% base rate, want about +3", mm.PriorShift)
	}
	if mm.Bias > -2 {
		t.Errorf("a message with no evidence scores %.2f: outbound mail is mostly legitimate", mm.Bias)
	}
}

func TestClassifyTimeOrder(t *testing.T) {
	ex := []Example{
		{Raw: []byte("From a@b  Thu Aug 22 12:36:23 2002\nSubject: x\n\nb\n")},
		{Raw: []byte("Subject: y\nDate: Mon, 01 Jul 2002 10:00:00 +0000\n\nb\n")},
		{Raw: []byte("Subject: undated\n\nb\n")},
		{Raw: []byte("From a@b  Tue Dec  3 11:46:36 2002\nSubject: z\n\nb\n")},
	}
	if got := TimeOrder(ex); !slicesEqual(got, []int{1, 0, 3, 2}) {
		t.Errorf("time order %v", got)
	}
	// The split is per class: the newest of each class is tested.
	var items []Example
	for i := range 40 {
		spam := i%4 == 0
		body := "the meeting minutes are attached see you on thursday"
		if spam {
			body = "buy cheap pills now viagra discount"
		}
		items = append(items, Example{Spam: spam, Raw: []byte("Date: " + dateN(i) + "\nSubject: s\n\n" + body + "\n")})
	}
	vecs := Vectorize(items, 12, Caps{})
	preds, _, err := TimeSplit(vecs, TimeOrder(items), 0.7, TrainOptions{Bits: 12, Folds: 2})
	if err != nil {
		t.Fatal(err)
	}
	spam := 0
	for _, p := range preds {
		if p.Spam {
			spam++
		}
	}
	if len(preds) != 12 || spam != 3 {
		t.Errorf("tested %d messages, %d spam; want the newest 30 %% of each class (9 ham, 3 spam)", len(preds), spam)
	}
	if _, _, err := TimeSplit(vecs, TimeOrder(items), 1.5, TrainOptions{Bits: 12}); err == nil {
		t.Error("a train fraction of 1.5 was accepted")
	}
}

func dateN(i int) string {
	return time.Date(2002, 7, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).Format(time.RFC1123Z)
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestClassifyPlausibleDate(t *testing.T) {
	for _, v := range []string{"Mon, 02 Nov 2026 08:00:00 +0000", "Thu, 22 Aug 2002 07:36:16 -0400 (EDT)", "22 Aug 2002 07:36 GMT", "Tue, 3 Dec 02 15:16:09 +0100"} {
		if !plausibleDate(v) {
			t.Errorf("%q: not a date", v)
		}
	}
	for _, v := range []string{"yesterday at noon", "", "2026-11-02T08:00:00Z", "Mon, 02 Nov 2026"} {
		if plausibleDate(v) {
			t.Errorf("%q: taken for a date", v)
		}
	}
}
