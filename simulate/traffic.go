package simulate

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/tollgate-mail/tollgate/mailgen"
)

// event is one message a tenant sends at a virtual offset from the start.
type event struct {
	at     time.Duration
	tenant int
	spam   bool
}

// schedule lays every tenant's messages on the timeline, in order. Arrivals
// are evenly spaced with jitter of half a gap, so two runs with one seed
// send the same messages at the same virtual times.
func schedule(sc Scenario, rng *rand.Rand) []event {
	var evs []event
	spread := func(tenant int, from, to time.Duration, n int, spam bool) {
		if n <= 0 || to <= from {
			return
		}
		gap := (to - from) / time.Duration(n)
		for k := 0; k < n; k++ {
			at := from + time.Duration(k)*gap + time.Duration(rng.Int64N(int64(gap)+1))
			evs = append(evs, event{at: min(at, to-1), tenant: tenant, spam: spam})
		}
	}
	for i, t := range sc.Tenants {
		n := t.Messages
		if n == 0 {
			n = int(t.PerHour * sc.Duration.Hours())
		}
		spread(i, 0, sc.Duration, n, false)
		if t.Kind == Compromised && t.CompromisedAt < sc.Duration {
			spread(i, t.CompromisedAt, sc.Duration, int(t.SpamPerHour*(sc.Duration-t.CompromisedAt).Hours()), true)
		}
	}
	sort.SliceStable(evs, func(a, b int) bool { return evs[a].at < evs[b].at })
	return evs
}

// people is who a simulated tenant writes as and to.
type people struct {
	domain   string
	staff    []string // its users (Users, Compromised) or its lists (List)
	contacts []string // correspondents, subscribers or customers
	next     int      // List: the next subscriber
}

// newPeople makes a tenant's staff and contacts: a users tenant writes
// mostly to 150 correspondents at 30 organisations, a list server to 400
// subscribers at 60 mail domains, a SaaS platform to 250 customers.
func newPeople(t Tenant, rng *rand.Rand) *people {
	p := &people{domain: t.Name + ".example"}
	first := []string{"anna", "ben", "chloe", "david", "elena", "farid", "grace", "hiro", "ines", "jonas", "kara", "liam",
		"maya", "noah", "olga", "pedro", "rosa", "sven", "tara", "vera", "wei", "yusuf"}
	person := func() string {
		return fmt.Sprintf("%s.%s%d", first[rng.IntN(len(first))], first[rng.IntN(len(first))], rng.IntN(100))
	}
	contacts := func(n, orgs int) {
		for k := 0; k < n; k++ {
			p.contacts = append(p.contacts, fmt.Sprintf("%s@org%d-%s.example", person(), rng.IntN(orgs), t.Name))
		}
	}
	switch t.Kind {
	case List:
		p.staff = []string{"staff@" + p.domain, "announce@" + p.domain, "news@" + p.domain}
		contacts(400, 60)
	case SaaS:
		p.staff = []string{"billing@" + p.domain, "no-reply@" + p.domain, "security@" + p.domain}
		contacts(250, 200)
	default:
		for k := 0; k < 20; k++ {
			p.staff = append(p.staff, person()+"@"+p.domain)
		}
		contacts(150, 30)
	}
	return p
}

// compose writes the message an event stands for, with its envelope.
func compose(t Tenant, p *people, ev event, gen *mailgen.Generator, rng *rand.Rand, date time.Time) (from string, rcpts []string, m mailgen.Message) {
	if ev.spam {
		from = fmt.Sprintf("%s%d@%s", []string{"info", "support", "admin", "promo"}[rng.IntN(4)], rng.IntN(1000), p.domain)
		n := max(t.SpamRecipients, 1)
		for k := 0; k < n; k++ {
			rcpts = append(rcpts, fmt.Sprintf("u%d@mailbox%d.example", rng.IntN(1_000_000), rng.IntN(500)))
		}
		kind := mailgen.Spam[rng.IntN(len(mailgen.Spam))]
		return from, rcpts, gen.Write(kind, mailgen.Spec{From: from, To: rcpts[0], Date: date})
	}
	switch t.Kind {
	case List:
		from = p.staff[rng.IntN(len(p.staff))]
		to := p.contacts[p.next%len(p.contacts)]
		p.next++
		kind := mailgen.ListPost
		if rng.IntN(10) < 3 {
			kind = mailgen.Newsletter
		}
		return from, []string{to}, gen.Write(kind, mailgen.Spec{From: from, To: to, Date: date, List: from})
	case SaaS:
		from = p.staff[rng.IntN(len(p.staff))]
		to := p.contacts[rng.IntN(len(p.contacts))]
		kind := mailgen.Transactional[rng.IntN(len(mailgen.Transactional))]
		return from, []string{to}, gen.Write(kind, mailgen.Spec{From: from, To: to, Date: date})
	default:
		from = p.staff[rng.IntN(len(p.staff))]
		n := 1 + rng.IntN(3)
		for k := 0; k < n; k++ {
			if rng.IntN(100) < 85 {
				rcpts = append(rcpts, p.contacts[rng.IntN(len(p.contacts))])
			} else {
				rcpts = append(rcpts, fmt.Sprintf("new%d@org%d.example", rng.IntN(1_000_000), rng.IntN(1000)))
			}
		}
		rcpts = dedupe(rcpts)
		kind := mailgen.Conversation
		if rng.IntN(10) == 0 {
			kind = mailgen.Invitation
		}
		return from, rcpts, gen.Write(kind, mailgen.Spec{From: from, To: rcpts[0], Date: date})
	}
}

// dedupe drops repeated recipients, keeping the first of each.
func dedupe(rcpts []string) []string {
	out := rcpts[:0]
	seen := map[string]bool{}
	for _, r := range rcpts {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
