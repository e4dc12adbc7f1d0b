package protect

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// send runs a transaction to rcpt with a verdict class, as list mail when
// list is set.
func (f *fixture) send(t *testing.T, sender, rcpt, verdict string, list bool) policy.Decision {
	t.Helper()
	ctx := context.Background()
	chain := chainOf(t, f.e)
	env := f.env(sender)
	if d := chain.Mail(ctx, env); d.Action != policy.Accept {
		return d
	}
	if d := chain.Rcpt(ctx, env, rcpt); d.Action != policy.Accept {
		return d
	}
	env.Rcpts = append(env.Rcpts, rcpt)
	return chain.Data(ctx, env, &policy.Message{Subject: "s", HeaderFrom: sender, ListMail: list, Verdict: policy.Verdict{Class: policy.Class(verdict)}})
}

func customer(i int) string { return fmt.Sprintf("customer%d@shop.example", i) }

// Spam verdicts on mail to recipients the tenant knows are not abuse: an
// invoicing tenant whose invoices the classifier calls spam keeps sending,
// while the same verdicts to strangers stop a fresh tenant as before.
func TestKnownRecipientsAreNotStrangers(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), memory(t), nil)
	// Last week: the tenant mailed its 150 customers (the classifier
	// already called the invoices spam; an onboarding override let them
	// through). The override is gone now.
	f.clk.add(-72 * time.Hour)
	f.e.Defaults.TenantSpamCount, f.e.Defaults.UserSpamPerHour = 1<<40, 0
	for i := range 300 {
		mustOK(t, f.send(t, "billing@acme.test", customer(i%150), "spam", false))
		if i%25 == 24 {
			f.clk.add(time.Hour) // stay under the per-minute and per-hour sending limits
		}
	}
	f.clk.set(newClock().t)
	f.e.Defaults = policy.DefaultSettings()
	for i := range 300 {
		if d := f.send(t, "billing@acme.test", customer(i%150), "spam", false); d.Action != policy.Accept {
			t.Fatalf("invoice %d to a known customer refused: %v", i, d)
		}
		if i%25 == 24 {
			f.clk.add(3 * time.Minute)
		}
	}
	if _, ok := f.blocks.ActiveBlock(f.tenant.ID); ok {
		t.Fatal("the invoicing tenant was blocked")
	}
	// The same verdicts to strangers from a fresh tenant: stopped within 10.
	g := newFixture(t, storetest.SQLite(t), memory(t), nil)
	stopped := 0
	for i := range 20 {
		if d := g.send(t, "mallory@acme.test", stranger(), "spam", false); d.Action != policy.Accept {
			mustCode(t, d, "5.1.8")
			stopped = i + 1
			break
		}
	}
	if stopped == 0 || stopped > 11 {
		t.Fatalf("a fresh tenant spamming strangers was stopped at message %d, want by the 11th", stopped)
	}
}

// An established tenant with a clean baseline that suddenly sends spam to
// strangers is blocked: a departure from its baseline and novelty.
func TestEstablishedTenantDeparture(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) { s.UserSpamPerHour = 0 })
	f.clk.add(-48 * time.Hour)
	for i := range 250 {
		mustOK(t, f.send(t, fmt.Sprintf("u%d@acme.test", i%20), customer(i%100), "clean", false))
	}
	f.clk.set(newClock().t)
	n := 0
	for ; n < 40; n++ {
		d := f.send(t, fmt.Sprintf("u%d@acme.test", n%20), stranger(), "spam", false)
		if d.Action != policy.Accept {
			mustCode(t, d, "5.7.705")
			break
		}
	}
	if n != 19 { // the 20th spam is refused
		t.Fatalf("blocked at spam %d, want the 20th", n+1)
	}
	b, _ := f.blocks.ActiveBlock(f.tenant.ID)
	got := map[string]bool{}
	for _, s := range b.Evidence.Signals {
		got[s.Name] = s.Met
		if len(s.Figures) == 0 {
			t.Errorf("signal %s has no figures", s.Name)
		}
	}
	if !got["verdicts"] || !got["recipient-novelty"] || !got["baseline"] || got["delivery-feedback"] {
		t.Fatalf("signals: %+v", b.Evidence.Signals)
	}
}

// List mail whose content is not spam does not count by default; with
// bulk_counts it does.
func TestListMailDoesNotCount(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), memory(t), nil)
	for i := range 60 {
		if d := f.send(t, fmt.Sprintf("list%d@acme.test", i%3), stranger(), []string{"bulk", "clean"}[i%2], true); d.Action != policy.Accept {
			t.Fatalf("list message %d refused: %v", i, d)
		}
	}
	g := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) { s.BulkCounts, s.UserSpamPerHour = true, 0 })
	for i := range 19 {
		mustOK(t, g.send(t, fmt.Sprintf("list%d@acme.test", i%3), stranger(), "bulk", true))
	}
	mustCode(t, g.send(t, "list0@acme.test", stranger(), "bulk", true), "5.7.705")
}

// A spammer who adds List-Unsubscribe (or List-Id) does not escape the
// threshold: a spam verdict counts whatever the list headers say, and the
// tenant is stopped exactly as without them.
func TestSpamWithListHeadersCounts(t *testing.T) {
	stoppedAt := func(list bool) int {
		f := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) { s.UserSpamPerHour = 0 })
		for i := range 40 {
			if d := f.send(t, fmt.Sprintf("promo%d@acme.test", i%3), stranger(), "spam", list); d.Action != policy.Accept {
				mustCode(t, d, "5.7.705")
				return i + 1
			}
		}
		return 0
	}
	with, without := stoppedAt(true), stoppedAt(false)
	if with == 0 || with != without {
		t.Fatalf("spam with list headers stopped at message %d, without them at %d: want the same, and stopped", with, without)
	}
}

// feedbackOf is a fixed feedback source.
type feedbackOf policy.Feedback

func (f *feedbackOf) TenantFeedback(context.Context, int64) (policy.Feedback, error) {
	return policy.Feedback(*f), nil
}

// Delivery feedback: under the minimum volume nothing counts; at the
// review rate the admins are alerted and list mail counts; at the pause
// rate the tenant is blocked by it alone.
func TestDeliveryFeedback(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) { s.UserSpamPerHour = 0 })
	fb := &feedbackOf{Window: 24 * time.Hour, Delivered: 100, HardBounces: 50}
	f.e.Feedback = fb
	mustOK(t, f.send(t, "news@acme.test", customer(1), "clean", true))                         // 150 < 200: too little volume
	*fb = feedbackOf{Window: 24 * time.Hour, Delivered: 1900, HardBounces: 100, Complaints: 1} // 5 % bounces: review
	f.clk.add(feedbackTTL)
	for i := range 19 {
		mustOK(t, f.send(t, "news@acme.test", stranger(), "bulk", true))
		_ = i
	}
	mustCode(t, f.send(t, "news@acme.test", stranger(), "bulk", true), "5.7.705")
	review := 0
	for _, a := range f.alerts {
		if a.Ref == "feedback-review" {
			review++
		}
	}
	if review == 0 {
		t.Fatal("no review alert at the review rate")
	}

	g := newFixture(t, storetest.SQLite(t), memory(t), nil)
	g.e.Feedback = &feedbackOf{Window: 24 * time.Hour, Delivered: 990, Complaints: 5, HardBounces: 10} // 0.5 % complaints: pause
	d := g.send(t, "news@acme.test", customer(1), "clean", false)
	mustCode(t, d, "5.7.705")
	if d.Rule != "tenant-feedback" {
		t.Fatalf("rule %s, want tenant-feedback", d.Rule)
	}
	b, ok := g.blocks.ActiveBlock(g.tenant.ID)
	if !ok || b.Reason != blocks.ReasonFeedback {
		t.Fatalf("block: %v %+v", ok, b)
	}
}

// Releasing a restriction resets the credential's spam window: the next
// spam is judged afresh, not against the spam that caused it.
func TestReleaseResetsCredentialWindow(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), memory(t), func(s *policy.Settings) { s.TenantSpamCount = 100 })
	for range 9 {
		mustOK(t, f.send(t, "ann@acme.test", stranger(), "spam", false))
	}
	mustCode(t, f.send(t, "ann@acme.test", stranger(), "spam", false), "5.1.8")
	r, ok := f.blocks.Restricted(f.tenant.ID, blocks.KindSender, "ann@acme.test", f.clk.now())
	if !ok {
		t.Fatal("not restricted")
	}
	f.clk.add(time.Second)
	if _, err := f.blocks.Release(context.Background(), f.tenant.ID, r.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	f.clk.add(time.Second)
	for i := range 9 {
		if d := f.send(t, "ann@acme.test", stranger(), "spam", false); d.Action != policy.Accept {
			t.Fatalf("spam %d after the release: %v (the old window was not reset)", i+1, d)
		}
	}
	mustCode(t, f.send(t, "ann@acme.test", stranger(), "spam", false), "5.1.8")
}
