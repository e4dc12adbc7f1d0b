package directory

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/tollgate-mail/tollgate/password"
)

// Dev-mode demo names, exported so the dev command and tests can print and
// use them.
const (
	DemoTenant    = "demo"
	DemoDomain    = "demo.test"
	DemoUser      = "user@demo.test"
	DemoConnector = "local"
)

// SeedDev creates whatever is missing of the dev-mode demo: tenant "demo"
// (trial), verified domain demo.test, user user@demo.test with a random
// password, and connector "local" for 127.0.0.1/32 and ::1/128 created by
// "seed". The connector covers the usual loopback address only, so a client
// on another loopback address (swaks --local-interface 127.0.0.2) shows the
// 5.7.64 refusal of unattributed mail. It returns the user's password if it created the user and ""
// if the user existed (the caller saved the password the first time).
// Each step is its own transaction and is skipped when already done, so a
// run interrupted half-way is completed by the next.
func (d *Directory) SeedDev(ctx context.Context) (string, error) {
	t, err := d.TenantByName(ctx, DemoTenant)
	if errors.Is(err, ErrNotFound) {
		t, err = d.CreateTenant(ctx, By{}, DemoTenant, Trial, 0)
	}
	if err != nil {
		return "", fmt.Errorf("seed: %w", err)
	}

	doms, err := d.Domains(ctx, t.ID)
	if err != nil {
		return "", fmt.Errorf("seed: %w", err)
	}
	if !hasDomain(doms, DemoDomain) {
		if _, err := d.AddDomain(ctx, By{}, t.ID, DemoDomain); err != nil {
			return "", fmt.Errorf("seed: %w", err)
		}
	}
	if err := d.MarkDomainVerified(ctx, By{}, t.ID, DemoDomain); err != nil {
		return "", fmt.Errorf("seed: %w", err)
	}

	var pw string
	var n int
	if err := d.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE address = $1`, DemoUser).Scan(&n); err != nil {
		return "", fmt.Errorf("seed: %w", err)
	}
	if n == 0 {
		pw = password.Random(20)
		if _, err := d.CreateUser(ctx, By{}, t.ID, DemoUser, pw); err != nil {
			return "", fmt.Errorf("seed: %w", err)
		}
	}

	conns, err := d.Connectors(ctx, t.ID)
	if err != nil {
		return "", fmt.Errorf("seed: %w", err)
	}
	if !hasLiveConnector(conns, DemoConnector) {
		ranges := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
		c, err := d.CreateConnector(ctx, By{Actor: "seed"}, t.ID, DemoConnector, ranges)
		if err != nil {
			return "", fmt.Errorf("seed: %w", err)
		}
		// The demo connector skips probation: dev mode is for trying mail.
		if _, err := d.ConfirmConnector(ctx, By{Actor: "seed"}, t.ID, c.ID); err != nil {
			return "", fmt.Errorf("seed: %w", err)
		}
	}
	return pw, nil
}

func hasDomain(doms []Domain, name string) bool {
	for _, d := range doms {
		if d.Name == name {
			return true
		}
	}
	return false
}

func hasLiveConnector(conns []Connector, name string) bool {
	for _, c := range conns {
		if c.Name == name && c.Live() {
			return true
		}
	}
	return false
}
