package gateway_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
)

// A tenant given a dedicated pool sends from that pool's source address;
// another tenant's mail still leaves from the normal pool's. Over real SMTP
// on loopback: the sink records each session's remote address.
func TestDedicatedPoolSourceAddress(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	cfg.Delivery.Pools = map[string]config.Pool{
		"normal":      {SourceAddresses: config.Addrs{netip.MustParseAddr("127.0.0.3")}},
		"shop-direct": {SourceAddresses: config.Addrs{netip.MustParseAddr("127.0.0.2")}, MaxPerDestination: 1},
	}
	g := start(t, cfg, false)
	shop := seedTenantWithConnector(t, g, "shop", "shop.test", "127.0.0.20/32")
	seedTenantWithConnector(t, g, "other", "other.test", "127.0.0.21/32")
	if _, _, err := g.Directory.SetTenantPool(context.Background(), directory.By{Actor: "test"}, shop.ID, "shop-direct"); err != nil {
		t.Fatal(err)
	}

	if err := send(dialFrom(t, "127.0.0.20", addr(g, "relay")), "a@shop.test", []string{"x@example.net"}, testMessage("shop", "hi")); err != nil {
		t.Fatal(err)
	}
	if err := send(dialFrom(t, "127.0.0.21", addr(g, "relay")), "b@other.test", []string{"y@example.net"}, testMessage("other", "hi")); err != nil {
		t.Fatal(err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 2 }) {
		t.Fatalf("want 2 deliveries, sink has %d", sink.Count())
	}
	for _, m := range sink.Messages() {
		want := "127.0.0.3:"
		if m.From == "a@shop.test" {
			want = "127.0.0.2:"
		}
		if !strings.HasPrefix(m.Client, want) {
			t.Errorf("mail from %s came from %s, want %s…", m.From, m.Client, want)
		}
	}
	waitQueueEmpty(t, g)
}
