package reputation

import (
	"context"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// The check's decisions: a trial tenant on a new, unknown, poor or denied
// IP gets 550 5.7.708 with the figures; an exception or the allow list lets
// it through; licensed tenants and established IPs pass.
func TestCheckDecisions(t *testing.T) { storetest.ForEach(t, testCheckDecisions) }

func testCheckDecisions(t *testing.T, db *store.DB) {
	ctx := context.Background()
	clk := newClock()
	start := clk.Now()
	tr := open(t, db, Config{Clock: clk.Now})
	const trial, licensed = 1, 2
	check, err := NewCheck(tr, func(id int64) bool { return id == trial })
	if err != nil {
		t.Fatal(err)
	}
	check.Now = clk.Now
	var _ policy.Check = check

	observe(tr, "192.0.2.1", 200, 0)  // established once a day has passed
	observe(tr, "192.0.2.2", 200, 80) // poor
	observe(tr, "192.0.2.3", 5, 0)    // new
	if _, err := tr.Deny(ctx, prefix(t, "192.0.2.4"), "abuse reports", "operator:ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Allow(ctx, prefix(t, "192.0.2.5"), "our smarthost", "operator:ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.GrantException(ctx, Exception{TenantID: trial, Prefix: prefix(t, "192.0.2.6"), Reason: "pilot",
		CreatedBy: "operator:ops", ExpiresAt: start.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	clk.Set(start.Add(25 * time.Hour))

	mail := func(tenant int64, ip string) policy.Decision {
		env := &policy.Envelope{Attribution: policy.Attribution{TenantID: tenant, Tenant: "t", ClientIP: addr(ip)}, From: "a@example.test"}
		return check.Mail(ctx, env)
	}
	for _, c := range []struct {
		tenant int64
		ip     string
		level  Level // "" = accepted
	}{
		{trial, "192.0.2.1", ""},
		{trial, "192.0.2.2", Poor},
		{trial, "192.0.2.3", New},
		{trial, "192.0.2.4", Denied},
		{trial, "192.0.2.5", ""},
		{trial, "192.0.2.6", ""},
		{trial, "192.0.2.7", Unknown},
		{trial, "2001:db8::7", Unknown},
		{licensed, "192.0.2.4", ""},
		{licensed, "192.0.2.7", ""},
		{0, "192.0.2.7", ""}, // unattributed: the attribution check's business
	} {
		d := mail(c.tenant, c.ip)
		if c.level == "" {
			if d.Action != policy.Accept {
				t.Errorf("tenant %d from %s: %s, want accept", c.tenant, c.ip, d)
			}
			continue
		}
		if d.Action != policy.Reject || d.Code != 550 || d.EnhancedString() != "5.7.708" || d.Text != Text || d.Rule != Rule {
			t.Errorf("tenant %d from %s: %s, want 550 5.7.708", c.tenant, c.ip, d)
			continue
		}
		got := map[string]string{}
		for _, f := range d.Figures {
			got[f.Name] = f.Value
		}
		if got["ip"] != c.ip || got["level"] != string(c.level) || got["messages"] == "" || got["spam_ratio"] == "" || got["first_seen"] == "" {
			t.Errorf("tenant %d from %s: figures %v", c.tenant, c.ip, got)
		}
	}
	d := mail(trial, "192.0.2.2")
	if want := "0.400"; figure(d, "spam_ratio") != want || figure(d, "messages") != "200" || figure(d, "first_seen") != "2026-11-02T09:00:00Z" {
		t.Errorf("poor figures: %v", d.Figures)
	}
	if figure(mail(trial, "192.0.2.4"), "deny_list") != "192.0.2.4/32 (abuse reports, by operator:ops)" {
		t.Errorf("deny figures: %v", mail(trial, "192.0.2.4").Figures)
	}
	// The exception ends by itself.
	clk.Set(start.Add(48 * time.Hour))
	if d := mail(trial, "192.0.2.6"); d.Action != policy.Reject || figure(d, "level") != string(Unknown) {
		t.Errorf("after the exception expired: %s", d)
	}
	if _, err := NewCheck(nil, nil); err == nil {
		t.Error("NewCheck without a tracker")
	}
}

func figure(d policy.Decision, name string) string {
	for _, f := range d.Figures {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}
