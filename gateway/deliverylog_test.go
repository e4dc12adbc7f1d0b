package gateway_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/gateway"
)

// syncBuffer is a log destination safe for the gateway's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Every delivery attempt writes one INFO line with the queue id, tenant,
// next hop, result, reply and duration: a delivered message and one the
// next hop defers.
func TestDeliveryAttemptLogLine(t *testing.T) {
	sink := startSink(t, devsink.Hooks{Rcpt: func(rcpt string) error {
		if strings.HasPrefix(rcpt, "later@") {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "mailbox busy, try later"}
		}
		return nil
	}})
	cfg := testConfig(t, sink.Addr())
	cfg.Dev = true
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	g, err := gateway.StartWith(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)), gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })

	c := dial(t, addr(g, "relay"))
	if err := send(c, "a@demo.test", []string{"someone@example.net"}, testMessage("hello", "delivered")); err != nil {
		t.Fatal(err)
	}
	if err := send(c, "a@demo.test", []string{"later@example.net"}, testMessage("hello", "deferred")); err != nil {
		t.Fatal(err)
	}
	line := func(result string) string {
		re := regexp.MustCompile(`(?m)^.*level=INFO msg="delivery attempt" .*queue_id=\S+ tenant=demo tenant_id=\d+ next_hop=127\.0\.0\.1\S* result=` + result + ` reply=[^\n]* duration=\d[^\n]*$`)
		deadline := time.Now().Add(waitFor)
		for time.Now().Before(deadline) {
			if m := re.FindString(logs.String()); m != "" {
				return m
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no delivery attempt line with result=%s in the log:\n%s", result, logs.String())
		return ""
	}
	if l := line("delivered"); !strings.Contains(l, "reply=\"250") {
		t.Errorf("delivered line without the next hop's reply: %s", l)
	}
	if l := line("deferred"); !strings.Contains(l, "451") || !strings.Contains(l, "mailbox busy") || !strings.Contains(l, "next_attempt=") {
		t.Errorf("deferred line without the reply or the next attempt: %s", l)
	}
}
