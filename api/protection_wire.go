package api

import (
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/reputation"
)

// The protection state in its wire form (client's types): the blocks
// package's structs are its own, free to change without changing the API.

func toFigures(fs []policy.Figure) []client.Figure {
	if fs == nil {
		return nil
	}
	out := make([]client.Figure, len(fs))
	for i, f := range fs {
		out[i] = client.Figure{Name: f.Name, Value: f.Value}
	}
	return out
}

func toCounts(cs []blocks.Count) []client.Count {
	var out []client.Count
	for _, c := range cs {
		out = append(out, client.Count{Name: c.Name, Count: c.Count})
	}
	return out
}

func toEvidence(e blocks.Evidence) client.Evidence {
	out := client.Evidence{Window: e.Window, Messages: e.Messages, SpamBulk: e.SpamBulk, Ratio: e.Ratio,
		TopSenders: toCounts(e.TopSenders), TopConnectors: toCounts(e.TopConnectors), Extra: e.Extra}
	for _, c := range e.RecentConnectors {
		out.RecentConnectors = append(out.RecentConnectors, client.ConnectorEvent{ID: c.ID, Name: c.Name, Event: c.Event, At: c.At, CreatedBy: c.CreatedBy,
			By: c.By, SourceIP: c.SourceIP, AuditID: c.AuditID})
	}
	for _, a := range e.RecentAccess {
		out.RecentAccess = append(out.RecentAccess, client.AccessEvent{AuditID: a.AuditID, Action: a.Action, Target: a.Target,
			Name: a.Name, At: a.At, By: a.By, SourceIP: a.SourceIP})
	}
	for _, s := range e.Samples {
		out.Samples = append(out.Samples, client.Sample{QueueID: s.QueueID, MessageID: s.MessageID, Subject: s.Subject, Sender: s.Sender, Verdict: string(s.Verdict)})
	}
	for _, s := range e.Signals {
		out.Signals = append(out.Signals, client.Signal{Name: s.Name, Met: s.Met, Note: s.Note, Figures: toFigures(s.Figures)})
	}
	return out
}

func toBlock(b blocks.Block) client.Block {
	return client.Block{ID: b.ID, TenantID: b.TenantID, Reason: b.Reason, Rule: b.Rule, Figures: toFigures(b.Figures),
		Evidence: toEvidence(b.Evidence), CreatedAt: b.CreatedAt, ReleasedAt: b.ReleasedAt, ReleasedBy: b.ReleasedBy,
		ProbationQuota: b.ProbationQuota, ProbationDays: b.ProbationDays}
}

func toRestriction(r blocks.Restriction) client.Restriction {
	return client.Restriction{ID: r.ID, TenantID: r.TenantID, Kind: r.Kind, Subject: r.Subject, Reason: r.Reason, Rule: r.Rule,
		Figures: toFigures(r.Figures), Created: r.Created, Until: r.Until, ReleasedAt: r.ReleasedAt, ReleasedBy: r.ReleasedBy}
}

func toRestrictions(rs []blocks.Restriction) []client.Restriction {
	out := make([]client.Restriction, 0, len(rs))
	for _, r := range rs {
		out = append(out, toRestriction(r))
	}
	return out
}

func toDay(d blocks.DayStats) client.DayStats {
	return client.DayStats{Day: d.Day, Messages: d.Messages, Spam: d.Spam, Bulk: d.Bulk, Refused: d.Refused}
}

func toDays(ds []blocks.DayStats) []client.DayStats {
	out := make([]client.DayStats, 0, len(ds))
	for _, d := range ds {
		out = append(out, toDay(d))
	}
	return out
}

func toUnblockRequest(u blocks.UnblockRequest) client.UnblockRequest {
	return client.UnblockRequest{ID: u.ID, TenantID: u.TenantID, BlockID: u.BlockID, Cause: u.Cause, Fix: u.Fix, Status: u.Status,
		SubmittedBy: u.SubmittedBy, SubmittedAt: u.SubmittedAt, DecidedBy: u.DecidedBy, DecidedAt: u.DecidedAt, Note: u.Note}
}

func toCheckItems(cs []blocks.CheckItem) []client.CheckItem {
	var out []client.CheckItem
	for _, c := range cs {
		out = append(out, client.CheckItem{Check: c.Check, OK: c.OK, Detail: c.Detail})
	}
	return out
}

func toListEntry(e reputation.ListEntry) client.ListEntry {
	return client.ListEntry{ID: e.ID, Kind: string(e.Kind), Prefix: e.Prefix.String(), Reason: e.Reason, CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt}
}

func toException(e reputation.Exception) client.Exception {
	return client.Exception{ID: e.ID, TenantID: e.TenantID, Prefix: e.Prefix.String(), Reason: e.Reason, CreatedBy: e.CreatedBy,
		CreatedAt: e.CreatedAt, ExpiresAt: e.ExpiresAt, RevokedAt: e.RevokedAt, RevokedBy: e.RevokedBy}
}
