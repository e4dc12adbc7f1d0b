package protect

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// Hold judges a queued message's attribution with the checks MAIL FROM
// uses: each credential's restriction stops exactly the mail that came
// through it, and the tenant's block or expiry stops all of it. Where MAIL
// FROM refuses, Hold holds, with the same code.
func TestHoldAgreesWithMailFrom(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), memory(t), nil)
	ctx := context.Background()
	id := f.tenant.ID
	phone := policy.Attribution{TenantID: id, Tenant: "acme", UserID: 1, User: "alice@acme.test", AppPasswordID: 13,
		Method: policy.MethodAuth}
	laptop := phone
	laptop.AppPasswordID = 0
	server := policy.Attribution{TenantID: id, Tenant: "acme", ConnectorID: 9, Connector: "onprem", Method: policy.MethodConnectorIP}
	other := server
	other.ConnectorID, other.Connector = 10, "branch"
	// A message spooled before the ids were kept: names only.
	old := policy.Attribution{TenantID: id, Tenant: "acme", Connector: "onprem"}
	type msg struct {
		name string
		a    policy.Attribution
		from string
	}
	msgs := []msg{{"phone", phone, "alice@acme.test"}, {"laptop", laptop, "alice@acme.test"},
		{"server", server, "app@acme.test"}, {"branch", other, "app@acme.test"}, {"old", old, "app@acme.test"},
		{"unattributed", policy.Attribution{}, "x@elsewhere.test"}}
	chain := chainOf(t, f.e)
	// want maps each message's name to the code it is held with ("" goes out).
	check := func(step string, want map[string]string) {
		t.Helper()
		for _, m := range msgs {
			h, held := f.e.Hold(m.a, m.from)
			got := ""
			if held {
				got = h.EnhancedString()
				if h.Sender == "" || h.Admin == "" || h.Rule == "" {
					t.Errorf("%s: %s held without its explanations: %+v", step, m.name, h)
				}
			}
			if got != want[m.name] {
				t.Errorf("%s: %s held with %q, want %q", step, m.name, got, want[m.name])
			}
			if !m.a.Attributed() {
				continue
			}
			// MAIL FROM under the same attribution refuses with the same code.
			d := chain.Mail(ctx, &policy.Envelope{Attribution: m.a, From: m.from, Listener: policy.Submission})
			if mail := map[bool]string{true: d.EnhancedString(), false: ""}[d.Action != policy.Accept]; mail != got {
				t.Errorf("%s: %s: MAIL FROM gives %q, Hold %q", step, m.name, mail, got)
			}
		}
	}
	restrict := func(kind, subject string) blocks.Restriction {
		t.Helper()
		r, _, err := f.blocks.Restrict(ctx, blocks.Restriction{TenantID: id, Kind: kind, Subject: subject,
			Reason: "test", Rule: "operator"}, "admin")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	release := func(r blocks.Restriction) {
		t.Helper()
		if _, err := f.blocks.Release(ctx, id, r.ID, "admin"); err != nil {
			t.Fatal(err)
		}
	}

	check("nothing stopped", map[string]string{})
	r := restrict(blocks.KindAppPassword, "13")
	check("app password restricted", map[string]string{"phone": "5.1.8"})
	release(r)
	r = restrict(blocks.KindConnector, strconv.Itoa(9))
	// The old message names its connector but not its id: the
	// connector's restriction cannot be matched to it.
	check("connector restricted", map[string]string{"server": "5.7.711"})
	release(r)
	r = restrict(blocks.KindSender, "alice@acme.test")
	check("user restricted", map[string]string{"phone": "5.1.8", "laptop": "5.1.8"})
	release(r)
	if _, _, err := f.blocks.BlockTenant(ctx, blocks.Block{TenantID: id, Reason: blocks.ReasonThreshold, Rule: "tenant-threshold",
		Figures: []policy.Figure{{Name: "spam_bulk", Value: "20"}}}, "system"); err != nil {
		t.Fatal(err)
	}
	all := map[string]string{"phone": "5.7.705", "laptop": "5.7.705", "server": "5.7.705", "branch": "5.7.705", "old": "5.7.705"}
	check("tenant blocked", all)
	if h, _ := f.e.Hold(server, "app@acme.test"); h.Rule != "tenant-threshold" || len(h.Figures) != 1 || h.Figures[0].Value != "20" {
		t.Errorf("a held message's DSN does not carry the block's own rule and figures: %+v", h)
	}
	if _, err := f.blocks.ReleaseBlock(ctx, id, "operator", 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.dir.SetLicense(ctx, directory.By{}, id, directory.Licensed, 10, f.clk.now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("subscription expired", all)
}
