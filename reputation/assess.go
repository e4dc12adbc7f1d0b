package reputation

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// Assessment is the reputation of one IP for one tenant, with what it was
// based on.
type Assessment struct {
	IP        netip.Addr
	Level     Level
	Record    Record
	RecordErr error      // the record could not be read: the level is Unknown
	Exception *Exception // the tenant's exception that applied (Excepted)
	Entry     *ListEntry // the list entry that applied (Allowed, Denied)
	DNSBL     DNSBLResult
}

// Assess rates ip for tenantID (0: no tenant, so no exception) at now. In
// order: the tenant's live exception (the operator's most specific word,
// so it overrides even the deny list), then the operator lists (longest
// prefix wins), then the DNSBL zones and the record: listed, poor, unknown,
// new, good. Only memory is read, except the first time this node sees an
// IP (one indexed read) and on DNSBL cache misses.
func (t *Tracker) Assess(ctx context.Context, tenantID int64, ip netip.Addr, now time.Time) Assessment {
	ip = ip.Unmap()
	a := Assessment{IP: ip, Level: Unknown}
	if !ip.IsValid() {
		return a
	}
	a.Record, a.RecordErr = t.Record(ctx, ip, now)
	s := t.lists.Load()
	if tenantID != 0 {
		if e := s.exception(tenantID, ip, now); e != nil {
			a.Level, a.Exception = Excepted, e
			return a
		}
	}
	if e, _, ok := s.lists.lookup(ip); ok {
		a.Level, a.Entry = Allowed, e
		if e.Kind == DenyList {
			a.Level = Denied
		}
		return a
	}
	if t.dnsbl != nil {
		a.DNSBL = t.dnsbl.lookup(ctx, ip, now)
	}
	a.Level = t.level(a, now)
	return a
}

func (t *Tracker) level(a Assessment, now time.Time) Level {
	r := a.Record
	switch {
	case a.DNSBL.Zone != "":
		return Listed
	case a.RecordErr != nil || !r.Known():
		return Unknown
	case r.Messages >= t.cfg.PoorMinMessages && r.SpamRatio() >= t.cfg.PoorRatio:
		return Poor
	case now.Sub(r.FirstSeen) < t.cfg.NewIPAge || r.Messages < t.cfg.MinMessages:
		return New
	}
	return Good
}

// Figures are the assessment as the message trace and the refusal show it.
func (a Assessment) Figures() []policy.Figure {
	first := "never"
	if a.Record.Known() {
		first = a.Record.FirstSeen.UTC().Format(time.RFC3339)
	}
	f := make([]policy.Figure, 0, 8)
	f = append(f,
		policy.Figure{Name: "ip", Value: a.IP.String()},
		policy.Figure{Name: "level", Value: string(a.Level)},
		policy.Figure{Name: "first_seen", Value: first},
		policy.Figure{Name: "messages", Value: strconv.FormatInt(a.Record.Messages, 10)},
		policy.Figure{Name: "spam_ratio", Value: strconv.FormatFloat(a.Record.SpamRatio(), 'f', 3, 64)},
	)
	if a.RecordErr != nil {
		f = append(f, policy.Figure{Name: "record_error", Value: a.RecordErr.Error()})
	}
	if a.DNSBL.Zone != "" {
		f = append(f, policy.Figure{Name: "dnsbl", Value: a.DNSBL.Zone + "=" + a.DNSBL.Answer.String()})
	}
	if a.DNSBL.Failed != "" {
		f = append(f, policy.Figure{Name: "dnsbl_error", Value: a.DNSBL.FailErr.Error()})
	}
	if e := a.Entry; e != nil {
		f = append(f, policy.Figure{Name: string(e.Kind) + "_list", Value: fmt.Sprintf("%s (%s, by %s)", e.Prefix, e.Reason, e.CreatedBy)})
	}
	if e := a.Exception; e != nil {
		f = append(f, policy.Figure{Name: "exception", Value: fmt.Sprintf("#%d %s until %s", e.ID, e.Prefix, e.ExpiresAt.UTC().Format(time.RFC3339))})
	}
	return f
}
