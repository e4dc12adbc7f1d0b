package policy

import (
	"context"
	"net/netip"
	"strings"
	"testing"
)

type fixed struct {
	name string
	rcpt Decision
}

func (f fixed) Name() string                                     { return f.name }
func (f fixed) Rcpt(context.Context, *Envelope, string) Decision { return f.rcpt }

// The chain stops at the first check that does not accept.
func TestChainFirstRefusalWins(t *testing.T) {
	defer1 := Decision{Action: Defer, Code: 451, Enhanced: [3]int{4, 7, 1}, Rule: "first"}
	reject2 := Decision{Action: Reject, Code: 550, Enhanced: [3]int{5, 7, 1}, Rule: "second"}
	c := mustChain(t, fixed{name: "a", rcpt: Accepted}, fixed{name: "b", rcpt: defer1}, fixed{name: "c", rcpt: reject2})
	if d := c.Rcpt(context.Background(), &Envelope{}, "x@y.z"); d.Rule != "first" {
		t.Fatalf("got %v, want the first refusal", d)
	}
	if d := mustChain(t, fixed{rcpt: Accepted}).Rcpt(context.Background(), &Envelope{}, "x@y.z"); d.Action != Accept {
		t.Fatalf("all accept: got %v", d)
	}
	if d := (Chain{}).Mail(context.Background(), &Envelope{}); d.Action != Accept {
		t.Fatalf("empty chain: got %v", d)
	}
}

func mustChain(t *testing.T, checks ...Check) Chain {
	t.Helper()
	c, err := NewChain(checks...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type mailOnly struct{ calls *int }

func (mailOnly) Name() string { return "mail-only" }
func (m mailOnly) Mail(context.Context, *Envelope) Decision {
	*m.calls++
	return Accepted
}

type noStage struct{}

func (noStage) Name() string { return "no-stage" }

// A check runs only at the stages it implements, and one that implements
// none is refused when the chain is built, not silently skipped.
func TestChainStages(t *testing.T) {
	var n int
	c := mustChain(t, mailOnly{&n}, fixed{name: "r", rcpt: Accepted})
	ctx := context.Background()
	c.Mail(ctx, &Envelope{})
	c.Rcpt(ctx, &Envelope{}, "x@y.z")
	c.Data(ctx, &Envelope{}, &Message{})
	if n != 1 {
		t.Fatalf("the MAIL-only check ran %d times over MAIL, RCPT and DATA", n)
	}
	if got := len(c.Checks()); got != 2 {
		t.Fatalf("Checks() has %d checks, want 2", got)
	}
	if _, err := NewChain(mailOnly{&n}, noStage{}); err == nil || !strings.Contains(err.Error(), "no-stage") {
		t.Fatalf("a check with no stage: err %v", err)
	}
	if _, err := NewChain(nil); err == nil {
		t.Fatal("a nil check was taken")
	}
}

// The checks' transaction state ends with the transaction; the
// attribution stays.
func TestEnvelopeTransactionState(t *testing.T) {
	type key struct{}
	env := &Envelope{Attribution: Attribution{TenantID: 1}, From: "a@b.c", Rcpts: []string{"x@y.z"}}
	if env.TxnValue(key{}) != nil {
		t.Fatal("state before any was set")
	}
	env.SetTxnValue(key{}, true)
	if env.TxnValue(key{}) != true {
		t.Fatal("state not kept within the transaction")
	}
	env.EndTransaction()
	if env.TxnValue(key{}) != nil || env.From != "" || len(env.Rcpts) != 0 || env.TenantID != 1 {
		t.Fatalf("after EndTransaction: %+v, state %v", env, env.TxnValue(key{}))
	}
}

func TestAttributionCheck(t *testing.T) {
	ctx := context.Background()
	ip := netip.MustParseAddr("192.0.2.7")
	var a AttributionCheck
	unattributedRelay := &Envelope{Listener: "relay", Attribution: Attribution{ClientIP: ip}}
	if d := a.Mail(ctx, unattributedRelay); d.Action != Accept {
		t.Fatalf("MAIL on the relay port is decided at RCPT, got %v", d)
	}
	d := a.Rcpt(ctx, unattributedRelay, "victim@example.net")
	if d.Action != Reject || d.Code != 550 || d.EnhancedString() != "5.7.64" || d.Rule != "attribution" {
		t.Fatalf("unattributed RCPT: %v", d)
	}
	if len(d.Figures) == 0 || d.Figures[1].Value != "192.0.2.7" {
		t.Fatalf("the decision must carry the figures it saw: %+v", d.Figures)
	}
	sub := &Envelope{Listener: "submission", Attribution: Attribution{ClientIP: ip}}
	if d := a.Mail(ctx, sub); d.Code != 530 || d.EnhancedString() != "5.7.57" {
		t.Fatalf("unauthenticated submission: %v", d)
	}
	ok := &Envelope{Listener: "submission", Attribution: Attribution{TenantID: 1, Method: "auth"}}
	if a.Mail(ctx, ok).Action != Accept || a.Rcpt(ctx, ok, "x@example.net").Action != Accept {
		t.Fatal("attributed mail must pass")
	}
	if s := d.String(); s == "" || s == "accept" {
		t.Fatalf("String of a refusal: %q", s)
	}
}

type probationState struct {
	onProbation bool
	today       int64
}

func (p probationState) ConnectorOnProbation(int64) bool { return p.onProbation }
func (p probationState) MessagesToday(int64) int64       { return p.today }

func TestProbationCheck(t *testing.T) {
	ctx := context.Background()
	env := &Envelope{Attribution: Attribution{TenantID: 1, ConnectorID: 7, Connector: "onprem"}}
	for _, tc := range []struct {
		st   probationState
		want Action
	}{
		{probationState{true, 99}, Accept},
		{probationState{true, 100}, Defer},
		{probationState{false, 5000}, Accept},
	} {
		d := ProbationCheck{Quota: 100, Connectors: tc.st}.Mail(ctx, env)
		if d.Action != tc.want {
			t.Errorf("%+v: %v, want %v", tc.st, d, tc.want)
		}
		if d.Action == Defer && (d.Code != 451 || d.EnhancedString() != "4.7.711" || len(d.Figures) != 3) {
			t.Errorf("deferral %v", d)
		}
	}
	if d := (ProbationCheck{Quota: 0, Connectors: probationState{true, 0}}).Mail(ctx, &Envelope{}); d.Action != Accept {
		t.Errorf("no connector: %v", d)
	}
}

func TestValidPoolName(t *testing.T) {
	for name, want := range map[string]bool{
		"normal": true, "high-risk": true, "shop-2": true, strings.Repeat("a", 32): true,
		"": false, strings.Repeat("a", 33): false, "Shop": false, "a_b": false, "a b": false, "a.b": false, "é": false,
	} {
		if got := ValidPoolName(name); got != want {
			t.Errorf("ValidPoolName(%q) = %v, want %v", name, got, want)
		}
	}
}
