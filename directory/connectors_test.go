package directory

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestConnectorsCreateAndMatch(t *testing.T) {
	forEachDir(t, testConnectorsCreateAndMatch)
}

func testConnectorsCreateAndMatch(t *testing.T, d *Directory) {
	ctx := t.Context()
	a := must[Tenant](t)(d.CreateTenant(ctx, By{}, "a", Licensed, 1))
	b := must[Tenant](t)(d.CreateTenant(ctx, By{}, "b", Licensed, 1))

	wide := must[Connector](t)(d.CreateConnector(ctx, By{Actor: "admin@a"}, a.ID, "wide", prefixes("10.0.0.0/8", "2001:db8::/32")))
	// Overlap within a tenant is allowed; input is masked, unmapped and deduplicated.
	narrow := must[Connector](t)(d.CreateConnector(ctx, By{Actor: "admin@a"}, a.ID, "narrow",
		prefixes("10.1.2.3/16", "::ffff:10.1.0.0/112", "2001:db8:1::/48")))
	if want := prefixes("10.1.0.0/16", "2001:db8:1::/48"); !reflect.DeepEqual(narrow.IPRanges, want) {
		t.Fatalf("ranges %v, want %v", narrow.IPRanges, want)
	}
	host := must[Connector](t)(d.CreateConnector(ctx, By{Actor: "admin@a"}, a.ID, "host", prefixes("10.1.2.3/32")))
	other := must[Connector](t)(d.CreateConnector(ctx, By{Actor: "admin@b"}, b.ID, "b-net", prefixes("192.0.2.0/24", "2001:db9::/48")))

	for ip, want := range map[string]int64{
		"10.200.0.1":            wide.ID,
		"10.1.9.9":              narrow.ID,
		"10.1.2.3":              host.ID,
		"::ffff:10.1.2.3":       host.ID,
		"2001:db8:ffff::1":      wide.ID,
		"2001:db8:1::25":        narrow.ID,
		"192.0.2.200":           other.ID,
		"2001:db9::1%eth0":      other.ID,
		"11.0.0.1":              0,
		"2001:dba::1":           0,
		"::1":                   0,
		"::ffff:192.0.2.1":      other.ID,
		"2001:db9:0:ffff::abcd": other.ID,
	} {
		c, tn, ok := d.ConnectorForIP(netip.MustParseAddr(ip))
		if want == 0 {
			if ok {
				t.Errorf("%s matched connector %d", ip, c.ID)
			}
			continue
		}
		if !ok || c.ID != want || tn.ID != c.TenantID {
			t.Errorf("%s: connector %d (tenant %d, ok %v), want %d", ip, c.ID, tn.ID, ok, want)
		}
	}
	if _, _, ok := d.ConnectorForIP(netip.Addr{}); ok {
		t.Error("zero Addr matched")
	}

	// Another tenant cannot claim any part of a's ranges.
	for _, r := range []string{"10.1.2.0/24", "10.0.0.0/8", "2001:db8:1:2::/64", "2001:db8::/32"} {
		_, err := d.CreateConnector(ctx, By{Actor: "admin@b"}, b.ID, "grab", prefixes("198.51.100.0/24", r))
		wantErr(t, err, ErrConflict, netip.MustParsePrefix(r).Masked().String())
	}
	// The error names the range asked for but not the other tenant's: that
	// is the other tenant's business. Its Detail, for operators, does.
	_, err := d.CreateConnector(ctx, By{Actor: "admin@b"}, b.ID, "grab", prefixes("10.200.0.0/16"))
	wantErr(t, err, ErrConflict, "10.200.0.0/16", "another tenant")
	var oe *OverlapError
	if strings.Contains(err.Error(), "10.0.0.0/8") || !errors.As(err, &oe) || oe.Other.String() != "10.0.0.0/8" || oe.OtherTenant != a.ID ||
		!strings.Contains(oe.Detail(), "10.0.0.0/8") {
		t.Fatalf("overlap error %v (%+v): want the other range in Detail only", err, oe)
	}
	_, err = d.CreateConnector(ctx, By{Actor: "admin@b"}, b.ID, "grab", prefixes("2001:db8:ff::/48"))
	wantErr(t, err, ErrConflict, "2001:db8:ff::/48")
	if strings.Contains(err.Error(), "2001:db8::/32") {
		t.Fatalf("overlap error reveals the other tenant's range: %v", err)
	}
	// Names are unique among a tenant's live connectors.
	_, err = d.CreateConnector(ctx, By{Actor: "admin@a"}, a.ID, "wide", prefixes("172.16.0.0/12"))
	wantErr(t, err, ErrConflict, "wide")

	for name, r := range map[string][]netip.Prefix{
		"empty":     nil,
		"zero":      {netip.Prefix{}},
		"too broad": prefixes("0.0.0.0/0"),
		"v6 broad":  prefixes("2000::/3"),
	} {
		_, err := d.CreateConnector(ctx, By{Actor: "admin@a"}, a.ID, name, r)
		wantErr(t, err, ErrInvalid, name)
	}
	_, err = d.CreateConnector(ctx, By{Actor: "admin@a"}, a.ID, "", prefixes("172.16.0.0/12"))
	wantErr(t, err, ErrInvalid)
	_, err = d.CreateConnector(ctx, By{Actor: "admin@a"}, 999, "x", prefixes("172.16.0.0/12"))
	wantErr(t, err, ErrNotFound, "999")
}

func TestDeleteConnector(t *testing.T) {
	forEachDir(t, testDeleteConnector)
}

func testDeleteConnector(t *testing.T, d *Directory) {
	ctx := t.Context()
	a := must[Tenant](t)(d.CreateTenant(ctx, By{}, "a", Licensed, 1))
	b := must[Tenant](t)(d.CreateTenant(ctx, By{}, "b", Licensed, 1))
	c := must[Connector](t)(d.CreateConnector(ctx, By{Actor: "admin@a"}, a.ID, "office", prefixes("198.51.100.0/24")))
	ip := netip.MustParseAddr("198.51.100.7")
	if _, _, ok := d.ConnectorForIP(ip); !ok {
		t.Fatal("live connector does not match")
	}

	wantErr(t, d.DeleteConnector(ctx, By{}, b.ID, c.ID), ErrNotFound) // not b's
	if err := d.DeleteConnector(ctx, By{}, a.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, d.DeleteConnector(ctx, By{}, a.ID, c.ID), ErrNotFound)
	if _, _, ok := d.ConnectorForIP(ip); ok {
		t.Fatal("deleted connector still matches")
	}
	list := must[[]Connector](t)(d.Connectors(ctx, a.ID))
	if len(list) != 1 || list[0].ID != c.ID || list[0].Live() || list[0].DeletedAt.Before(list[0].CreatedAt) ||
		!reflect.DeepEqual(list[0].IPRanges, c.IPRanges) || list[0].CreatedBy != "admin@a" {
		t.Fatalf("Connectors after delete = %+v", list)
	}

	// The name and the range are free again: for a, and for another tenant.
	must[Connector](t)(d.CreateConnector(ctx, By{Actor: "admin@a"}, a.ID, "office", prefixes("203.0.113.0/24")))
	moved := must[Connector](t)(d.CreateConnector(ctx, By{Actor: "admin@b"}, b.ID, "office", prefixes("198.51.100.0/25")))
	if got, tn, ok := d.ConnectorForIP(ip); !ok || got.ID != moved.ID || tn.ID != b.ID {
		t.Fatalf("after move: %+v %+v %v", got, tn, ok)
	}
	if list := must[[]Connector](t)(d.Connectors(ctx, a.ID)); len(list) != 2 || list[0].Live() || !list[1].Live() {
		t.Fatalf("Connectors = %+v", list)
	}
	_, err := d.Connectors(ctx, 999)
	wantErr(t, err, ErrNotFound)
}

// The snapshot hands out copies: a caller changing the result must not
// change what the next connection sees.
func TestConnectorForIPReturnsCopy(t *testing.T) {
	forEachDir(t, testConnectorForIPReturnsCopy)
}

func testConnectorForIPReturnsCopy(t *testing.T, d *Directory) {
	a := must[Tenant](t)(d.CreateTenant(t.Context(), By{}, "a", Licensed, 1))
	must[Connector](t)(d.CreateConnector(t.Context(), By{Actor: "me"}, a.ID, "x", prefixes("192.0.2.0/24")))
	ip := netip.MustParseAddr("192.0.2.1")
	c, _, _ := d.ConnectorForIP(ip)
	c.IPRanges[0] = netip.MustParsePrefix("0.0.0.0/0")
	if c2, _, _ := d.ConnectorForIP(ip); c2.IPRanges[0].String() != "192.0.2.0/24" {
		t.Fatal("snapshot mutated through returned connector")
	}
}

func TestSpaceOf(t *testing.T) {
	for _, c := range []struct {
		ranges []string
		want   Space
	}{
		{nil, Space{}},
		{[]string{"192.0.2.0/24"}, Space{IPv4: 256}},
		{[]string{"192.0.2.0/24", "192.0.2.128/25", "192.0.2.7/32"}, Space{IPv4: 256}}, // overlaps once
		{[]string{"192.0.2.0/24", "198.51.100.1/32"}, Space{IPv4: 257}},
		{[]string{"10.0.0.0/8", "11.0.0.0/8"}, Space{IPv4: 2 << 24}},
		{[]string{"2001:db8::1/128", "2001:db8::2/128"}, Space{IPv6Nets64: 1}}, // one /64
		{[]string{"2001:db8::/48", "2001:db8:0:1::/64", "2001:db9::5/128"}, Space{IPv6Nets64: 65537}},
		{[]string{"2001:db8::/32", "192.0.2.1/32"}, Space{IPv4: 1, IPv6Nets64: 1 << 32}},
	} {
		if got := SpaceOf(prefixes(c.ranges...)); got != c.want {
			t.Errorf("SpaceOf(%v) = %+v, want %+v", c.ranges, got, c.want)
		}
	}
}

func TestConnectorSpaceCap(t *testing.T) { forEachDir(t, testConnectorSpaceCap) }

func testConnectorSpaceCap(t *testing.T, d *Directory) {
	ctx := t.Context()
	a := must[Tenant](t)(d.CreateTenant(ctx, By{}, "a", Licensed, 1))
	limit := SpaceCap{IPv4: 512, IPv6Nets64: 2}
	must[Connector](t)(d.CreateConnectorWithin(ctx, By{Actor: "admin@a"}, a.ID, "one", prefixes("192.0.2.0/24", "2001:db8::1/128"), limit))
	// Overlapping its own ranges costs nothing.
	must[Connector](t)(d.CreateConnectorWithin(ctx, By{Actor: "admin@a"}, a.ID, "same", prefixes("192.0.2.0/25", "2001:db8::2/128"), limit))
	two := must[Connector](t)(d.CreateConnectorWithin(ctx, By{Actor: "admin@a"}, a.ID, "two", prefixes("198.51.100.0/24"), limit))
	_, err := d.CreateConnectorWithin(ctx, By{Actor: "admin@a"}, a.ID, "three", prefixes("203.0.113.7/32"), limit)
	var se *SpaceError
	if !errors.Is(err, ErrOverCap) || !errors.As(err, &se) || se.Family != "IPv4" || se.Asked != 1 || se.Used != 512 || se.Total != 513 || se.Cap != 512 {
		t.Fatalf("over the IPv4 cap: %v (%+v)", err, se)
	}
	for _, want := range []string{"asks for 1 IPv4", "513", "cap is 512", "connector_ipv4_addresses"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	_, err = d.CreateConnectorWithin(ctx, By{Actor: "admin@a"}, a.ID, "v6", prefixes("2001:db8:1::/63"), limit)
	if !errors.As(err, &se) || se.Family != "IPv6" || se.Asked != 2 || se.Total != 3 {
		t.Fatalf("over the IPv6 cap: %v", err)
	}
	// An operator's connector is not capped; deleting frees room.
	must[Connector](t)(d.CreateConnector(ctx, By{Actor: "operator:root"}, a.ID, "op", prefixes("10.0.0.0/8")))
	if sp := must[Space](t)(d.ConnectorSpace(ctx, a.ID)); sp.IPv4 != 512+1<<24 || sp.IPv6Nets64 != 1 {
		t.Fatalf("space %+v", sp)
	}
	if err := d.DeleteConnector(ctx, By{}, a.ID, two.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateConnectorWithin(ctx, By{Actor: "admin@a"}, a.ID, "four", prefixes("10.1.0.0/16"), limit); err != nil {
		t.Fatalf("a range inside the operator's connector adds nothing: %v", err)
	}
}
