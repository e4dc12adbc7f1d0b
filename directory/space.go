package directory

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
)

// Space is the size of a set of sender IP ranges: IPv4 addresses, and IPv6
// /64 networks (the unit one site is given, so a /128 counts as a whole
// /64). Ranges that overlap are counted once.
type Space struct {
	IPv4       uint64 `json:"ipv4_addresses"`
	IPv6Nets64 uint64 `json:"ipv6_64s"`
}

// SpaceOf measures ranges (any order, overlaps allowed).
func SpaceOf(ranges []netip.Prefix) Space {
	ps := make([]netip.Prefix, 0, len(ranges))
	for _, p := range ranges {
		if !p.IsValid() {
			continue
		}
		if p.Addr().Is6() && p.Bits() > 64 {
			p = netip.PrefixFrom(p.Addr(), 64)
		}
		ps = append(ps, p.Masked())
	}
	// Two prefixes are either disjoint or one contains the other. Sorted by
	// first address (the wider first on a tie), a prefix inside any kept
	// one is inside the last kept one.
	slices.SortFunc(ps, comparePrefix)
	var s Space
	var last netip.Prefix
	for _, p := range ps {
		if last.IsValid() && last.Bits() <= p.Bits() && last.Contains(p.Addr()) {
			continue
		}
		last = p
		if p.Addr().Is4() {
			s.IPv4 = addSat(s.IPv4, 1<<(32-p.Bits()))
		} else {
			s.IPv6Nets64 = addSat(s.IPv6Nets64, pow2(64-p.Bits()))
		}
	}
	return s
}

// pow2 is 2^n, saturated at the largest uint64 (2^64 would wrap to 0).
func pow2(n int) uint64 {
	if n >= 64 {
		return math.MaxUint64
	}
	return 1 << n
}

func addSat(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

// SpaceCap bounds the address space all of a tenant's live connectors
// cover together. A tenant admin cannot go past it; an operator can (see
// CreateConnectorWithin). Zero in a family allows no ranges of it.
type SpaceCap struct {
	IPv4       uint64
	IPv6Nets64 uint64
}

// ErrOverCap is wrapped by the *SpaceError CreateConnectorWithin returns.
var ErrOverCap = errors.New("over the tenant's connector address space cap")

// SpaceError says which family went over the cap and by how much: what the
// new connector asks for, what the tenant's connectors cover already, and
// the cap.
type SpaceError struct {
	Family string // "IPv4" or "IPv6"
	Unit   string // "addresses" or "/64 networks"
	Key    string // the policy setting that holds the cap
	Asked  uint64 // the new connector's own ranges
	Used   uint64 // the tenant's live connectors before it
	Total  uint64 // both together, overlaps counted once
	Cap    uint64
}

func (e *SpaceError) Error() string {
	return fmt.Sprintf("%s: the connector asks for %d %s %s, which would bring the tenant's connectors to %d (they cover %d now); the cap is %d (%s): an operator can create the connector or raise the cap",
		ErrOverCap, e.Asked, e.Family, e.Unit, e.Total, e.Used, e.Cap, e.Key)
}

func (e *SpaceError) Unwrap() error { return ErrOverCap }

// checkSpace compares the tenant's space with and without the new ranges
// against limit. Ranges that add nothing (inside ranges the tenant has) pass
// even when an operator's connectors already took the tenant past the cap.
func checkSpace(existing, added []netip.Prefix, limit SpaceCap) error {
	before, asked := SpaceOf(existing), SpaceOf(added)
	after := SpaceOf(append(slices.Clone(existing), added...))
	switch {
	case after.IPv4 > limit.IPv4 && after.IPv4 > before.IPv4:
		return &SpaceError{Family: "IPv4", Unit: "addresses", Key: "connector_ipv4_addresses",
			Asked: asked.IPv4, Used: before.IPv4, Total: after.IPv4, Cap: limit.IPv4}
	case after.IPv6Nets64 > limit.IPv6Nets64 && after.IPv6Nets64 > before.IPv6Nets64:
		return &SpaceError{Family: "IPv6", Unit: "/64 networks", Key: "connector_ipv6_64s",
			Asked: asked.IPv6Nets64, Used: before.IPv6Nets64, Total: after.IPv6Nets64, Cap: limit.IPv6Nets64}
	}
	return nil
}

// OverlapError is the ErrConflict of a range that overlaps another
// tenant's connector. Its Error says only that: the other tenant's ranges
// are that tenant's business. Detail, for operators, names them.
type OverlapError struct {
	Range       netip.Prefix // the range asked for
	Other       netip.Prefix // the range it overlaps
	OtherTenant int64
}

func (e *OverlapError) Error() string {
	return fmt.Sprintf("%s: range %s overlaps a range already in use by another tenant", ErrConflict, e.Range)
}

// Detail is the message for operators.
func (e *OverlapError) Detail() string {
	return fmt.Sprintf("%s: range %s overlaps %s of tenant %d's connector", ErrConflict, e.Range, e.Other, e.OtherTenant)
}

func (e *OverlapError) Unwrap() error { return ErrConflict }
