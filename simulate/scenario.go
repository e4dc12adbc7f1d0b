// Package simulate replays hours of tenants' traffic through a real
// Tollgate node in seconds: the gateway's own listeners, attribution, checks,
// counters and classifier, driven over SMTP on loopback while a virtual clock
// (gateway.Options.Now) stands in for the hours between messages.
//
// It answers the two questions a protection change must answer before it
// ships: does it stop a compromised tenant, and how soon; and does it leave
// every legitimate tenant alone. `tollgate simulate` prints the answer per
// tenant; the tests hold the gateway to it.
//
// Legitimate mail comes from package mailgen (written for the purpose, never
// training data) or from files the operator names; spam from mailgen's spam
// kinds or from labelled files.
package simulate

import (
	"fmt"
	"strings"
	"time"
)

// Kind is what sort of sender a simulated tenant is.
type Kind string

const (
	// Users is an organisation whose mail server relays its people's own
	// mail: conversations and invitations, to correspondents it mostly
	// knows.
	Users Kind = "users"
	// List is a list server: list posts and newsletters with List-Id and
	// one-click unsubscribe, one copy per subscriber (VERP style).
	List Kind = "list"
	// SaaS is a platform relaying transactional mail to its customers:
	// invoices with PDFs, receipts, password resets, sign-in codes,
	// shipping notices, account alerts — mostly to addresses it has never
	// written to before.
	SaaS Kind = "saas"
	// Compromised behaves like Users until CompromisedAt, then sends
	// spam to strangers at SpamPerHour besides its usual mail.
	Compromised Kind = "compromised"
)

// Tenant is one simulated tenant.
type Tenant struct {
	Name    string
	Kind    Kind
	PerHour float64 // legitimate messages per hour
	// Messages, if set, is the total of legitimate messages, spread evenly
	// over the run instead of PerHour.
	Messages int
	// For Compromised: when the hijack starts, and how fast it sends.
	CompromisedAt time.Duration
	SpamPerHour   float64
	// Recipients per spam message (a spammer fills each transaction).
	SpamRecipients int
}

// Scenario is a whole run.
type Scenario struct {
	Tenants  []Tenant
	Duration time.Duration // virtual time the traffic spans
	Seed     uint64
	// Start is the virtual time of the first message; zero is the real
	// time the run starts.
	Start time.Time
	// UnblockAfter, if set, is when (after a compromised tenant is stopped)
	// its admin fixes the cause and asks for an unblock, and an operator
	// approves it at once; the tenant then sends only its usual mail.
	UnblockAfter time.Duration
}

// Default is the scenario of the efficacy issue: ten legitimate tenants of
// about 165 messages an hour — half relaying their users' own mail, half
// list servers — a SaaS tenant relaying 300 transactional messages, and a
// compromised tenant that turns to spam after an hour of ordinary mail.
func Default(d time.Duration) Scenario {
	sc := Scenario{Duration: d, Seed: 1, UnblockAfter: 20 * time.Minute}
	for i := 1; i <= 5; i++ {
		sc.Tenants = append(sc.Tenants, Tenant{Name: fmt.Sprintf("office%d", i), Kind: Users, PerHour: 165})
	}
	for i := 1; i <= 5; i++ {
		sc.Tenants = append(sc.Tenants, Tenant{Name: fmt.Sprintf("lists%d", i), Kind: List, PerHour: 165})
	}
	sc.Tenants = append(sc.Tenants,
		Tenant{Name: "saas", Kind: SaaS, Messages: 300},
		Tenant{Name: "hijacked", Kind: Compromised, PerHour: 60, CompromisedAt: min(time.Hour, d/3), SpamPerHour: 600, SpamRecipients: 5},
	)
	return sc
}

// Validate says what is wrong with a scenario, naming the tenant.
func (sc Scenario) Validate() error {
	if sc.Duration <= 0 {
		return fmt.Errorf("duration must be positive, got %v", sc.Duration)
	}
	if len(sc.Tenants) == 0 {
		return fmt.Errorf("no tenants")
	}
	if len(sc.Tenants) > 200 {
		return fmt.Errorf("at most 200 tenants, got %d", len(sc.Tenants))
	}
	seen := map[string]bool{}
	for _, t := range sc.Tenants {
		switch {
		case t.Name == "" || strings.ContainsAny(t.Name, " @.:/"):
			return fmt.Errorf("tenant name %q: use letters, digits and dashes", t.Name)
		case seen[t.Name]:
			return fmt.Errorf("tenant %q given twice", t.Name)
		}
		seen[t.Name] = true
		switch t.Kind {
		case Users, List, SaaS, Compromised:
		default:
			return fmt.Errorf("tenant %q: kind %q is not users, list, saas or compromised", t.Name, t.Kind)
		}
		if t.PerHour < 0 || t.Messages < 0 || t.SpamPerHour < 0 || t.SpamRecipients < 0 {
			return fmt.Errorf("tenant %q: rates and counts must not be negative", t.Name)
		}
		if t.PerHour > 36000 || t.SpamPerHour > 36000 {
			return fmt.Errorf("tenant %q: at most 36000 messages an hour", t.Name)
		}
		if t.Kind == Compromised && t.SpamPerHour == 0 {
			return fmt.Errorf("tenant %q: a compromised tenant needs spam_per_hour", t.Name)
		}
	}
	return nil
}

// ParseTenant reads a tenant from the command line's NAME:KIND:RATE form,
// e.g. "acme:users:165", "shop:saas:300" (a total for saas), or
// "bad:compromised:60:600" (usual rate, then spam rate).
func ParseTenant(s string) (Tenant, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 3 {
		return Tenant{}, fmt.Errorf("tenant %q: want NAME:KIND:RATE (e.g. acme:users:165)", s)
	}
	t := Tenant{Name: parts[0], Kind: Kind(parts[1])}
	var rate float64
	if _, err := fmt.Sscanf(parts[2], "%g", &rate); err != nil {
		return Tenant{}, fmt.Errorf("tenant %q: rate %q is not a number", s, parts[2])
	}
	switch t.Kind {
	case SaaS:
		t.Messages = int(rate)
	default:
		t.PerHour = rate
	}
	if t.Kind == Compromised {
		t.SpamPerHour, t.SpamRecipients = 600, 5
		if len(parts) > 3 {
			if _, err := fmt.Sscanf(parts[3], "%g", &t.SpamPerHour); err != nil {
				return Tenant{}, fmt.Errorf("tenant %q: spam rate %q is not a number", s, parts[3])
			}
		}
	} else if len(parts) > 3 {
		return Tenant{}, fmt.Errorf("tenant %q: only a compromised tenant takes a fourth field (its spam rate)", s)
	}
	return t, nil
}
