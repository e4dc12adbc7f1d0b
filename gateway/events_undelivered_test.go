package gateway_test

import (
	"context"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/events"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/policy"
)

// A message accepted, deferred once, and then held because its tenant was
// blocked is never delivered: the tenant's webhook hears a bounced event
// for it with the cause "held" and the block's code, beside the DSN, so a
// tenant learns of every message that will not arrive, not only those a
// next hop refused.
func TestHeldMessageGivesBouncedEvent(t *testing.T) {
	var accept atomic.Bool
	var deferred atomic.Int32
	sink := startSink(t, devsink.Hooks{Rcpt: func(rcpt string) error {
		if !accept.Load() && strings.HasPrefix(rcpt, "someone") {
			deferred.Add(1)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	}})
	recv := newEventReceiver(t, "acme's secret, long enough")
	cfg := protectConfig(t, sink.Addr())
	cfg.Events.AllowedInternalWebhooks = config.Prefixes{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.Events.Webhooks = []config.EventWebhook{{Tenant: "acme", URL: recv.srv.URL + "/hook", Secret: recv.secret}}
	g := startWith(t, cfg, false, gateway.Options{Classifier: subjectClassifier})
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	if err := relayFrom(t, g, "127.0.0.2", "victim@acme.test", "queued before the block"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the first delivery attempt deferred", func() bool { return deferred.Load() > 0 })
	if _, _, err := g.Blocks.BlockTenant(context.Background(), blocks.Block{TenantID: acme.ID, Reason: blocks.ReasonThreshold,
		Rule: "tenant-threshold", Figures: []policy.Figure{{Name: "spam_bulk", Value: "20"}}}, "system"); err != nil {
		t.Fatal(err)
	}
	accept.Store(true)
	var held events.Event
	waitUntil(t, "a bounced event for the held message", func() bool {
		for _, e := range recv.events() {
			if e.Kind == events.Bounced && e.Cause == "held" {
				held = e
				return true
			}
		}
		return false
	})
	if held.TenantID != acme.ID || held.QueueID == "" || !strings.HasPrefix(held.Recipient, "someone") ||
		held.Code != "5.7.705" || held.Class != "held" || !strings.Contains(held.Reason, "stopped after acceptance") {
		t.Fatalf("held event = %+v", held)
	}
	for _, e := range recv.events() {
		if e.Kind == events.Delivered {
			t.Fatalf("the held message was also reported delivered: %+v", e)
		}
	}
}
