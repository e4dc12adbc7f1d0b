package policy

import (
	"context"
	"strings"

	"github.com/tollgate-mail/tollgate/nexthop"
)

// InternalDestination refuses a recipient whose domain is an address
// literal Tollgate will not deliver to. RFC 3463 X.1.2 is "bad destination
// system address": the address names no system that may receive this mail.
// Delivery fails MX and A results in the same ranges with the same code.
var InternalDestination = Decision{Action: Reject, Code: 550, Enhanced: [3]int{5, 1, 2},
	Text: "Destination address not allowed: internal or reserved network", Rule: "internal-destination"}

// InternalDestinationCheck refuses RCPT TO:<x@[127.0.0.1]> and every other
// address literal in a loopback, private, link-local, CGNAT, metadata or
// reserved range (package nexthop) that the operator did not allow, and
// literals that are not IP addresses at all. Domain names are judged at
// delivery, when their MX and A records are known.
type InternalDestinationCheck struct {
	Guard nexthop.Guard
}

// Name implements Check.
func (InternalDestinationCheck) Name() string { return "internal-destination" }

// Rcpt implements RcptChecker.
func (c InternalDestinationCheck) Rcpt(_ context.Context, _ *Envelope, rcpt string) Decision {
	domain := rcpt[strings.LastIndexByte(rcpt, '@')+1:]
	ip, literal, err := nexthop.Literal(domain)
	if !literal {
		return Accepted
	}
	d := InternalDestination
	if err != nil {
		d.Text += " (the address literal is not an IP address)"
		d.Figures = []Figure{{"literal", domain}}
		return d
	}
	if err := c.Guard.Check(ip); err != nil {
		d.Text += " (" + ip.String() + " is a " + nexthop.Classify(ip) + ")"
		d.Figures = []Figure{{"address", ip.String()}, {"range", nexthop.Classify(ip)}}
		return d
	}
	return Accepted
}
