package protect

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/blocks"
)

// AuditReader reads the audit log. A block's evidence of directory changes
// (connectors created or deleted, tokens created or used, admins added)
// comes from its entries, with the actor and source address as recorded,
// not from the objects' current fields: a connector's record says who
// created it, never who deleted it.
type AuditReader interface {
	Query(ctx context.Context, f audit.Filter) ([]audit.Entry, error)
}

// auditLimit bounds each evidence query: a block needs the recent story,
// not a week of a busy tenant's token uses.
const auditLimit = 50

// connectorEvents reads the tenant's connector entries since since,
// oldest first.
func connectorEvents(ctx context.Context, log AuditReader, tenantID int64, since time.Time) ([]blocks.ConnectorEvent, error) {
	es, err := log.Query(ctx, audit.Filter{TenantID: &tenantID, ActionPrefix: "connector", Since: since, Limit: auditLimit})
	if err != nil {
		return nil, err
	}
	var out []blocks.ConnectorEvent
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		ev := map[string]string{"connector.create": "created", "connector.confirm": "confirmed", "connector.delete": "deleted"}[e.Action]
		if ev == "" {
			continue
		}
		id, _ := strconv.ParseInt(strings.TrimPrefix(e.Target, "connector:"), 10, 64)
		out = append(out, blocks.ConnectorEvent{ID: id, Name: nameOf(e), Event: ev, At: e.Time, By: e.Actor, SourceIP: e.SourceIP, AuditID: e.ID})
	}
	return out, nil
}

// accessEvents reads the tenant's token and admin creations and token uses
// since since, oldest first.
func accessEvents(ctx context.Context, log AuditReader, tenantID int64, since time.Time) ([]blocks.AccessEvent, error) {
	var out []blocks.AccessEvent
	for _, f := range []audit.Filter{{Action: "token.create"}, {Action: "token.use"}, {Action: "admin.create"}} {
		f.TenantID, f.Since, f.Limit = &tenantID, since, auditLimit
		es, err := log.Query(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			out = append(out, blocks.AccessEvent{AuditID: e.ID, Action: e.Action, Target: e.Target, Name: nameOf(e), At: e.Time, By: e.Actor, SourceIP: e.SourceIP})
		}
	}
	slices.SortFunc(out, func(a, b blocks.AccessEvent) int { return cmp.Compare(a.AuditID, b.AuditID) })
	return out, nil
}

// nameOf is the object's name (or email) from an entry's after or before
// state; for a token's use, the token itself is the actor ("token:NAME").
func nameOf(e audit.Entry) string {
	var v struct{ Name, Email string }
	for _, raw := range []json.RawMessage{e.After, e.Before} {
		if len(raw) > 0 && json.Unmarshal(raw, &v) == nil && (v.Name != "" || v.Email != "") {
			if v.Name != "" {
				return v.Name
			}
			return v.Email
		}
	}
	if e.Action == "token.use" {
		return strings.TrimPrefix(e.Actor, "token:")
	}
	return ""
}
