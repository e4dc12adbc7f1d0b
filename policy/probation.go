package policy

import (
	"context"
	"strconv"
)

// ProbationSource is what ProbationCheck reads of the directory.
type ProbationSource interface {
	ConnectorOnProbation(id int64) bool
	MessagesToday(id int64) int64
}

// ProbationCheck holds a new connector to a small daily quota until an
// admin confirms it with a fresh second factor: a stolen admin password
// alone does not open a spam channel. It defers (4xx) rather than refuses,
// so mail held back flows once the connector is confirmed.
type ProbationCheck struct {
	Quota      int64 // messages per UTC day while on probation
	Connectors ProbationSource
}

// Name implements Check.
func (ProbationCheck) Name() string { return "connector-probation" }

// Mail implements MailChecker.
func (p ProbationCheck) Mail(_ context.Context, env *Envelope) Decision {
	if env.ConnectorID == 0 || !p.Connectors.ConnectorOnProbation(env.ConnectorID) {
		return Accepted
	}
	n := p.Connectors.MessagesToday(env.ConnectorID)
	if n < p.Quota {
		return Accepted
	}
	return Decision{
		Action: Defer, Code: 451, Enhanced: [3]int{4, 7, 711},
		Text: "Connector on probation has reached its daily quota; an admin must confirm it",
		Rule: "connector-probation",
		Figures: []Figure{{"connector", env.Connector}, {"messages_today", strconv.FormatInt(n, 10)},
			{"quota", strconv.FormatInt(p.Quota, 10)}},
	}
}
