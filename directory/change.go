package directory

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/tollgate-mail/tollgate/audit"
)

// By says who makes a directory change and where its audit entry goes.
// Every change method takes one, and a change whose By has an Audit log
// appends its entry inside the change's own transaction: the change and its
// entry commit together or not at all, so a crash cannot keep one without
// the other (the log is tamper-evident only if nothing escapes it).
//
// Seeding and tests pass a By without Audit: nothing is recorded.
type By struct {
	Actor    string     // "admin:alice@example.net", "token:ci"; stored as created_by and confirmed_by
	SourceIP string     // the caller's address, "" for none
	Audit    *audit.Log // nil: the change is not audited
	// Show turns a directory value (Tenant, Domain, Connector, User) into
	// the form the entry's before and after hold: the API's wire form, so
	// the log reads like the API. Nil: the value as it is.
	Show func(v any) any
}

// record appends the change's audit entry inside tx. before and after are
// directory values (nil for none).
func (b By) record(ctx context.Context, tx *sql.Tx, tenantID int64, action, target string, before, after any) error {
	if b.Audit == nil {
		return nil
	}
	e := audit.Entry{Actor: b.Actor, TenantID: tenantID, Action: action, Target: target}
	if a, err := netip.ParseAddr(b.SourceIP); err == nil {
		e.SourceIP = a.String()
	}
	var err error
	if e.Before, err = b.marshal(before); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if e.After, err = b.marshal(after); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if _, err := b.Audit.AppendTx(ctx, tx, e); err != nil {
		return fmt.Errorf("%s: audit: %w", action, err)
	}
	return nil
}

func (b By) marshal(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	if b.Show != nil {
		v = b.Show(v)
	}
	return json.Marshal(v)
}
