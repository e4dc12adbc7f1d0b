package policy

import "context"

// Method is how a connection was attributed to a tenant.
type Method string

// The attribution methods.
const (
	MethodNone          Method = ""               // not attributed
	MethodAuth          Method = "auth"           // an SMTP AUTH login (a user's password or app password)
	MethodConnectorIP   Method = "connector-ip"   // a connector's sender address ranges
	MethodConnectorCert Method = "connector-cert" // a connector's TLS client certificate name
)

// Listener is the kind of SMTP listener a connection came in on.
type Listener string

// The listener kinds.
const (
	Relay       Listener = "relay"       // connectors, port 25
	Submission  Listener = "submission"  // STARTTLS + AUTH, port 587
	Submissions Listener = "submissions" // implicit TLS + AUTH, port 465
)

// Attribution refusals. Tollgate relays only for tenants: a connection that
// neither authenticated nor matched a connector is refused for every
// recipient, so Tollgate is never an open relay.
var (
	// RelayDenied is the hosted service's 5.7.64 TenantAttribution refusal.
	RelayDenied = Decision{
		Action: Reject, Code: 550, Enhanced: [3]int{5, 7, 64},
		Text: "Relay access denied, connection not attributed to any tenant",
		Rule: "attribution",
	}
	// AuthRequired answers an unauthenticated MAIL FROM on a submission port.
	AuthRequired = Decision{
		Action: Reject, Code: 530, Enhanced: [3]int{5, 7, 57},
		Text: "Client was not authenticated to send mail; use SMTP AUTH on this port",
		Rule: "attribution",
	}
)

// AttributionCheck refuses unattributed mail. On the submission ports it asks
// for AUTH at MAIL FROM; on the relay port, where connectors are matched by
// address or certificate, it refuses each recipient with 5.7.64.
type AttributionCheck struct{}

// Name implements Check.
func (AttributionCheck) Name() string { return "attribution" }

// Mail implements MailChecker.
func (AttributionCheck) Mail(_ context.Context, env *Envelope) Decision {
	if !env.Attributed() && env.Listener != Relay {
		d := AuthRequired
		d.Figures = []Figure{{"listener", string(env.Listener)}, {"client_ip", env.ClientIP.String()}}
		return d
	}
	return Accepted
}

// Rcpt implements RcptChecker.
func (AttributionCheck) Rcpt(_ context.Context, env *Envelope, _ string) Decision {
	if !env.Attributed() {
		d := RelayDenied
		d.Figures = []Figure{{"listener", string(env.Listener)}, {"client_ip", env.ClientIP.String()}}
		return d
	}
	return Accepted
}
