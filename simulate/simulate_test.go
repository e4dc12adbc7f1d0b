package simulate

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"
)

// TestScheduleDeterministic checks one seed lays the same messages at the
// same virtual times, in order, with the counts the rates ask for.
func TestScheduleDeterministic(t *testing.T) {
	sc := Default(2 * time.Hour)
	a := schedule(sc, rand.New(rand.NewPCG(1, 2)))
	b := schedule(sc, rand.New(rand.NewPCG(1, 2)))
	if len(a) != len(b) {
		t.Fatalf("lengths %d and %d", len(a), len(b))
	}
	per := map[int]int{}
	spam := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("event %d differs: %+v vs %+v", i, a[i], b[i])
		}
		if i > 0 && a[i].at < a[i-1].at {
			t.Fatalf("event %d out of order", i)
		}
		if a[i].at < 0 || a[i].at >= sc.Duration {
			t.Fatalf("event %d at %v outside the run", i, a[i].at)
		}
		if a[i].spam {
			spam++
		} else {
			per[a[i].tenant]++
		}
	}
	if per[0] != 330 || per[10] != 300 || spam != 800 {
		t.Errorf("office1 %d messages (want 330), saas %d (want 300), spam %d (want 800: 600 an hour from 40m)", per[0], per[10], spam)
	}
}

func TestScenarioValidate(t *testing.T) {
	for _, c := range []struct {
		sc   Scenario
		want string
	}{
		{Scenario{Duration: time.Hour}, "no tenants"},
		{Scenario{Duration: time.Hour, Tenants: []Tenant{{Name: "a", Kind: "bank"}}}, `kind "bank"`},
		{Scenario{Duration: time.Hour, Tenants: []Tenant{{Name: "a b", Kind: Users}}}, "letters, digits"},
		{Scenario{Duration: time.Hour, Tenants: []Tenant{{Name: "a", Kind: Users}, {Name: "a", Kind: List}}}, "twice"},
		{Scenario{Duration: time.Hour, Tenants: []Tenant{{Name: "a", Kind: Compromised}}}, "spam_per_hour"},
		{Scenario{Tenants: []Tenant{{Name: "a", Kind: Users}}}, "duration"},
	} {
		err := c.sc.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an error with %q", c.sc, err, c.want)
		}
	}
}

func TestParseTenant(t *testing.T) {
	tn, err := ParseTenant("bad:compromised:60:900")
	if err != nil || tn.Kind != Compromised || tn.PerHour != 60 || tn.SpamPerHour != 900 {
		t.Errorf("got %+v, %v", tn, err)
	}
	tn, err = ParseTenant("shop:saas:300")
	if err != nil || tn.Messages != 300 {
		t.Errorf("got %+v, %v", tn, err)
	}
	for _, bad := range []string{"acme", "acme:users:lots", "acme:users:10:20"} {
		if _, err := ParseTenant(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: got %v, want an error naming it", bad, err)
		}
	}
}

// TestCompromisedTenantStopped runs a short scenario over real SMTP through
// the gateway's real checks and classifier: a tenant whose connector turns
// to spam is stopped after a handful of spam, and every message sent is
// accounted for in the result.
func TestCompromisedTenantStopped(t *testing.T) {
	sc := Scenario{Duration: 40 * time.Minute, Seed: 3, Tenants: []Tenant{
		{Name: "bad", Kind: Compromised, PerHour: 30, CompromisedAt: 10 * time.Minute, SpamPerHour: 300, SpamRecipients: 3},
	}}
	res, err := Run(context.Background(), sc, Options{Logger: nil})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	res.Print(&b)
	t.Log("\n" + b.String())
	tr := res.Tenants[0]
	if tr.Legit+tr.Spam != len(schedule(sc, rand.New(rand.NewPCG(3, 4)))) {
		t.Errorf("%d legitimate + %d spam messages recorded, scheduled %d", tr.Legit, tr.Spam, len(schedule(sc, rand.New(rand.NewPCG(3, 4)))))
	}
	if tr.StoppedAt < 10*time.Minute {
		t.Fatalf("stopped at %v (before the hijack at 10m) or never", tr.StoppedAt)
	}
	if tr.SpamBeforeStop > DefaultCriteria.MaxSpamBeforeStop || tr.SpamAfterStop > 0 {
		t.Errorf("spam accepted: %d before the stop, %d after", tr.SpamBeforeStop, tr.SpamAfterStop)
	}
	if !strings.Contains(b.String(), "bad stopped at") || len(tr.Evidence) == 0 {
		t.Errorf("the report shows no evidence for the stop:\n%s", b.String())
	}
}

// TestEfficacyScenario is the efficacy bar, over real SMTP through the
// gateway's real checks, counters and classifier, on both counter stores:
// ten legitimate tenants (office servers and list servers, 165 messages an
// hour each) and a SaaS relaying 300 transactional messages are never
// stopped and have at most 0.5 % of their mail refused; a compromised
// tenant is stopped after at most 20 spam, held until its unblock, and
// sends again after it. The mail is mailgen's, never training data.
func TestEfficacyScenario(t *testing.T) {
	for _, store := range []string{"embedded", "redis"} {
		t.Run(store, func(t *testing.T) {
			opts := Options{}
			if store == "redis" {
				opts.RedisURL = redisURL(t)
			}
			res, err := Run(context.Background(), Default(90*time.Minute), opts)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			res.Print(&b)
			t.Log("\n" + b.String())
			for _, p := range res.Check(DefaultCriteria) {
				t.Error(p)
			}
			hijacked := res.Tenants[len(res.Tenants)-1]
			if hijacked.UnblockedAt == 0 || hijacked.AfterUnblock == 0 {
				t.Errorf("the compromised tenant's unblock was not exercised: %+v", hijacked)
			}
		})
	}
}

// redisURL is the test Redis, or a skip that says it is absent.
func redisURL(t *testing.T) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second)
	if err != nil {
		t.Skipf("no Redis at 127.0.0.1:6379 (%v): the Redis half needs one", err)
	}
	conn.Close()
	return "redis://127.0.0.1:6379/0"
}
