package classify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/counters"
)

var newsletter = msg([]string{
	"From: News <news@shop.example>",
	"Subject: Our spring collection",
	"List-Unsubscribe: <https://shop.example/u/123>",
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
	"Feedback-ID: 123:spring:shop",
	"Content-Type: text/plain",
}, "Hello, our spring collection is here. To stop these emails, unsubscribe at https://shop.example/u.\n")

func TestClassifyBulkLevel(t *testing.T) {
	// A threshold no score reaches: this test is about the bulk level and
	// verdict, not the model's view of the words.
	e := neverSpam(t)
	cases := []struct {
		name       string
		raw        []byte
		recipients int
		min, max   int
	}{
		{"personal mail", hamMsg, 1, 0, 0},
		{"personal mail to many", hamMsg, 600, 3, 3},
		{"newsletter", newsletter, 1, 7, 7}, // 3 list-unsubscribe + 1 one-click + 2 platform + 1 text
		{"newsletter to many", newsletter, 600, 9, 9},
	}
	for _, c := range cases {
		r := classifyOK(t, e, Input{Raw: c.raw, Recipients: c.recipients})
		if r.Bulk < c.min || r.Bulk > c.max {
			t.Errorf("%s: bulk %d, want %d..%d (%v)", c.name, r.Bulk, c.min, c.max, r.Reasons)
		}
	}
	if r := classifyOK(t, e, Input{Raw: newsletter}); r.Verdict != Clean || !r.IsBulk || r.Kind() != Bulk || !hasReason(r, "bulk:LIST_UNSUBSCRIBE") {
		t.Errorf("newsletter: %+v", r)
	}
}

// template is one campaign's message with the recipient's name and a
// tracking link filled in.
func template(name string, n int) []byte {
	return msg([]string{"From: promo@shop.example", "Subject: An offer for " + name, "Content-Type: text/plain"}, fmt.Sprintf(
		"Dear %s,\nwe are delighted to invite you to our exclusive members evening next week, with tastings,\n"+
			"music and a surprise gift for every guest who brings a friend along. Reserve your seat here:\n"+
			"https://shop.example/r/%d?u=%s and see the full programme on our website.\nKind regards, the events team\n", name, n, name))
}

func TestClassifyCampaign(t *testing.T) {
	c := counters.NewMemory()
	defer c.Close()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	e, err := Load("", Options{Campaigns: c, CampaignRecipients: 100, CampaignWindow: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy"}
	var first, last Result
	for i, name := range names {
		r := classifyOK(t, e, Input{Raw: template(name, i), Recipients: 20, Tenant: "t1"})
		if r.Fingerprint == "" {
			t.Fatal("no fingerprint for a paragraph of text")
		}
		if i == 0 {
			first = r
		}
		last = r
	}
	if hasReason(first, "CAMPAIGN") {
		t.Errorf("the first 20 recipients are already a campaign: %v", first.Reasons)
	}
	// 10 messages × 20 recipients = 200 recipients, twice the threshold, if
	// every message shares a band with the others (most do: each pair
	// shares one with probability 0.9 or so): a weight between 1 (100
	// recipients) and 2 (200), and bulk points.
	if !hasReason(last, "CAMPAIGN") || !hasReason(last, "bulk:CAMPAIGN") || last.Score <= first.Score {
		t.Errorf("changed names and links did not match as one campaign: %+v", last)
	}
	for _, r := range last.Reasons {
		if r.Name == "CAMPAIGN" && (r.Weight < 1 || r.Weight > 2) {
			t.Errorf("campaign weight %v, want 1..2", r.Weight)
		}
	}
	// Another tenant's identical content is counted apart.
	if r := classifyOK(t, e, Input{Raw: template("Zed", 99), Recipients: 1, Tenant: "t2"}); hasReason(r, "CAMPAIGN") {
		t.Errorf("campaign counted across tenants: %v", r.Reasons)
	}
	// Unrelated content from the same tenant is not part of it.
	if r := classifyOK(t, e, Input{Raw: hamMsg, Recipients: 1, Tenant: "t1"}); hasReason(r, "CAMPAIGN") {
		t.Errorf("unrelated mail counted as the campaign: %v", r.Reasons)
	}
	// After the window the campaign is forgotten.
	now = now.Add(2 * time.Hour)
	if r := classifyOK(t, e, Input{Raw: template("Zoe", 7), Recipients: 1, Tenant: "t1"}); hasReason(r, "CAMPAIGN") {
		t.Errorf("campaign outlived its window: %v", r.Reasons)
	}
}

func TestClassifyFingerprintSimilarity(t *testing.T) {
	fp := func(raw []byte) []string {
		d, _ := parseDoc(raw, Caps{})
		return d.fp.bands()
	}
	a, b := fp(template("Alice", 1)), fp(template("Bob", 2))
	shared := 0
	for i := range a {
		if a[i] == b[i] {
			shared++
		}
	}
	if shared == 0 {
		t.Errorf("one template, two names: no band in common (%v, %v)", a, b)
	}
	other := fp(hamMsg)
	for i := range a {
		if a[i] == other[i] {
			t.Errorf("unrelated messages share band %d", i)
		}
	}
	if fp(msg(nil, "too short to tell\n")) != nil {
		t.Error("a few words got a fingerprint")
	}
}

// failingCounter is a campaign store that is down.
type failingCounter struct{ counters.Counter }

func (failingCounter) Add(context.Context, string, int64, time.Duration, time.Time) (int64, error) {
	return 0, fmt.Errorf("redis: connection refused")
}

func TestClassifyCampaignStoreDown(t *testing.T) {
	var logs strings.Builder
	e, err := Load("", Options{Campaigns: failingCounter{}, Logger: newTestLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	r := classifyOK(t, e, Input{Raw: template("Alice", 1), Recipients: 1, Tenant: "t1"})
	if r.Verdict == "" || !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("a failing counter must give a verdict and a warning: %+v, log %q", r, logs.String())
	}
}
