package directory

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/store"
)

// A directory change and its audit entry commit together: with the log
// working each change leaves its entry; with the append failing (the head
// table gone, as a full disk or a broken migration would make it) each
// change is refused and rolled back, so nothing changes unrecorded.
func TestChangeAndItsAuditEntryCommitTogether(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		d := openDir(t, db)
		log, err := audit.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		by := By{Actor: "admin:alice@alpha.test", SourceIP: "192.0.2.7", Audit: log}

		tn := must[Tenant](t)(d.CreateTenant(ctx, by, "alpha", Trial, 0))
		must[Domain](t)(d.AddDomain(ctx, by, tn.ID, "alpha.test"))
		if err := d.MarkDomainVerified(ctx, by, tn.ID, "alpha.test"); err != nil {
			t.Fatal(err)
		}
		c := must[Connector](t)(d.CreateConnector(ctx, by, tn.ID, "office", []netip.Prefix{netip.MustParsePrefix("192.0.2.0/28")}))
		bob := must[User](t)(d.CreateUser(ctx, by, tn.ID, "bob@alpha.test", "a long enough password"))
		if _, _, err := d.SetSenderBinding(ctx, by, tn.ID, BindingLogin); err != nil {
			t.Fatal(err)
		}
		must[Alias](t)(d.AddAlias(ctx, by, tn.ID, bob.ID, "sales@alpha.test"))
		if err := d.SetUserDisabled(ctx, by, bob.ID, true); err != nil {
			t.Fatal(err)
		}
		boss := must[Admin](t)(d.CreateAdmin(ctx, by, tn.ID, "boss@alpha.test", "a long enough admin passphrase", TenantAdmin))
		entries, err := log.Query(ctx, audit.Filter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append([]string{e.Action}, got...)
			if e.Actor != by.Actor || e.SourceIP != by.SourceIP || e.TenantID != tn.ID {
				t.Errorf("entry %s = actor %q from %q tenant %d, want %q from %q tenant %d", e.Action, e.Actor, e.SourceIP, e.TenantID, by.Actor, by.SourceIP, tn.ID)
			}
		}
		if want := "tenant.create domain.add domain.verify connector.create user.create tenant.sender_binding user.alias.add user.disable admin.create"; strings.Join(got, " ") != want {
			t.Fatalf("audit actions = %q, want %q", got, want)
		}
		var after struct{ Name string }
		if err := json.Unmarshal(entries[5].After, &after); err != nil || after.Name != "office" {
			t.Errorf("connector.create after = %s (%v), want the connector", entries[5].After, err)
		}
		var disabled struct{ Disabled bool }
		if err := json.Unmarshal(entries[1].After, &disabled); err != nil || !disabled.Disabled {
			t.Errorf("user.disable after = %s (%v), want the disabled user", entries[1].After, err)
		}

		if _, err := db.Write.ExecContext(ctx, `ALTER TABLE audit_head RENAME TO audit_head_gone`); err != nil {
			t.Fatal(err)
		}
		refused := func(what string, err error) {
			t.Helper()
			if err == nil || !strings.Contains(err.Error(), "audit") {
				t.Errorf("%s with the audit log failing = %v, want an audit error", what, err)
			}
		}
		_, err = d.CreateTenant(ctx, by, "beta", Trial, 0)
		refused("create tenant", err)
		if _, err := d.TenantByName(ctx, "beta"); !errors.Is(err, ErrNotFound) {
			t.Errorf("tenant beta after a failed audit: %v, want ErrNotFound", err)
		}
		_, _, err = d.SetLicense(ctx, by, tn.ID, Licensed, 5, time.Time{})
		refused("set licence", err)
		if now := must[Tenant](t)(d.Tenant(ctx, tn.ID)); now.License != Trial || now.Seats != 0 {
			t.Errorf("licence after a failed audit = %s/%d, want trial/0", now.License, now.Seats)
		}
		_, err = d.AddDomain(ctx, by, tn.ID, "beta.test")
		refused("add domain", err)
		_, err = d.CreateConnector(ctx, by, tn.ID, "lab", []netip.Prefix{netip.MustParsePrefix("198.51.100.0/28")})
		refused("create connector", err)
		refused("delete connector", d.DeleteConnector(ctx, by, tn.ID, c.ID))
		_, err = d.ConfirmConnector(ctx, by, tn.ID, c.ID)
		refused("confirm connector", err)
		_, err = d.CreateUser(ctx, by, tn.ID, "carol@alpha.test", "a long enough password")
		refused("create user", err)

		_, _, err = d.SetSenderBinding(ctx, by, tn.ID, BindingOff)
		refused("set sender binding", err)
		_, err = d.AddAlias(ctx, by, tn.ID, bob.ID, "info@alpha.test")
		refused("add alias", err)
		refused("enable user", d.SetUserDisabled(ctx, by, bob.ID, false))
		hash := func() (h string) {
			t.Helper()
			if err := db.Read.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, bob.ID).Scan(&h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		oldHash := hash()
		refused("set password", d.SetPassword(ctx, by, bob.ID, "another long enough password"))
		if now := must[Tenant](t)(d.Tenant(ctx, tn.ID)); now.SenderBinding != BindingLogin {
			t.Errorf("sender binding after a failed audit = %s, want login", now.SenderBinding)
		}
		if as := must[[]Alias](t)(d.Aliases(ctx, tn.ID, bob.ID)); len(as) != 1 {
			t.Errorf("aliases after a failed audit = %v, want sales@ alone", as)
		}
		_, _, err = d.CreateToken(ctx, by, "ci", TokenScope{TenantID: tn.ID})
		refused("create token", err)
		_, _, err = d.CreateAppPassword(ctx, by, bob.ID, "phone")
		refused("create app password", err)
		_, err = d.CreateAdmin(ctx, by, tn.ID, "second@alpha.test", "a long enough admin passphrase", TenantAdmin)
		refused("create admin", err)
		_, err = d.SetAdminPassword(ctx, by, boss.ID, "another long admin passphrase")
		refused("set admin password", err)
		_, err = d.ResetTOTP(ctx, by, boss.ID)
		refused("reset TOTP", err)
		if now := must[Admin](t)(d.Admin(ctx, boss.ID)); !now.PasswordChangedAt.Equal(boss.PasswordChangedAt) {
			t.Errorf("admin password changed at %v after a failed audit, want %v", now.PasswordChangedAt, boss.PasswordChangedAt)
		}
		if ts := must[[]Token](t)(d.Tokens(ctx, TokenScope{TenantID: tn.ID})); len(ts) != 0 {
			t.Errorf("tokens after a failed audit = %v, want none", ts)
		}
		if ps := must[[]AppPassword](t)(d.AppPasswords(ctx, bob.ID)); len(ps) != 0 {
			t.Errorf("app passwords after a failed audit = %v, want none", ps)
		}
		if as := must[[]Admin](t)(d.Admins(ctx, tn.ID)); len(as) != 1 {
			t.Errorf("admins after a failed audit = %v, want boss alone", as)
		}
		if hash() != oldHash {
			t.Error("a password change whose audit failed took effect")
		}

		if ds := must[[]Domain](t)(d.Domains(ctx, tn.ID)); len(ds) != 1 {
			t.Errorf("domains after failed audits = %v, want alpha.test alone", ds)
		}
		cs := must[[]Connector](t)(d.Connectors(ctx, tn.ID))
		if len(cs) != 1 || !cs[0].Live() || !cs[0].ConfirmedAt.IsZero() {
			t.Errorf("connectors after failed audits = %+v, want office alone, live, on probation", cs)
		}
		if us := must[[]User](t)(d.Users(ctx, tn.ID)); len(us) != 1 || !us[0].Disabled {
			t.Errorf("users after failed audits = %v, want bob alone, still disabled", us)
		}
	})
}
